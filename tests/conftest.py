"""Shared fixtures: a fixed seed per test, tiny data, and the real-data directory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import ember


@pytest.fixture(autouse=True)
def _seed_and_names():
    ember.utils.set_random_seed(0)
    ember.backend.clear_session()
    yield


@pytest.fixture
def real_data_dir() -> Path:
    """`EMBER_DATA_DIR` for tests on the real datasets: they fail in CI when it is missing, else skip."""
    value = os.environ.get("EMBER_DATA_DIR")
    if value and Path(value).is_dir():
        return Path(value)
    if os.environ.get("CI") == "true":
        pytest.fail("EMBER_DATA_DIR is not set to the shared datasets folder; .ci/run must set it.")
    pytest.skip("real datasets not available (set EMBER_DATA_DIR)")


@pytest.fixture
def blobs():
    """A small, separable 3-class problem: (x (300, 4) float32, y (300,) int64)."""
    rng = np.random.default_rng(0)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    y = rng.integers(0, 3, size=300)
    x = centers[y] + rng.normal(0, 0.5, size=(300, 4)).astype(np.float32)
    return x.astype(np.float32), y.astype(np.int64)


def check_layer(layer: torch.nn.Module, input_shape: tuple, expected_output_shape: tuple, dtype=torch.float32,
                tmp_path: Path | None = None) -> torch.Tensor:
    """The shared check every layer gets: build, output shape, backward, config round trip, save/load."""
    from ember.layers.serialization import deserialize_layer, serialize_layer

    x = torch.randn(input_shape) if dtype.is_floating_point else torch.randint(0, 5, input_shape)
    output = layer(x)
    assert tuple(output.shape) == expected_output_shape
    assert layer.compute_output_shape((None,) + tuple(input_shape[1:])) == (None,) + expected_output_shape[1:]
    if any(p.requires_grad for p in layer.parameters()):
        output.float().sum().backward()
        assert all(p.grad is not None for p in layer.parameters() if p.requires_grad)
    rebuilt = type(layer).from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()
    copy = deserialize_layer(serialize_layer(layer))
    if layer.weights:
        copy.set_weights(layer.get_weights())
    layer.eval()
    copy.eval()
    torch.testing.assert_close(copy(x), layer(x))
    if tmp_path is not None:
        model = ember.Sequential([ember.Input(input_shape[1:], dtype=str(dtype).replace("torch.", "")), layer])
        model.save(tmp_path / "layer.ember")
        loaded = ember.load_model(tmp_path / "layer.ember")
        np.testing.assert_allclose(loaded.predict(x.numpy(), verbose=0), model.predict(x.numpy(), verbose=0),
                                   rtol=1e-5, atol=1e-6)
    return output


def blob_classifier(**compile_arguments):
    """A seeded 4 -> 16 relu -> 3 softmax classifier for `blobs`, compiled with adam and accuracy."""
    ember.utils.set_random_seed(0)
    model = ember.Sequential([ember.layers.Input((4,)), ember.layers.Dense(16, activation="relu"),
                              ember.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], **compile_arguments)
    return model
