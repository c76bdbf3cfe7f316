"""`keras.ops` functions that make tensors or rearrange them: creation, shape changes, joining,
splitting, indexing and matrix products (NumPy's names and argument names)."""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np
import torch

from ember import _dtypes, config
from ember.ops._convert import axes, binary, shape_error, tensor, tensors

# ---------------------------------------------------------------- creation


def _float_or(dtype: Any) -> torch.dtype:
    return _dtypes.to_torch(dtype, default=config.float_dtype())


def zeros(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of zeros (float32 unless `dtype`)."""
    return torch.zeros(_shape(shape), dtype=_float_or(dtype))


def ones(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ones (float32 unless `dtype`)."""
    return torch.ones(_shape(shape), dtype=_float_or(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor filled with `fill_value` (its dtype by Keras's rules unless `dtype`)."""
    value = tensor(fill_value, dtype)
    return torch.full(_shape(shape), value.item(), dtype=value.dtype)


def empty(shape: Any, dtype: Any = None) -> torch.Tensor:
    """An uninitialised tensor (float32 unless `dtype`)."""
    return torch.empty(_shape(shape), dtype=_float_or(dtype))


def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
    x = tensor(x)
    return torch.zeros_like(x, dtype=_dtypes.to_torch(dtype, default=x.dtype))


def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
    x = tensor(x)
    return torch.ones_like(x, dtype=_dtypes.to_torch(dtype, default=x.dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    x = tensor(x)
    return torch.full_like(x, fill_value, dtype=_dtypes.to_torch(dtype, default=x.dtype))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:  # noqa: N803
    """An N×M matrix with ones on diagonal `k`."""
    M = N if M is None else M  # noqa: N806
    return torch.ones(N, M, dtype=_float_or(dtype)).tril(k).triu(k)


def identity(n: int, dtype: Any = None) -> torch.Tensor:
    return eye(n, dtype=dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:  # noqa: N803
    """Ones at and below diagonal `k`."""
    return torch.ones(N, N if M is None else M, dtype=_float_or(dtype)).tril(k)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> torch.Tensor:
    """Evenly spaced values in [start, stop): int32 for integer arguments, float32 otherwise."""
    if stop is None:
        start, stop = 0, start
    is_int = builtins.all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    default = torch.int32 if is_int else config.float_dtype()
    return torch.arange(start, stop, step, dtype=_dtypes.to_torch(dtype, default=default))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """`num` evenly spaced values from start to stop (inclusive when `endpoint`)."""
    steps = num if endpoint else num + 1
    values = torch.linspace(float(start), float(stop), steps, dtype=torch.float64)
    values = (values if endpoint else values[:-1]).to(_float_or(dtype))
    step = (float(stop) - float(start)) / builtins.max(steps - 1, 1)
    return (values, step) if retstep else values


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10.0,
             dtype: Any = None, axis: int = 0) -> torch.Tensor:
    return torch.pow(torch.tensor(base, dtype=torch.float64),
                     linspace(start, stop, num, endpoint, dtype=torch.float64)).to(_float_or(dtype))


def tril(x: Any, k: int = 0) -> torch.Tensor:
    return torch.tril(tensor(x), k)


def triu(x: Any, k: int = 0) -> torch.Tensor:
    return torch.triu(tensor(x), k)


def diag(x: Any, k: int = 0) -> torch.Tensor:
    """The diagonal `k` of a matrix, or a matrix with the vector `x` on diagonal `k`."""
    return torch.diag(tensor(x), k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    return torch.diagonal(tensor(x), offset, axis1, axis2)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    return torch.diagonal(tensor(x), offset, axis1, axis2).sum(-1)


# ------------------------------------------------------------- shape changes


def _to_shape(function: Any, name: str, x: Any, shape: Any) -> torch.Tensor:
    x = tensor(x)
    try:
        return function(x, _shape(shape))
    except RuntimeError as error:
        raise ValueError(f"ops.{name}: a tensor of shape {tuple(x.shape)} ({x.numel()} values) cannot take shape "
                         f"{tuple(_shape(shape))}: {error}") from None


def reshape(x: Any, newshape: Any) -> torch.Tensor:
    """`x` with a new shape of the same size (one entry may be -1)."""
    return _to_shape(torch.reshape, "reshape", x, newshape)


def ravel(x: Any) -> torch.Tensor:
    return tensor(x).reshape(-1)


def transpose(x: Any, axes: Sequence[int] | None = None) -> torch.Tensor:  # noqa: F811 - Keras's name
    """`x` with its axes permuted (reversed when `axes` is None)."""
    x = tensor(x)
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


def swapaxes(x: Any, axis1: int, axis2: int) -> torch.Tensor:
    return torch.swapaxes(tensor(x), axis1, axis2)


def moveaxis(x: Any, source: Any, destination: Any) -> torch.Tensor:
    return torch.movedim(tensor(x), source, destination)


def expand_dims(x: Any, axis: Any) -> torch.Tensor:
    """`x` with a new axis of size 1 at each of `axis` (positions in the result)."""
    x = tensor(x)
    positions = (axis,) if isinstance(axis, int) else tuple(axis)
    rank = x.ndim + len(positions)
    for position in sorted(a % rank for a in positions):
        x = x.unsqueeze(position)
    return x


def squeeze(x: Any, axis: Any = None) -> torch.Tensor:
    """`x` without its size-1 axes (only those in `axis` when given; each must have size 1)."""
    x = tensor(x)
    if axis is None:
        return torch.squeeze(x)
    dims = axes(axis, x.ndim)
    wrong = [d for d in dims if x.shape[d] != 1]
    if wrong:
        raise ValueError(f"ops.squeeze: axis {wrong[0]} of a tensor of shape {tuple(x.shape)} has size "
                         f"{x.shape[wrong[0]]}, not 1.")
    return torch.squeeze(x, dim=dims)


def broadcast_to(x: Any, shape: Any) -> torch.Tensor:
    """`x` broadcast (NumPy's rules) to `shape`."""
    return _to_shape(torch.broadcast_to, "broadcast_to", x, shape)


def flip(x: Any, axis: Any = None) -> torch.Tensor:
    x = tensor(x)
    return torch.flip(x, dims=axes(axis, x.ndim))


def roll(x: Any, shift: Any, axis: Any = None) -> torch.Tensor:
    x = tensor(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


def tile(x: Any, repeats: Any) -> torch.Tensor:
    return torch.tile(tensor(x), (repeats,) if isinstance(repeats, int) else tuple(repeats))


def repeat(x: Any, repeats: Any, axis: int | None = None) -> torch.Tensor:
    x = tensor(x)
    repeats = repeats if isinstance(repeats, int) else tensor(repeats).long().to(x.device)
    return torch.repeat_interleave(x.reshape(-1) if axis is None else x, repeats, dim=0 if axis is None else axis)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> torch.Tensor:
    """`x` padded by `pad_width` ((before, after) per axis, or one pair or one int for all axes);
    modes as NumPy's: constant, reflect, symmetric, edge, wrap."""
    x = tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2) if np.ndim(pad_width)
                             else np.full((1, 2), int(pad_width)), (x.ndim, 2))
    if mode == "constant":
        flat = [int(v) for pair in widths[::-1] for v in pair]
        return torch.nn.functional.pad(x, flat, value=0 if constant_values is None else constant_values)
    if mode not in _PAD_INDEX:
        raise ValueError(f"ops.pad: unknown mode {mode!r}; expected constant, reflect, symmetric, edge or wrap.")
    for dim, (before, after) in enumerate(widths):
        if before or after:
            positions = np.arange(-int(before), x.shape[dim] + int(after))
            index = torch.as_tensor(_PAD_INDEX[mode](positions, x.shape[dim]), device=x.device)
            x = torch.index_select(x, dim, index)
    return x


def _reflect(positions: np.ndarray, size: int) -> np.ndarray:
    period = builtins.max(2 * (size - 1), 1)
    folded = np.mod(positions, period)
    return np.where(folded < size, folded, period - folded)


def _symmetric(positions: np.ndarray, size: int) -> np.ndarray:
    folded = np.mod(positions, 2 * size)
    return np.where(folded < size, folded, 2 * size - 1 - folded)


_PAD_INDEX = {"reflect": _reflect, "symmetric": _symmetric, "wrap": lambda p, size: np.mod(p, size),
              "edge": lambda p, size: np.clip(p, 0, size - 1)}


# -------------------------------------------------------- joining, splitting


def concatenate(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """The tensors joined along `axis`; the other axes must agree."""
    xs = _promoted(xs)
    try:
        return torch.cat(xs, dim=axis)
    except RuntimeError as error:
        raise shape_error("concatenate", error, *xs) from None


def stack(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """The tensors (all of one shape) stacked along a new axis."""
    xs = _promoted(xs)
    try:
        return torch.stack(xs, dim=axis)
    except RuntimeError as error:
        raise shape_error("stack", error, *xs) from None


def append(x1: Any, x2: Any, axis: int | None = None) -> torch.Tensor:
    x1, x2 = tensors(x1, x2)
    return concatenate([x1.reshape(-1), x2.reshape(-1)]) if axis is None else concatenate([x1, x2], axis)


def hstack(xs: Sequence[Any]) -> torch.Tensor:
    xs = _promoted(xs)
    return concatenate(xs, axis=0 if xs[0].ndim == 1 else 1)


def vstack(xs: Sequence[Any]) -> torch.Tensor:
    return concatenate([x.reshape(1, -1) if x.ndim == 1 else x for x in _promoted(xs)], axis=0)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """`x` cut along `axis` into equal sections (an int that divides the axis) or at `indices`."""
    x = tensor(x)
    size = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(f"ops.split: axis {axis} of shape {tuple(x.shape)} (size {size}) does not divide into "
                             f"{indices_or_sections} equal sections.")
        return list(torch.split(x, size // indices_or_sections, dim=axis))
    bounds = [0, *[int(i) for i in indices_or_sections], size]
    return [x.narrow(axis, a, builtins.max(b - a, 0)) for a, b in zip(bounds, bounds[1:])]


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[torch.Tensor]:
    return list(torch.unbind(tensor(x), dim=axis))


def meshgrid(*xs: Any, indexing: str = "xy") -> list[torch.Tensor]:
    return list(torch.meshgrid(*[tensor(x) for x in xs], indexing=indexing))


# ----------------------------------------------------------------- indexing


def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """Entries of `x` at `indices` along `axis` (of the flattened `x` when None); negative indices
    count from the end."""
    x = tensor(x)
    indices = tensor(indices).long().to(x.device)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axes(axis, x.ndim)[0]
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    return torch.index_select(x, axis, indices.reshape(-1)).reshape(
        *x.shape[:axis], *indices.shape, *x.shape[axis + 1:])


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    x = tensor(x)
    indices = tensor(indices).long().to(x.device)
    if axis is None:
        return torch.take_along_dim(x.reshape(-1), indices.reshape(-1))
    shape = list(torch.broadcast_shapes(tuple(s if d != axis % x.ndim else 1 for d, s in enumerate(x.shape)),
                                        tuple(s if d != axis % x.ndim else 1 for d, s in enumerate(indices.shape))))
    x_shape, index_shape = list(shape), list(shape)
    x_shape[axis], index_shape[axis] = x.shape[axis], indices.shape[axis]
    return torch.take_along_dim(x.expand(x_shape), indices.expand(index_shape), dim=axis)


def nonzero(x: Any) -> tuple[torch.Tensor, ...]:
    return tuple(i.to(torch.int32) for i in torch.nonzero(tensor(x), as_tuple=True))


def digitize(x: Any, bins: Any) -> torch.Tensor:
    """Index of the bin (of the increasing `bins`) each value falls in, int32 (NumPy's `digitize`)."""
    x, bins = tensors(x, bins)
    return torch.bucketize(x, bins, right=True).to(torch.int32)


# --------------------------------------------------------- matrix products


def matmul(x1: Any, x2: Any) -> torch.Tensor:
    """Matrix product of the last two axes, leading axes broadcast (NumPy's `matmul`)."""
    x1, x2 = _same_dtype(*tensors(x1, x2))
    try:
        return torch.matmul(x1, x2)
    except RuntimeError as error:
        raise shape_error("matmul", error, x1, x2) from None


def dot(x1: Any, x2: Any) -> torch.Tensor:
    """NumPy's `dot`: a product for scalars, matmul for 1-D/2-D, sum over the last axis of x1 and
    the second-to-last of x2 otherwise."""
    x1, x2 = _same_dtype(*tensors(x1, x2))
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    if x2.ndim <= 2:
        return matmul(x1, x2)
    return tensordot(x1, x2, axes=([x1.ndim - 1], [x2.ndim - 2]))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> torch.Tensor:  # noqa: F811 - Keras's name
    x1, x2 = _same_dtype(*tensors(x1, x2))
    try:
        return torch.tensordot(x1, x2, dims=axes)
    except RuntimeError as error:
        raise shape_error("tensordot", error, x1, x2) from None


def einsum(subscripts: str, *operands: Any) -> torch.Tensor:
    operands = _promoted(operands)
    try:
        return torch.einsum(subscripts, *operands)
    except RuntimeError as error:
        raise shape_error(f"einsum({subscripts!r})", error, *operands) from None


def outer(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _same_dtype(*tensors(x1, x2))
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


def inner(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _same_dtype(*tensors(x1, x2))
    return torch.inner(x1, x2)


def vdot(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _same_dtype(*tensors(x1, x2))
    return torch.vdot(x1.reshape(-1), x2.reshape(-1))


cross = binary(lambda a, b: torch.linalg.cross(*torch.broadcast_tensors(*_same_dtype(a, b))), "cross",
               "Cross product of 3-vectors on the last axis.")


def diff(a: Any, n: int = 1, axis: int = -1) -> torch.Tensor:
    return torch.diff(tensor(a), n=n, dim=axis)


# ------------------------------------------------------------------ helpers


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def _same_dtype(x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    return x1.to(dtype), x2.to(dtype)


def _promoted(xs: Sequence[Any]) -> list[torch.Tensor]:
    tensors_ = [tensor(x) for x in xs]
    if not tensors_:
        raise ValueError("Expected at least one tensor; got an empty sequence.")
    dtype = tensors_[0].dtype
    for t in tensors_[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [t.to(dtype) for t in tensors_]
