"""Reductions of `keras.ops` over `axis` (None: all axes; an int or a tuple; negative from the end)
with `keepdims`: sums, means, extremes, arg-extremes, cumulative sums, sorting, statistics."""

from __future__ import annotations

from typing import Any

import torch

from ember import config
from ember.ops._convert import axes, floating, tensor


def _reduce(function: Any, x: torch.Tensor, axis: Any, keepdims: bool) -> torch.Tensor:
    if x.ndim == 0:
        return function(x)
    return function(x, dim=axes(axis, x.ndim), keepdim=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001 - Keras's name
    """Sum over `axis` (booleans and int8/16 give int32, as in Keras)."""
    x = tensor(x)
    if x.dtype in (torch.bool, torch.int8, torch.int16, torch.uint8):
        x = x.to(torch.int32)
    return _reduce(torch.sum, x, axis, keepdims).to(x.dtype)  # torch sums int32 into int64


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
    """Product over `axis`."""
    x = tensor(x, dtype)
    result = x
    for dim in sorted(axes(axis, x.ndim), reverse=True) if x.ndim else ():
        result = torch.prod(result, dim=dim, keepdim=keepdims)
    return result.to(x.dtype) if x.dtype != torch.bool else result


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Arithmetic mean over `axis` (integers give float32)."""
    return _reduce(torch.mean, floating(tensor(x)), axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance (NumPy's default, ddof=0) over `axis`."""
    x = floating(tensor(x))
    if x.ndim == 0:
        return torch.zeros_like(x)
    return torch.var(x, dim=axes(axis, x.ndim), keepdim=keepdims, correction=0)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population standard deviation over `axis`."""
    return torch.sqrt(var(x, axis, keepdims))


def _extreme(function: Any, name: str, x: Any, axis: Any, keepdims: bool, initial: Any) -> torch.Tensor:
    x = tensor(x)
    if x.numel() == 0 and initial is None:
        raise ValueError(f"ops.{name} of an empty tensor of shape {tuple(x.shape)} has no value; pass `initial`.")
    result = _reduce(function, x, axis, keepdims) if x.numel() else torch.tensor(initial, dtype=x.dtype)
    if initial is None:
        return result
    return torch.clamp(result, min=initial) if name == "max" else torch.clamp(result, max=initial)


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:  # noqa: A001
    """Largest value over `axis` (at least `initial` when given)."""
    return _extreme(torch.amax, "max", x, axis, keepdims, initial)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:  # noqa: A001
    """Smallest value over `axis` (at most `initial` when given)."""
    return _extreme(torch.amin, "min", x, axis, keepdims, initial)


amax, amin = max, min


def _logical(function: Any, x: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    result = tensor(x).bool()
    for dim in sorted(axes(axis, result.ndim), reverse=True) if result.ndim else ():
        result = function(result, dim=dim, keepdim=keepdims)
    return result


def all(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001 - Keras's name
    """Whether every entry over `axis` is true (non-zero)."""
    return _logical(torch.all, x, axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001 - Keras's name
    """Whether some entry over `axis` is true (non-zero)."""
    return _logical(torch.any, x, axis, keepdims)


def count_nonzero(x: Any, axis: Any = None) -> torch.Tensor:
    """Number of non-zero entries over `axis` (int32)."""
    x = tensor(x)
    return torch.count_nonzero(x, dim=axes(axis, x.ndim) if x.ndim else None).to(torch.int32)


def _arg(function: Any, x: Any, axis: int | None, keepdims: bool) -> torch.Tensor:
    x = tensor(x)
    if axis is None:
        result = function(x.reshape(-1), dim=0)
        return result.reshape((1,) * x.ndim) if keepdims else result.to(torch.int32)
    return function(x, dim=axes(axis, x.ndim)[0], keepdim=keepdims).to(torch.int32)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index of the largest value along `axis` (of the flattened tensor when None), int32."""
    return _arg(torch.argmax, x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index of the smallest value along `axis` (of the flattened tensor when None), int32."""
    return _arg(torch.argmin, x, axis, keepdims)


def _along(x: torch.Tensor, axis: int | None) -> tuple[torch.Tensor, int]:
    return (x.reshape(-1), 0) if axis is None else (x, axes(axis, x.ndim)[0])


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running sum along `axis` (of the flattened tensor when None)."""
    x, dim = _along(tensor(x, dtype), axis)
    return torch.cumsum(x, dim=dim).to(x.dtype if x.dtype != torch.bool else torch.int32)


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running product along `axis` (of the flattened tensor when None)."""
    x, dim = _along(tensor(x, dtype), axis)
    return torch.cumprod(x, dim=dim).to(x.dtype if x.dtype != torch.bool else torch.int32)


def sort(x: Any, axis: int = -1) -> torch.Tensor:
    """Values sorted ascending along `axis`."""
    x, dim = _along(tensor(x), axis)
    return torch.sort(x, dim=dim, stable=True).values


def argsort(x: Any, axis: int = -1) -> torch.Tensor:
    """Indices that sort `x` ascending along `axis` (stable), int32."""
    x, dim = _along(tensor(x), axis)
    return torch.argsort(x, dim=dim, stable=True).to(torch.int32)


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: A002
    """The `k` largest values on the last axis and their indices (int32)."""
    x = tensor(x)
    if not 0 < k <= x.shape[-1]:
        raise ValueError(f"ops.top_k: k must be in 1..{x.shape[-1]} for a last axis of size {x.shape[-1]}; got {k}.")
    values, indices = torch.topk(x, k, dim=-1, sorted=sorted)
    return values, indices.to(torch.int32)


def in_top_k(targets: Any, predictions: Any, k: int) -> torch.Tensor:
    """Whether each target class is among the `k` largest predictions of its row. Shapes:
    targets `(batch,)`, predictions `(batch, classes)`; booleans `(batch,)`."""
    targets, predictions = tensor(targets).long(), tensor(predictions)
    target_scores = predictions.gather(1, targets[:, None])
    return (predictions > target_scores).sum(dim=1) < k


def median(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Median over `axis` (the mean of the two middle values for an even count, as NumPy)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    """The `q`-th quantile(s) (0..1) over `axis`, NumPy's interpolation methods."""
    x = floating(tensor(x))
    q = tensor(q, dtype=x.dtype).to(x.device)
    dims = axes(axis, x.ndim)
    rest = [d for d in range(x.ndim) if d not in dims]
    moved = x.permute(*rest, *dims).reshape(*[x.shape[d] for d in rest], -1)
    result = torch.quantile(moved, q, dim=-1, interpolation=method)
    if keepdims:
        shape = [1 if d in dims else x.shape[d] for d in range(x.ndim)]
        result = result.reshape(*q.shape, *shape)
    return result


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """log(sum(exp(x))) over `axis`, computed stably."""
    x = floating(tensor(x))
    return torch.logsumexp(x, dim=axes(axis, x.ndim), keepdim=keepdims) if x.ndim else x


def average(x: Any, axis: int | None = None, weights: Any = None) -> torch.Tensor:
    """Weighted mean along `axis` (weights of the reduced axis' length, or of `x`'s shape)."""
    x = floating(tensor(x))
    if weights is None:
        return mean(x, axis)
    weights = tensor(weights, dtype=x.dtype).to(x.device)
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axes(axis, x.ndim)[0]] = -1
        weights = weights.reshape(shape)
    return torch.sum(x * weights, dim=axes(axis, x.ndim)) / torch.sum(weights.expand_as(x), dim=axes(axis, x.ndim))


def bincount(x: Any, weights: Any = None, minlength: int = 0) -> torch.Tensor:
    """Count of each non-negative integer in the 1-D `x` (weighted sums with `weights`)."""
    x = tensor(x)
    counts = torch.bincount(x.long(), weights=None if weights is None else tensor(weights), minlength=minlength)
    return counts.to(torch.int32) if weights is None else counts.to(config.float_dtype())
