"""`keras.ops` core functions: conversion, dtype and shape queries, slicing and scattering, segment
reductions, and control flow (`cond`, `while_loop`, `fori_loop`, `scan`, `map`, `switch`) as Python
control flow over torch (`torch.cond` when compiled, where both branches have the same shape)."""

from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ember import _dtypes
from ember._tree import flatten, map_structure
from ember.ops._convert import tensor


def convert_to_tensor(x: Any, dtype: Any = None, sparse: bool | None = None) -> torch.Tensor:
    """`x` (a tensor, NumPy array, list or scalar) as a torch tensor: Python floats float32, Python
    ints int32, NumPy arrays their own dtype, unless `dtype` is given."""
    return tensor(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array (tensors are detached and copied to the host)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def cast(x: Any, dtype: Any) -> torch.Tensor:
    """`x` converted to `dtype` ("float32", "int32", a torch or NumPy dtype)."""
    return tensor(x).to(_dtypes.to_torch(dtype))


def saturate_cast(x: Any, dtype: Any) -> torch.Tensor:
    """`x` cast to `dtype`, clipped to its range first (no wrap-around)."""
    x, target = tensor(x), _dtypes.to_torch(dtype)
    info = torch.finfo(target) if target.is_floating_point else torch.iinfo(target)
    return torch.clamp(x, min=info.min, max=info.max).to(target)


def is_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def shape(x: Any) -> tuple[int, ...]:
    """The shape as a tuple of ints."""
    return tuple(tensor(x).shape)


def ndim(x: Any) -> int:
    return tensor(x).ndim


def size(x: Any) -> int:
    return tensor(x).numel()


def dtype(x: Any) -> str:
    """The dtype's Keras name ("float32", ...)."""
    return _dtypes.name_of(tensor(x).dtype)


def stop_gradient(x: Any) -> torch.Tensor:
    """`x` with no gradient flowing back through it."""
    return tensor(x).detach()


def copy(x: Any) -> torch.Tensor:
    return tensor(x).clone()


def slice(inputs: Any, start_indices: Sequence[int], shape: Sequence[int]) -> torch.Tensor:  # noqa: A001
    """The block of `shape` starting at `start_indices` (one per axis)."""
    inputs = tensor(inputs)
    index = tuple(_block(inputs, start_indices, shape))
    return inputs[index]


def slice_update(inputs: Any, start_indices: Sequence[int], updates: Any) -> torch.Tensor:
    """A copy of `inputs` with the block at `start_indices` replaced by `updates`."""
    inputs = tensor(inputs)
    updates = tensor(updates, inputs.dtype).to(inputs.device)
    result = inputs.clone()
    result[tuple(_block(inputs, start_indices, updates.shape))] = updates
    return result


def _block(inputs: torch.Tensor, start_indices: Sequence[int], shape: Sequence[int]) -> list:
    if len(start_indices) != inputs.ndim or len(shape) != inputs.ndim:
        raise ValueError(f"A block of a tensor of shape {tuple(inputs.shape)} needs {inputs.ndim} start indices and "
                         f"sizes; got start {list(start_indices)} and shape {list(shape)}.")
    starts = [int(s) for s in start_indices]
    for axis, (start, length) in enumerate(zip(starts, shape)):
        if start < 0 or start + int(length) > inputs.shape[axis]:
            raise ValueError(f"A block starting at {starts} with shape {tuple(shape)} does not fit in a tensor of "
                             f"shape {tuple(inputs.shape)} (axis {axis}).")
    return [builtins.slice(start, start + int(length)) for start, length in zip(starts, shape)]


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> torch.Tensor:
    """A zero tensor of `shape` with `values` added at `indices` (`(n, k)` index rows addressing the
    first k axes; repeated indices add up, as in Keras)."""
    values = tensor(values)
    result = torch.zeros(tuple(int(d) for d in shape), dtype=values.dtype, device=values.device)
    return _scatter_into(result, indices, values, accumulate=True)


def scatter_update(inputs: Any, indices: Any, updates: Any) -> torch.Tensor:
    """A copy of `inputs` with the entries (or slices) at `indices` (`(n, k)` rows) set to `updates`."""
    inputs = tensor(inputs)
    return _scatter_into(inputs.clone(), indices, tensor(updates, inputs.dtype), accumulate=False)


def _scatter_into(target: torch.Tensor, indices: Any, values: torch.Tensor, accumulate: bool) -> torch.Tensor:
    indices = tensor(indices).long().to(target.device)
    if indices.ndim != 2 or indices.shape[1] > target.ndim:
        raise ValueError(f"Scatter indices are (n, k) rows with k <= {target.ndim} for a tensor of shape "
                         f"{tuple(target.shape)}; got indices of shape {tuple(indices.shape)}.")
    target.index_put_(tuple(indices.T), values.to(target.device, target.dtype), accumulate=accumulate)
    return target


def _segments(data: Any, segment_ids: Any, num_segments: int | None) -> tuple[torch.Tensor, torch.Tensor, int]:
    data = tensor(data)
    ids = tensor(segment_ids).long().to(data.device)
    if ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment_ids must be one id per row of data: data has shape {tuple(data.shape)}, "
                         f"segment_ids has shape {tuple(ids.shape)}.")
    count = int(ids.max()) + 1 if num_segments is None and ids.numel() else int(num_segments or 0)
    return data, ids, count


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> torch.Tensor:  # noqa: A002
    """Sum of the rows of `data` that share a segment id; `(num_segments, *data.shape[1:])`."""
    data, ids, count = _segments(data, segment_ids, num_segments)
    result = torch.zeros((count, *data.shape[1:]), dtype=data.dtype, device=data.device)
    return result.index_add_(0, ids, data)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> torch.Tensor:  # noqa: A002
    """Largest row of `data` per segment id (the dtype's lowest value for an empty segment)."""
    data, ids, count = _segments(data, segment_ids, num_segments)
    lowest = torch.finfo(data.dtype).min if data.is_floating_point() else torch.iinfo(data.dtype).min
    result = torch.full((count, *data.shape[1:]), lowest, dtype=data.dtype, device=data.device)
    index = ids.reshape(-1, *([1] * (data.ndim - 1))).expand_as(data)
    return result.scatter_reduce(0, index, data, reduce="amax", include_self=True)


