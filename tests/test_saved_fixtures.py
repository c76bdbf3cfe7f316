"""Files saved by an earlier ember (tests/fixtures/saved, written at commit 66f4197) load unchanged:
same architecture, same predictions, compile settings and optimizer state back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import ember
from ember import models

SAVED = Path(__file__).parent / "fixtures" / "saved"


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    return load_file(str(SAVED / "expected.safetensors"))


def test_saved_mlp_predicts_the_same_and_keeps_training(expected):
    model = ember.load_model(SAVED / "mlp.ember")
    assert isinstance(model, ember.Sequential) and [type(l).__name__ for l in model.layers] == [
        "Dense", "BatchNormalization", "Dropout", "Dense"]
    np.testing.assert_allclose(model.predict(expected["mlp_x"], verbose=0), expected["mlp_y"], rtol=1e-5, atol=1e-6)
    assert model.optimizer.iterations == 4 and type(model.optimizer).__name__ == "Adam"
    history = model.fit(expected["mlp_x"], np.zeros(32, "int64"), epochs=1, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "accuracy"} and model.optimizer.iterations == 8


def test_saved_functional_model_with_two_inputs_and_outputs(expected):
    model = ember.load_model(SAVED / "functional.ember")
    assert model.input_names == ["a", "b"] and len(model.outputs) == 2
    first, second = model.predict([expected["functional_a"], expected["functional_b"]], verbose=0)
    np.testing.assert_allclose(first, expected["functional_y0"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, expected["functional_y1"], rtol=1e-5, atol=1e-6)
    assert model.get_compile_config()["loss_weights"] == [1.0, 0.5]


def test_saved_masked_bidirectional_lstm(expected):
    model = ember.load_model(SAVED / "text_lstm.ember")
    np.testing.assert_allclose(model.predict(expected["text_x"], verbose=0), expected["text_y"], rtol=1e-5,
                               atol=1e-6)


def test_saved_test_time_augmentation_wrapper(expected):
    model = ember.load_model(SAVED / "tta_cnn.ember")
    assert isinstance(model, models.TestTimeAugmentation)
    np.testing.assert_allclose(model.predict(expected["tta_x"], verbose=0), expected["tta_y"], rtol=1e-5, atol=1e-6)


def test_saved_gan_generates_the_same_samples(expected):
    gan = ember.load_model(SAVED / "gan.ember")
    assert isinstance(gan, ember.gan.GAN) and gan.ema_decay == 0.9
    np.testing.assert_allclose(gan.generate(noise=expected["gan_noise"]), expected["gan_samples"], rtol=1e-5,
                               atol=1e-6)
