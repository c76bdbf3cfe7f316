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


def check_layer(layer: torch.nn.Module, input_shape: tuple | list, expected_output_shape: tuple, dtype=torch.float32,
                tmp_path: Path | None = None, inputs_as: str = "one", custom_objects: dict | None = None) -> torch.Tensor:
    """The shared check every layer gets: build, output shape, backward, config round trip, save/load.

    `input_shape` is one batch-first shape, or a list of them for a layer of several inputs, given
    as one list argument (`inputs_as="list"`, like Add or Attention) or as positional arguments
    (`inputs_as="args"`, like TransformerDecoder).
    """
    from ember.layers.serialization import deserialize_layer, serialize_layer

    shapes_list = input_shape if inputs_as != "one" else [input_shape]
    xs = [torch.randn(shape) if dtype.is_floating_point else torch.randint(0, 5, shape) for shape in shapes_list]

    def call(module, values):
        return module(values[0]) if inputs_as == "one" else module(values) if inputs_as == "list" else module(*values)

    output = call(layer, xs)
    assert tuple(output.shape) == expected_output_shape
    if inputs_as == "one":
        assert layer.compute_output_shape((None,) + tuple(input_shape[1:])) == (None,) + expected_output_shape[1:]
    if any(p.requires_grad for p in layer.parameters()):
        output.float().sum().backward()
        assert all(p.grad is not None for p in layer.parameters() if p.requires_grad)
    rebuilt = type(layer).from_config(layer.get_config()) if custom_objects is None else \
        deserialize_layer(serialize_layer(layer), custom_objects)
    assert rebuilt.get_config() == layer.get_config()
    copy = deserialize_layer(serialize_layer(layer), custom_objects)
    if layer.weights:
        copy.set_weights(layer.get_weights())
    layer.eval()
    copy.eval()
    torch.testing.assert_close(call(copy, xs), call(layer, xs))
    if tmp_path is not None:
        dtype_name = str(dtype).replace("torch.", "")
        symbolic = [ember.Input(shape[1:], dtype=dtype_name) for shape in shapes_list]
        model = ember.Model(symbolic if inputs_as != "one" else symbolic[0], call(layer, symbolic))
        model.save(tmp_path / "layer.ember")
        loaded = ember.load_model(tmp_path / "layer.ember", custom_objects=custom_objects)
        arrays = [x.numpy() for x in xs] if inputs_as != "one" else xs[0].numpy()
        np.testing.assert_allclose(loaded.predict(arrays, verbose=0), model.predict(arrays, verbose=0),
                                   rtol=1e-5, atol=1e-6)
    return output


def blob_classifier(**compile_arguments):
    """A seeded 4 -> 16 relu -> 3 softmax classifier for `blobs`, compiled with adam and accuracy."""
    ember.utils.set_random_seed(0)
    model = ember.Sequential([ember.layers.Input((4,)), ember.layers.Dense(16, activation="relu"),
                              ember.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], **compile_arguments)
    return model
