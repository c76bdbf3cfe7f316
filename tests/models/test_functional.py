import numpy as np
import pytest
import torch

import ember
from ember import layers


def two_input_model():
    image = ember.Input(shape=(6,), name="features")
    meta = ember.Input(shape=(2,), name="meta")
    x = layers.Dense(8, activation="relu")(image)
    merged = layers.Concatenate()([x, meta])
    score = layers.Dense(1, activation="sigmoid", name="score")(merged)
    category = layers.Dense(3, activation="softmax", name="category")(merged)
    return ember.Model(inputs=[image, meta], outputs=[score, category])


def test_functional_model_with_two_inputs_and_two_outputs_trains():
    model = two_input_model()
    assert isinstance(model, ember.models.Functional) and model.output_names == ["score", "category"]
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(200, 6)).astype("float32"), rng.normal(size=(200, 2)).astype("float32")
    y1, y2 = (x1[:, 0] > 0).astype("float32"), (x2[:, 0] > 0).astype("int64") + (x1[:, 1] > 0)
    model.compile(ember.optimizers.Adam(0.01),
                  loss={"score": "binary_crossentropy", "category": "sparse_categorical_crossentropy"},
                  loss_weights={"score": 1.0, "category": 0.5},
                  metrics={"score": ["accuracy"], "category": ["accuracy"]})
    history = model.fit({"features": x1, "meta": x2}, {"score": y1, "category": y2}, epochs=20, verbose=0)
    keys = set(history.history)
    assert {"loss", "score_loss", "category_loss", "score_accuracy", "category_accuracy"} <= keys
    assert history.history["score_accuracy"][-1] > 0.85
    score, category = model.predict([x1, x2], verbose=0)
    assert score.shape == (200, 1) and category.shape == (200, 3)


def test_shared_layer_uses_one_set_of_weights():
    a, b = ember.Input((4,)), ember.Input((4,))
    shared = layers.Dense(3)
    model = ember.Model([a, b], layers.Subtract()([shared(a), shared(b)]))
    assert model.count_params() == 15
    x = np.random.rand(2, 4).astype("float32")
    np.testing.assert_allclose(model.predict([x, x], verbose=0), 0, atol=1e-6)


def test_model_used_as_a_layer():
    inner_input = ember.Input((4,))
    inner = ember.Model(inner_input, layers.Dense(2)(inner_input))
    outer_input = ember.Input((4,))
    outer = ember.Model(outer_input, layers.Dense(1)(inner(outer_input)))
    assert outer.predict(np.ones((3, 4), "float32"), verbose=0).shape == (3, 1)


def test_outputs_must_come_from_the_inputs():
    a, b = ember.Input((2,)), ember.Input((2,))
    with pytest.raises(ValueError, match="not among the model's inputs"):
        ember.Model(a, layers.Add()([a, b]))


def test_functional_input_shape_mismatch_names_shapes():
    model = two_input_model()
    model.compile("adam", ["binary_crossentropy", "sparse_categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"expects input 0 shape \(None, 6\); got data of shape \(None, 5\)"):
        model.predict([np.zeros((2, 5)), np.zeros((2, 2))], verbose=0)


def test_symbolic_call_reports_layer_and_shapes():
    x = ember.Input((3,))
    with pytest.raises(ValueError, match="Add 'add' needs inputs of the same shape"):
        layers.Add()([layers.Dense(4)(x), layers.Dense(5)(x)])


def test_sequential_inputs_outputs_and_layer_output_give_a_feature_extractor():
    model = ember.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    extractor = ember.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    hidden, last = extractor.predict(x, verbose=0)
    assert hidden.shape == (5, 3) and (hidden >= 0).all()
    np.testing.assert_allclose(last, model.predict(x, verbose=0), rtol=1e-6)  # the same weights
    model.add(layers.Dense(1))
    assert model.outputs[0].shape == (None, 1) and model.layers[0].output.shape == (None, 3)
    with pytest.raises(ValueError, match="has not been called on a symbolic input"):
        _ = layers.Dense(2).output
    shared = layers.Dense(2)
    first, second = ember.Input((3,)), ember.Input((3,))
    shared(first), shared(second)
    with pytest.raises(ValueError, match="called at 2 places"):
        _ = shared.output


def test_a_torch_module_wrapper_trains_in_a_functional_model_and_refuses_to_be_saved_as_code(tmp_path):
    ember.utils.set_random_seed(0)
    inputs = ember.Input((4,))
    wrapper = layers.TorchModuleWrapper(torch.nn.Linear(4, 3))
    model = ember.Model(inputs, layers.Dense(1)(wrapper(inputs)))
    model.compile("adam", "mse")
    before = wrapper.module.weight.detach().clone()
    rng = np.random.default_rng(0)
    model.fit(rng.random((32, 4)).astype("float32"), rng.random((32, 1)).astype("float32"), verbose=0)
    assert not torch.equal(before, wrapper.module.weight) and model.count_params() == 4 * 3 + 3 + 3 + 1
    with pytest.raises(TypeError, match="save the weights|Save the weights"):
        model.save(tmp_path / "m.ember")
    model.save_weights(tmp_path / "m.weights.safetensors")
    with pytest.raises(ValueError, match="TorchModuleWrapper"):
        _ = ember.Sequential([layers.Input((4,)), torch.nn.Linear(4, 2)]).inputs
