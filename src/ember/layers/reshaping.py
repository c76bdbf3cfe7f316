"""Spatial reshaping of channels-last images: UpSampling2D, ZeroPadding2D, Cropping2D."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember._validation import require_choice
from ember.layers.base import Layer, Shape
from ember.layers.conv import _tuple, channels_first, channels_last


def _pairs(value: int | tuple, argument: str, layer: Layer) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's padding/cropping forms: n, (rows, cols), or ((top, bottom), (left, right))."""
    if isinstance(value, int):
        value = ((value, value), (value, value))
    elif all(isinstance(v, int) for v in value):
        value = ((value[0], value[0]), (value[1], value[1]))
    pairs = tuple(tuple(int(v) for v in pair) for pair in value)
    if len(pairs) != 2 or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {argument} must be an int, (rows, cols) or "
                         f"((top, bottom), (left, right)) of non-negative ints; got {value!r}.")
    return pairs  # type: ignore[return-value]


class UpSampling2D(Layer):
    """Repeats rows and columns `size` times: `(batch, h, w, c)` -> `(batch, h * sh, w * sw, c)`."""

    def __init__(self, size: int | tuple = (2, 2), data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = _tuple(size, 2, "size", self)
        self.interpolation = require_choice("interpolation", interpolation, ("nearest", "bilinear"), self)
        self.data_format = data_format or "channels_last"

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = channels_first(inputs) if self.data_format == "channels_last" else inputs
        outputs = F.interpolate(x, scale_factor=self.size, mode=self.interpolation,
                                align_corners=False if self.interpolation == "bilinear" else None)
        return channels_last(outputs) if self.data_format == "channels_last" else outputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation,
                "data_format": self.data_format}


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around each image."""

    def __init__(self, padding: int | tuple = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "padding", self)
        self.data_format = data_format or "channels_last"

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        (top, bottom), (left, right) = self.padding
        if self.data_format == "channels_last":
            return F.pad(inputs, (0, 0, left, right, top, bottom))
        return F.pad(inputs, (left, right, top, bottom))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": [list(p) for p in self.padding], "data_format": self.data_format}


class Cropping2D(Layer):
    """Removes rows and columns at the edges of each image."""

    def __init__(self, cropping: int | tuple = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "cropping", self)
        self.data_format = data_format or "channels_last"

    def build(self, input_shape: Shape) -> None:
        rows, cols = (input_shape[1], input_shape[2]) if self.data_format == "channels_last" else input_shape[2:4]
        (top, bottom), (left, right) = self.cropping
        if rows is not None and top + bottom >= rows or cols is not None and left + right >= cols:
            raise ValueError(f"Cropping2D '{self.name}': cropping {self.cropping} leaves nothing of images of "
                             f"{rows}x{cols}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        (top, bottom), (left, right) = self.cropping
        rows, cols = (1, 2) if self.data_format == "channels_last" else (2, 3)
        x = inputs.narrow(rows, top, inputs.shape[rows] - top - bottom)
        return x.narrow(cols, left, inputs.shape[cols] - left - right)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping], "data_format": self.data_format}
