"""Image preprocessing layers, applied in training and inference: Rescaling, Normalization (with
`adapt`), Resizing, CenterCrop. Inputs are channels-last batches `(batch, height, width, channels)`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember._validation import require_choice, require_positive_int
from ember.layers.base import Layer, Shape
from ember.layers.conv import channels_first, channels_last


class Rescaling(Layer):
    """`inputs * scale + offset`, e.g. `Rescaling(1 / 255)` for pixels in [0, 1]."""

    supports_masking = True

    def __init__(self, scale: float, offset: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.to(torch.get_default_dtype()) * self.scale + self.offset

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """`(inputs - mean) / sqrt(variance)` per feature along `axis`; `adapt(data)` learns the statistics.

    The mean and variance are saved with the model (as non-trainable weights).
    """

    supports_masking = True

    def __init__(self, axis: int | None = -1, mean: Any = None, variance: Any = None, invert: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both mean and variance, or neither (and call adapt).")
        self.axis, self.invert = axis, bool(invert)
        self._given = None if mean is None else (np.asarray(mean, np.float32), np.asarray(variance, np.float32))

    def build(self, input_shape: Shape) -> None:
        size = 1 if self.axis is None else input_shape[self.axis]
        self.mean = self.add_weight("mean", (size,), "zeros", trainable=False)
        self.variance = self.add_weight("variance", (size,), "ones", trainable=False)
        if self._given is not None:
            self.set_weights([np.broadcast_to(v, (size,)) for v in self._given])

    def adapt(self, data: Any) -> None:
        """Sets mean and variance from data shaped like the layer's input."""
        values = torch.as_tensor(np.asarray(data), dtype=torch.float64)
        if not self.built:
            self.build_from_shapes((None,) + tuple(values.shape[1:]))
        if self.axis is None:
            mean, variance = values.mean().reshape(1), values.var(unbiased=False).reshape(1)
        else:
            moved = values.movedim(self.axis, -1).reshape(-1, values.shape[self.axis])
            mean, variance = moved.mean(0), moved.var(0, unbiased=False)
        with torch.no_grad():
            self.mean.copy_(mean.float())
            self.variance.copy_(variance.float())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        shape = [1] * inputs.ndim
        if self.axis is not None:
            shape[self.axis] = -1
        mean, std = self.mean.reshape(shape), self.variance.clamp_min(1e-7).sqrt().reshape(shape)
        inputs = inputs.to(mean.dtype)
        return inputs * std + mean if self.invert else (inputs - mean) / std

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert}


class Resizing(Layer):
    """Resizes images to (height, width) with "bilinear", "nearest" or "bicubic" interpolation."""

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height = require_positive_int("height", height, self)
        self.width = require_positive_int("width", width, self)
        self.interpolation = require_choice("interpolation", interpolation, ("bilinear", "nearest", "bicubic"), self)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return resize(inputs, self.height, self.width, self.interpolation)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation}


def resize(images: torch.Tensor, height: int, width: int, interpolation: str = "bilinear") -> torch.Tensor:
    """Channels-last resize of a batch."""
    x = channels_first(images.to(torch.get_default_dtype()))
    smooth = interpolation != "nearest"
    resized = F.interpolate(x, size=(height, width), mode=interpolation, align_corners=False if smooth else None)
    return channels_last(resized)


class CenterCrop(Layer):
    """Crops the central (height, width) of each image (resizing first if the image is smaller)."""

    def __init__(self, height: int, width: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height = require_positive_int("height", height, self)
        self.width = require_positive_int("width", width, self)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return center_crop(inputs, self.height, self.width)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width}


def center_crop(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    rows, cols = images.shape[1], images.shape[2]
    if rows < height or cols < width:
        images = resize(images, max(rows, height), max(cols, width))
        rows, cols = images.shape[1], images.shape[2]
    top, left = (rows - height) // 2, (cols - width) // 2
    return images[:, top:top + height, left:left + width]
