import numpy as np
import pytest
import torch

import ember
from ember import layers


def test_sequential_builds_from_input_shape_and_add(blobs):
    model = ember.Sequential()
    model.add(layers.Dense(16, activation="relu", input_shape=(4,)))
    model.add(layers.Dense(3, activation="softmax"))
    assert model.built and model.count_params() == 4 * 16 + 16 + 16 * 3 + 3
    assert model.output_shape == (None, 3)
    assert model.get_layer("dense_1") is model.layers[1] and model.get_layer(index=0) is model.layers[0]


def test_sequential_builds_lazily_from_first_data(blobs):
    x, y = blobs
    model = ember.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    assert not model.built
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.layers[0].kernel.shape == (4, 8)


def test_input_dim_and_input_element():
    a = ember.Sequential([layers.Dense(2, input_dim=5)])
    b = ember.Sequential([ember.Input(shape=(5,)), layers.Dense(2)])
    assert a.input_shape == b.input_shape == (None, 5)


def test_plain_torch_module_is_a_layer(blobs):
    x, y = blobs
    model = ember.Sequential([layers.Input((4,)), torch.nn.Linear(4, 8), torch.nn.ReLU(), layers.Dense(3)])
    assert model.output_shape == (None, 3)
    model.compile(ember.optimizers.Adam(0.01), ember.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_sequential_is_a_torch_module_usable_in_plain_code():
    model = ember.Sequential([layers.Input((3,)), layers.Dense(2)])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(4, 3)).square().mean()
    loss.backward()
    optimizer.step()
    assert set(model.state_dict()) == {"sequence.0.kernel", "sequence.0.bias"}


def test_pop_and_duplicate_names():
    model = ember.Sequential([layers.Input((3,)), layers.Dense(2, name="a"), layers.Dense(2, name="b")])
    assert model.pop().name == "b" and len(model.layers) == 1
    with pytest.raises(ValueError, match="already has a layer named 'a'"):
        model.add(layers.Dense(2, name="a"))


def test_adding_an_incompatible_layer_names_it_and_keeps_the_model():
    model = ember.Sequential([layers.Input((28, 28))])
    with pytest.raises(ValueError, match="Conv2D 'conv2d' expects 4-D input"):
        model.add(layers.Conv2D(4, 3))
    assert len(model.layers) == 0


def test_summary_lists_layers_shapes_and_totals(capsys):
    model = ember.Sequential([layers.Dense(128, activation="relu", input_shape=(784,)), layers.Dense(10)])
    model.summary()
    text = capsys.readouterr().out
    assert "dense (Dense)" in text and "(None, 128)" in text and "100,480" in text
    assert "Total params: 101,770" in text


def test_weights_round_trip_between_models():
    a = ember.Sequential([layers.Input((3,)), layers.Dense(4), layers.BatchNormalization(), layers.Dense(1)])
    b = ember.Sequential([layers.Input((3,)), layers.Dense(4), layers.BatchNormalization(), layers.Dense(1)])
    b.set_weights(a.get_weights())
    x = np.random.rand(5, 3).astype("float32")
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0))
    assert [w.shape for w in a.get_weights()] == [(3, 4), (4,), (4,), (4,), (4,), (4,), (4, 1), (1,)]
