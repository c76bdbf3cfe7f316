"""Pooling layers on channels-last tensors: MaxPooling1D/2D, AveragePooling1D/2D, global pooling."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from ember._validation import require_choice
from ember.layers.base import Layer, Shape
from ember.layers.conv import _tuple, channels_first, channels_last, pad_same


class _Pooling(Layer):
    """Shared mechanism of the windowed pooling layers."""

    rank: int
    _pool: Callable
    _pad_value: float

    def __init__(self, pool_size: int | tuple = 2, strides: int | tuple | None = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = _tuple(pool_size, self.rank, "pool_size", self)
        self.strides = self.pool_size if strides is None else _tuple(strides, self.rank, "strides", self)
        self.padding = require_choice("padding", str(padding).lower(), ("valid", "same"), self)
        self.data_format = require_choice("data_format", data_format or "channels_last",
                                          ("channels_last", "channels_first"), self)

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects {self.rank + 2}-D input; got shape "
                             f"{input_shape}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = channels_first(inputs) if self.data_format == "channels_last" else inputs
        if self.padding == "same":
            x = pad_same(x, self.pool_size, self.strides, (1,) * self.rank, self._pad_value)
        outputs = self._window(x)
        return channels_last(outputs) if self.data_format == "channels_last" else outputs

    def _window(self, x: torch.Tensor) -> torch.Tensor:
        return type(self)._pool(x, self.pool_size, self.strides)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """Maximum over windows of steps: `(batch, steps, channels)`."""

    rank, _pool, _pad_value = 1, staticmethod(F.max_pool1d), float("-inf")


class MaxPooling2D(_Pooling):
    """Maximum over `pool_size` windows of `(batch, height, width, channels)` (default 2x2, stride = pool)."""

    rank, _pool, _pad_value = 2, staticmethod(F.max_pool2d), float("-inf")


class MaxPooling3D(_Pooling):
    """Maximum over windows of `(batch, depth, height, width, channels)`."""

    rank, _pool, _pad_value = 3, staticmethod(F.max_pool3d), float("-inf")


class AveragePooling1D(_Pooling):
    """Mean over windows of steps."""

    rank, _pool, _pad_value = 1, staticmethod(F.avg_pool1d), 0.0


class AveragePooling2D(_Pooling):
    """Mean over `pool_size` windows of `(batch, height, width, channels)`."""

    rank, _pool, _pad_value = 2, staticmethod(F.avg_pool2d), 0.0


class _GlobalPooling(Layer):
    """Reduces every spatial axis: `(batch, *spatial, channels)` -> `(batch, channels)`."""

    reduce: Callable
    reduce_masked: Callable

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = require_choice("data_format", data_format or "channels_last",
                                          ("channels_last", "channels_first"), self)
        self.keepdims = bool(keepdims)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None and inputs.ndim == 3 and self.data_format == "channels_last":
            return type(self).reduce_masked(inputs, mask, self.keepdims)  # padded steps do not count
        axes = tuple(range(1, inputs.ndim - 1)) if self.data_format == "channels_last" else tuple(range(2, inputs.ndim))
        return type(self).reduce(inputs, axes, self.keepdims)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


def _mean(x: torch.Tensor, axes: tuple, keepdims: bool) -> torch.Tensor:
    return x.mean(dim=axes, keepdim=keepdims)


def _max(x: torch.Tensor, axes: tuple, keepdims: bool) -> torch.Tensor:
    return x.amax(dim=axes, keepdim=keepdims)


def _masked_mean(x: torch.Tensor, mask: torch.Tensor, keepdims: bool) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(x.dtype)  # (batch, steps, 1)
    return (x * weights).sum(1, keepdim=keepdims) / weights.sum(1, keepdim=keepdims).clamp_min(1)


def _masked_max(x: torch.Tensor, mask: torch.Tensor, keepdims: bool) -> torch.Tensor:
    return x.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1, keepdim=keepdims)


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over steps: `(batch, steps, channels)` -> `(batch, channels)`; padded steps (mask) excluded."""

    reduce, reduce_masked = staticmethod(_mean), staticmethod(_masked_mean)


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: `(batch, h, w, channels)` -> `(batch, channels)`."""

    reduce = staticmethod(_mean)


class GlobalMaxPooling1D(_GlobalPooling):
    """Maximum over steps; padded steps (mask) excluded."""

    reduce, reduce_masked = staticmethod(_max), staticmethod(_masked_max)


class GlobalMaxPooling2D(_GlobalPooling):
    """Maximum over height and width."""

    reduce = staticmethod(_max)


class AveragePooling3D(_Pooling):
    """Mean over windows of `(batch, depth, height, width, channels)`."""

    rank, _pool, _pad_value = 3, staticmethod(F.avg_pool3d), 0.0
