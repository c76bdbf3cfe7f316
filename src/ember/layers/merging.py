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


class Dot(Layer):
    """Dot product of two tensors along `axes`, per sample (Keras's `Dot`).

    Args:
        axes: the axis (int) of both inputs, or one axis per input (tuple), to sum products over;
            negative counts from the end; the batch axis cannot be one.
        normalize: L2-normalise both inputs along `axes` first (the output is then a cosine similarity).
    Input shapes: `[(batch, ..., d), (batch, ..., d)]`. Output: the other axes of the first input,
    then those of the second, `(batch, 1)` when none are left.
    """

    def __init__(self, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axes = (axes, axes) if isinstance(axes, int) else tuple(int(a) for a in axes)
        if len(self.axes) != 2:
            raise ValueError(f"Dot '{self.name}': axes is one axis or a pair of axes; got {axes!r}.")
        self.normalize = bool(normalize)

    def build(self, input_shape: Sequence[Shape]) -> None:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not isinstance(input_shape[0], tuple):
            raise ValueError(f"Dot '{self.name}' must be called on a list of two tensors; got {input_shape}.")
        first, second = input_shape
        a, b = (axis % len(shape) for axis, shape in zip(self.axes, input_shape))
        if a == 0 or b == 0:
            raise ValueError(f"Dot '{self.name}': axes {self.axes} include the batch axis.")
        if first[a] is not None and second[b] is not None and first[a] != second[b]:
            raise ValueError(f"Dot '{self.name}': axis {a} of shape {first} ({first[a]}) and axis {b} of shape "
                             f"{second} ({second[b]}) must have the same size.")

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        x, y = inputs
        a, b = self.axes[0] % x.ndim, self.axes[1] % y.ndim
        if self.normalize:
            x, y = torch.nn.functional.normalize(x, dim=a), torch.nn.functional.normalize(y, dim=b)
        x, y = x.movedim(a, -1), y.movedim(b, 1)  # (batch, X..., d) and (batch, d, Y...)
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        product = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]), y.reshape(y.shape[0], y.shape[1], -1))
        shape = (x.shape[0], *rest_x, *rest_y)
        return product.reshape(shape if len(shape) > 1 else (x.shape[0], 1))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": list(self.axes), "normalize": self.normalize}


def add(inputs: list, **kwargs: Any) -> Any:
    """Functional shorthand for `Add(**kwargs)(inputs)`."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    """Functional shorthand for `Subtract(**kwargs)(inputs)`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    """Functional shorthand for `Multiply(**kwargs)(inputs)`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    """Functional shorthand for `Average(**kwargs)(inputs)`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    """Functional shorthand for `Maximum(**kwargs)(inputs)`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    """Functional shorthand for `Minimum(**kwargs)(inputs)`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    """Functional shorthand for `Concatenate(axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any) -> Any:
    """Functional shorthand for `Dot(axes, normalize, **kwargs)(inputs)`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
