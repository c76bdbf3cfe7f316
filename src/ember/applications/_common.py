"""What every `ember.applications` builder shares: the input, the classifier top or pooling, and
loading weights from a local safetensors file."""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
from safetensors.numpy import load_file

from ember import layers
from ember.models.functional import Functional

TOP_POOLINGS = (None, "avg", "max")


def image_input(input_shape: tuple | None, input_tensor: Any, default_size: int, include_top: bool,
                minimum: int, name: str) -> Any:
    """The model's input (a new `Input`, or the user's `input_tensor`), checking `input_shape`."""
    if input_tensor is not None:
        return input_tensor
    if input_shape is None:
        input_shape = (default_size, default_size, 3) if include_top else (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"{name}: input_shape is (height, width, channels); got {input_shape}.")
    if include_top and input_shape[:2] != (default_size, default_size):
        raise ValueError(f"{name}: with include_top=True the input is {default_size}x{default_size} (the classifier "
                         f"expects that); got input_shape={input_shape}. Pass include_top=False for other sizes.")
    if any(side is not None and side < minimum for side in input_shape[:2]):
        raise ValueError(f"{name}: images must be at least {minimum}x{minimum}; got input_shape={input_shape}.")
    return layers.Input(input_shape)


def check_arguments(name: str, weights: Any, pooling: Any, include_top: bool, classes: int) -> None:
    if pooling not in TOP_POOLINGS:
        raise ValueError(f"{name}: pooling is None, 'avg' or 'max'; got {pooling!r}.")
    if weights == "imagenet":
        raise ValueError(f"{name}: ember ships no pretrained weights and downloads none (weights='imagenet'). "
                         "Build with weights=None (random initialization), or pass the path of a .safetensors "
                         "file with converted weights (see ember.applications.load_weights).")
    if weights is not None and not (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights)):
        raise ValueError(f"{name}: weights is None or the path of a .safetensors file; {weights!r} does not exist.")
    if not isinstance(classes, int) or classes < 1:
        raise ValueError(f"{name}: classes must be a positive integer; got {classes!r}.")


def finish(name: str, inputs: Any, x: Any, include_top: bool, pooling: str | None, classes: int,
           classifier_activation: Any, weights: Any, top: Callable[[Any], Any] | None = None,
           pool_names: tuple[str, str] = ("avg_pool", "max_pool")) -> Functional:
    """Adds the classifier (`top`, by default global average pooling and a Dense `predictions`) or
    the pooling, builds the model and loads `weights` when given."""
    if include_top:
        if top is not None:
            x = top(x)
        else:
            x = layers.GlobalAveragePooling2D(name=pool_names[0])(x)
            x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name=pool_names[0])(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name=pool_names[1])(x)
    model = Functional(inputs, x, name=name)
    if weights is not None:
        load_weights(model, weights)
    return model


def load_weights(model: Any, path: str | os.PathLike) -> None:
    """Loads a safetensors file into `model`. Two layouts are read: tensors named
    `"<layer name>/<index>"` in Keras's array layout (each layer's `get_weights()` order, what a
    conversion from a Keras `.h5`/`.keras` file gives: layer names are Keras's), or ember's own
    `state_dict` names (what `model.save_weights` writes). Every weight must be present with its shape."""
    tensors = load_file(os.fspath(path))
    if not any("/" in key for key in tensors):
        model.load_weights(os.fspath(path))
        return
    for layer in model.layers:
        count = len(layer.get_weights())
        if not count:
            continue
        keys = [f"{layer.name}/{index}" for index in range(count)]
        missing = [key for key in keys if key not in tensors]
        if missing:
            raise ValueError(f"{os.fspath(path)} has no weights for layer '{layer.name}' (expected {keys}); "
                             "it was converted for another architecture or with other layer names.")
        layer.set_weights([np.asarray(tensors[key]) for key in keys])
