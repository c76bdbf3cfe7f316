"""Random augmentation layers: active only while training, on whole batches on the device, and
repeatable under a `seed`. Inputs are channels-last `(batch, height, width, channels)`.

RandomFlip, RandomCrop (with padding), RandomTranslation, RandomRotation, RandomZoom, RandomContrast.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ember._validation import require_choice, require_positive_int
from ember.image_windows import crop_windows
from ember.layers.base import Layer
from ember.layers.conv import channels_first, channels_last
from ember.layers.preprocessing import center_crop

_FILL_MODES = {"reflect": "reflection", "constant": "zeros", "nearest": "border"}


class _RandomLayer(Layer):
    """Owns the random generator: seeded per device when `seed` is given, else the global one."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._generators: dict[str, torch.Generator] = {}

    def generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        key = str(device)
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(int(self.seed))
        return self._generators[key]

    def uniform(self, count: int, low: float, high: float, device: torch.device) -> torch.Tensor:
        values = torch.rand(count, generator=self.generator(device), device=device)
        return low + (high - low) * values

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.inference(inputs)
        return self.augment(inputs.to(torch.get_default_dtype()) if not inputs.is_floating_point() else inputs)

    def inference(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def augment(self, inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


def _range(factor: float | tuple, argument: str, layer: Layer, symmetric: bool = True) -> tuple[float, float]:
    if isinstance(factor, (int, float)):
        low, high = (-abs(factor), abs(factor)) if symmetric else (0.0, float(factor))
    else:
        low, high = float(factor[0]), float(factor[1])
    if low > high:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {argument} lower bound {low} is above {high}.")
    return low, high


class RandomFlip(_RandomLayer):
    """Flips each image left-right and/or up-down with probability 1/2 (`mode`)."""

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.mode = require_choice("mode", mode, ("horizontal", "vertical", "horizontal_and_vertical"), self)

    def augment(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, device = inputs.shape[0], inputs.device
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = (self.uniform(batch, 0, 1, device) < 0.5).view(-1, 1, 1, 1)
            inputs = torch.where(flip, inputs.flip(2), inputs)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = (self.uniform(batch, 0, 1, device) < 0.5).view(-1, 1, 1, 1)
            inputs = torch.where(flip, inputs.flip(1), inputs)
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


class RandomCrop(_RandomLayer):
    """Crops a random (height, width) window of each image while training (after zero-padding by
    `padding` pixels, the CIFAR recipe); in inference it takes the center crop."""

    def __init__(self, height: int, width: int, seed: int | None = None, padding: int = 0, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.height = require_positive_int("height", height, self)
        self.width = require_positive_int("width", width, self)
        self.padding = int(padding)

    def inference(self, inputs: torch.Tensor) -> torch.Tensor:
        return center_crop(inputs, self.height, self.width)

    def augment(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.padding:
            inputs = F.pad(inputs, (0, 0, self.padding, self.padding, self.padding, self.padding))
        batch, rows, cols, channels = inputs.shape
        if rows < self.height or cols < self.width:
            return center_crop(inputs, self.height, self.width)
        device = inputs.device
        top = (self.uniform(batch, 0, 1, device) * (rows - self.height + 1)).long().clamp_max(rows - self.height)
        left = (self.uniform(batch, 0, 1, device) * (cols - self.width + 1)).long().clamp_max(cols - self.width)
        return crop_windows(inputs, top, left, self.height, self.width)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width, "padding": self.padding}


class _AffineLayer(_RandomLayer):
    """Shared mechanism of translation, rotation and zoom: one affine map per image, then sampling."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.fill_mode = require_choice("fill_mode", fill_mode, tuple(_FILL_MODES), self)
        self.interpolation = require_choice("interpolation", interpolation, ("bilinear", "nearest"), self)
        self.fill_value = float(fill_value)

    def matrices(self, batch: int, rows: int, cols: int, device: torch.device) -> torch.Tensor:
        """(batch, 2, 3) maps from output to input coordinates in [-1, 1]."""
        raise NotImplementedError

    def augment(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, rows, cols, _ = inputs.shape
        theta = self.matrices(batch, rows, cols, inputs.device).to(inputs.dtype)
        x = channels_first(inputs)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        if self.fill_mode == "constant" and self.fill_value:
            x = x - self.fill_value
        out = F.grid_sample(x, grid, mode=self.interpolation, padding_mode=_FILL_MODES[self.fill_mode],
                            align_corners=False)
        if self.fill_mode == "constant" and self.fill_value:
            out = out + self.fill_value
        return channels_last(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


def _identity(batch: int, device: torch.device) -> torch.Tensor:
    return torch.eye(2, 3, device=device).repeat(batch, 1, 1)


class RandomTranslation(_AffineLayer):
    """Shifts each image by a random fraction of its height and width (`height_factor`, `width_factor`)."""

    def __init__(self, height_factor: float | tuple, width_factor: float | tuple, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._rows = _range(height_factor, "height_factor", self)
        self._cols = _range(width_factor, "width_factor", self)

    def matrices(self, batch, rows, cols, device):
        theta = _identity(batch, device)
        theta[:, 0, 2] = -2 * self.uniform(batch, *self._cols, device)  # normalized coordinates span 2
        theta[:, 1, 2] = -2 * self.uniform(batch, *self._rows, device)
        return theta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle: `factor` is a fraction of a full turn (0.1 -> ±36°)."""

    def __init__(self, factor: float | tuple, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = factor
        self._range = _range(factor, "factor", self)

    def matrices(self, batch, rows, cols, device):
        angle = 2 * math.pi * self.uniform(batch, *self._range, device)
        cos, sin = torch.cos(angle), torch.sin(angle)
        aspect = cols / rows
        theta = torch.zeros(batch, 2, 3, device=device)
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin / aspect
        theta[:, 1, 0], theta[:, 1, 1] = sin * aspect, cos
        return theta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_AffineLayer):
    """Zooms each image by a random factor: positive `height_factor` zooms out, negative zooms in
    (Keras 3's convention); `width_factor` None keeps the aspect ratio."""

    def __init__(self, height_factor: float | tuple, width_factor: float | tuple | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._rows = _range(height_factor, "height_factor", self)
        self._cols = None if width_factor is None else _range(width_factor, "width_factor", self)

    def matrices(self, batch, rows, cols, device):
        row_zoom = 1 + self.uniform(batch, *self._rows, device)
        col_zoom = row_zoom if self._cols is None else 1 + self.uniform(batch, *self._cols, device)
        theta = _identity(batch, device)
        theta[:, 0, 0], theta[:, 1, 1] = col_zoom, row_zoom
        return theta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomContrast(_RandomLayer):
    """Scales each image's deviation from its per-channel mean by a random factor in
    [1 - lower, 1 + upper], clipped to `value_range` (Keras 3's default (0, 255))."""

    def __init__(self, factor: float | tuple, value_range: tuple = (0, 255), seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        lower, upper = (factor, factor) if isinstance(factor, (int, float)) else factor
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"RandomContrast '{self.name}': factor must be non-negative with lower <= 1; "
                             f"got {factor!r}.")
        self.factor, self.value_range = factor, tuple(value_range)
        self._bounds = (1 - lower, 1 + upper)

    def augment(self, inputs: torch.Tensor) -> torch.Tensor:
        scale = self.uniform(inputs.shape[0], *self._bounds, inputs.device).view(-1, 1, 1, 1)
        mean = inputs.mean(dim=(1, 2), keepdim=True)
        return ((inputs - mean) * scale + mean).clamp(*self.value_range)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor, "value_range": list(self.value_range)}
