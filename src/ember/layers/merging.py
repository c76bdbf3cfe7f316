"""Layers that merge a list of tensors: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.

Called on a list: `Add()([a, b])`. Shapes must match (or broadcast) except, for Concatenate,
along `axis`.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import torch

from ember.layers.base import Layer, Shape


class _Merge(Layer):
    """Elementwise merge of two or more tensors of the same (or broadcastable) shape."""

    min_inputs = 2

    def build(self, input_shape: Sequence[Shape]) -> None:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], tuple):
            raise ValueError(f"{type(self).__name__} '{self.name}' must be called on a list of tensors, "
                             f"e.g. {type(self).__name__}()([a, b]); got one input of shape {input_shape}.")
        if len(input_shape) < self.min_inputs:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs at least {self.min_inputs} inputs; "
                             f"got {len(input_shape)}.")
        self._check_shapes(list(input_shape))

    def _check_shapes(self, input_shapes: list[Shape]) -> None:
        try:
            torch.broadcast_shapes(*[tuple(1 if d is None else d for d in s) for s in input_shapes])
        except RuntimeError:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs inputs of the same shape; "
                             f"got shapes {input_shapes}.") from None

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.merge(list(inputs))

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class Add(_Merge):
    """Sum of the inputs."""

    stepwise_decoding = True

    def merge(self, inputs):
        return functools.reduce(torch.add, inputs)


class Subtract(_Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs)."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"Subtract '{self.name}' needs exactly 2 inputs; got {len(input_shape)}.")

    def merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    def merge(self, inputs):
        return functools.reduce(torch.mul, inputs)


class Average(_Merge):
    """Elementwise mean of the inputs."""

    def merge(self, inputs):
        return functools.reduce(torch.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    def merge(self, inputs):
        return functools.reduce(torch.maximum, inputs)


class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    def merge(self, inputs):
        return functools.reduce(torch.minimum, inputs)


class Concatenate(_Merge):
    """Joins the inputs along `axis` (the last by default); other axes must match."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check_shapes(self, input_shapes: list[Shape]) -> None:
        rank = len(input_shapes[0])
        axis = self.axis % rank
        if axis == 0 or any(len(s) != rank for s in input_shapes) or any(
                len({s[i] for s in input_shapes if s[i] is not None}) > 1 for i in range(1, rank) if i != axis):
            raise ValueError(f"Concatenate '{self.name}' (axis={self.axis}) needs inputs whose shapes match "
                             f"except along that axis; got shapes {input_shapes}.")

    def merge(self, inputs):
        return torch.cat(inputs, dim=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def add(inputs: list, **kwargs: Any) -> Any:
    """Functional shorthand for `Add(**kwargs)(inputs)`."""
    return Add(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    """Functional shorthand for `Concatenate(axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
