"""model.export: ONNX (checked with onnxruntime) and torch.export programs equal ember's predictions
within 1e-5, for any batch size."""

import numpy as np
import pytest
import torch

import ember
from ember import layers

rng = np.random.default_rng(0)


def mlp():
    return ember.Sequential([ember.Input((20,)), layers.Dense(32, activation="relu"), layers.Dropout(0.5),
                             layers.Dense(3, activation="softmax")])


def cnn():
    """The MNIST example's convnet, narrower, with batch normalization."""
    return ember.Sequential([ember.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
                             layers.Conv2D(16, 3, activation="relu"), layers.BatchNormalization(), layers.MaxPooling2D(),
                             layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")])


def lstm_classifier():
    """The IMDB example's model, smaller: masked padding, an LSTM, a sigmoid."""
    return ember.Sequential([ember.Input((30,), dtype="int64"), layers.Embedding(100, 16, mask_zero=True),
                             layers.LSTM(12), layers.Dense(1, activation="sigmoid")])


def padded_reviews(count):
    tokens = rng.integers(1, 100, (count, 30))
    for row, length in enumerate(rng.integers(3, 30, count)):
        tokens[row, :30 - length] = 0   # pre-padding, as pad_sequences does
    return tokens


CASES = {"mlp": (mlp, lambda n: rng.random((n, 20)).astype("float32")),
         "cnn": (cnn, lambda n: rng.random((n, 28, 28, 1)).astype("float32")),
         "lstm": (lstm_classifier, padded_reviews)}


def _trained(name):
    build, data = CASES[name]
    model = build()
    model.compile("adam", "binary_crossentropy" if name == "lstm" else "sparse_categorical_crossentropy")
    targets = rng.integers(0, 2 if name == "lstm" else 3, 16)
    model.fit(data(16), targets, epochs=1, verbose=0)   # moving statistics and weights away from their start
    return model, data


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_equals_ember_for_any_batch_size(name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model, data = _trained(name)
    path = model.export(tmp_path / f"{name}.onnx", format="onnx")
    session = ort.InferenceSession(path)
    input_name = session.get_inputs()[0].name
    for batch in (1, 7):
        x = data(batch)
        np.testing.assert_allclose(session.run(None, {input_name: x})[0], model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_a_torch_export_program_equals_ember(name, tmp_path):
    model, data = _trained(name)
    model.train()
    program = torch.export.load(model.export(tmp_path / f"{name}.pt2", format="torch")).module()
    x = data(5)
    np.testing.assert_allclose(program(torch.as_tensor(x)).detach().numpy(), model.predict(x, verbose=0), atol=1e-5)
    assert model.training   # left as it was, weights still Variables
    assert all(type(w).__name__ == "Variable" for w in model.weights)


def test_export_errors_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'tf_saved_model'.*onnx, torch"):
        mlp().export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(ValueError, match="does not know its input shape yet.*input_signature"):
        ember.Sequential([layers.Dense(2)]).export(tmp_path / "m.pt2", format="torch")
    unbuilt = ember.Sequential([layers.Dense(2)])
    program = torch.export.load(unbuilt.export(tmp_path / "m.pt2", format="torch",
                                               input_signature=np.zeros((3, 4), "float32"))).module()
    assert program(torch.ones(6, 4)).shape == (6, 2)
