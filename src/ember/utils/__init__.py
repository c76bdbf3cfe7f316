"""Utilities with Keras's names: `to_categorical`, `normalize`, `set_random_seed`, `pad_sequences`."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from ember.data.audio import audio_dataset_from_directory, load_wav
from ember.data.image import image_dataset_from_directory
from ember.data.py_dataset import PyDataset
from ember.models.plot import model_to_dot, plot_model
from ember.data.split import split_dataset
from ember.data.timeseries import timeseries_dataset_from_array
from ember.registry import custom_object_scope, get_custom_objects, register_keras_serializable
from ember.text import pad_sequences
from ember.utils.image import array_to_img, img_to_array, load_img, save_image_grid, save_img


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encodes integer class ids: shape `(n,)` (or `(n, 1)`) -> `(n, num_classes)`.

    >>> to_categorical([0, 2], 3)
    array([[1., 0., 0.], [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and (not np.issubdtype(y.dtype, np.number) or not np.all(np.equal(np.mod(y, 1), 0))):
        raise ValueError("to_categorical needs integer class ids.")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical needs non-negative class ids; got {y.min()}.")
    classes = int(num_classes) if num_classes is not None else (int(y.max()) + 1 if y.size else 0)
    if y.size and y.max() >= classes:
        raise ValueError(f"to_categorical: class id {y.max()} does not fit num_classes={classes}.")
    result = np.zeros(y.shape + (classes,), dtype=dtype)
    np.put_along_axis(result, y[..., None], 1, axis=-1)
    return result


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scales `x` so that each slice along `axis` has unit `order`-norm (zero slices stay zero)."""
    x = np.asarray(x, dtype=np.float64 if np.asarray(x).dtype == np.float64 else np.float32)
    norms = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def set_random_seed(seed: int) -> None:
    """Seeds Python's, NumPy's and torch's generators, so that a CPU run repeats exactly."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed needs a non-negative integer; got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


__all__ = ["to_categorical", "normalize", "set_random_seed", "pad_sequences", "timeseries_dataset_from_array",
           "load_img", "img_to_array", "array_to_img", "save_img", "save_image_grid",
           "image_dataset_from_directory", "audio_dataset_from_directory", "load_wav", "custom_object_scope", "get_custom_objects", "register_keras_serializable",
           "split_dataset", "PyDataset", "Sequence", "plot_model", "model_to_dot"]

Sequence = PyDataset  # Keras 2's keras.utils.Sequence, an alias in Keras 3