# ---------------------------------------------------------------- control flow


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """`true_fn()` if `pred` else `false_fn()`; inside `torch.compile`, `torch.cond` keeps it in one graph."""
    if isinstance(pred, torch.Tensor) and torch.compiler.is_compiling():
        return torch.cond(pred, lambda: true_fn(), lambda: false_fn(), ())
    return true_fn() if bool(pred) else false_fn()


def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """`branches[index](*operands)`, with `index` clamped into range (as Keras)."""
    position = min(max(int(index), 0), len(branches) - 1)
    return branches[position](*operands)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, maximum_iterations: int | None = None) -> Any:  # noqa: F811
    """Runs `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (at most `maximum_iterations`
    times); a single (non-tuple) loop variable is passed and returned as it is."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    iteration = 0
    while (maximum_iterations is None or iteration < maximum_iterations) and bool(cond(*state)):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        iteration += 1
    return state if is_tuple else state[0]


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """`val = body_fun(i, val)` for i in [lower, upper); returns the final `val`."""
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None, reverse: bool = False,
         unroll: int = 1) -> tuple[Any, Any]:
    """JAX's scan: `carry, y = f(carry, x)` over the leading axis of `xs` (or `length` times with
    x None); returns the last carry and the ys stacked on a new leading axis."""
    leaves = flatten(xs) if xs is not None else []
    steps = length if not leaves else int(leaves[0].shape[0])
    if steps is None:
        raise ValueError("ops.scan needs `xs` or `length` to know how many steps to run.")
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    carry, ys = init, []
    for i in order:
        x = None if xs is None else map_structure(lambda leaf: leaf[i], xs)
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, _stack_structures(ys)


def map(f: Callable, xs: Any) -> Any:  # noqa: A001 - Keras's name
    """`f` applied to each slice along the leading axis of `xs`, the results stacked."""
    leaves = flatten(xs)
    steps = int(leaves[0].shape[0])
    return _stack_structures([f(map_structure(lambda leaf: leaf[i], xs)) for i in range(steps)])


def vectorized_map(function: Callable, elements: Any) -> Any:
    """`function` over the leading axis of `elements`, batched with `torch.vmap`."""
    return torch.vmap(function)(elements)


def _stack_structures(items: list) -> Any:
    first = items[0]
    if isinstance(first, dict):
        return {key: _stack_structures([item[key] for item in items]) for key in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_stack_structures([item[i] for item in items]) for i in range(len(first)))
    return torch.stack([tensor(item) for item in items])
