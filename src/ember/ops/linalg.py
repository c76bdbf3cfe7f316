"""`keras.ops.linalg`: decompositions, solves, inverses and norms over the last two axes (batched)."""

from __future__ import annotations

from typing import Any

import torch

from ember.ops._convert import axes, floating, tensor, tensors


def _matrices(x: Any) -> torch.Tensor:
    x = floating(tensor(x))
    if x.ndim < 2:
        raise ValueError(f"Expected matrices (at least 2-D, the last two axes the matrix); got shape {tuple(x.shape)}.")
    return x


def cholesky(x: Any) -> torch.Tensor:
    """Lower-triangular L with L @ L^T = x (x symmetric positive definite)."""
    return torch.linalg.cholesky(_matrices(x))


def det(x: Any) -> torch.Tensor:
    return torch.linalg.det(_matrices(x))


def inv(x: Any) -> torch.Tensor:
    return torch.linalg.inv(_matrices(x))


def eig(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors (complex in general)."""
    return torch.linalg.eig(_matrices(x))


def eigh(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix."""
    return torch.linalg.eigh(_matrices(x))


def qr(x: Any, mode: str = "reduced") -> tuple[torch.Tensor, torch.Tensor]:
    return torch.linalg.qr(_matrices(x), mode=mode)


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """U, S, V^H (or S alone without `compute_uv`)."""
    x = _matrices(x)
    return torch.linalg.svd(x, full_matrices=full_matrices) if compute_uv else torch.linalg.svdvals(x)


def solve(a: Any, b: Any) -> torch.Tensor:
    """x with a @ x = b."""
    a, b = tensors(a, b)
    a, b = _matrices(a), floating(b)
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else -1]:
        raise ValueError(f"ops.solve: a of shape {tuple(a.shape)} and b of shape {tuple(b.shape)} do not match "
                         "(a's last axis must equal b's rows).")
    return torch.linalg.solve(a, b)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> torch.Tensor:
    a, b = tensors(a, b)
    b = floating(b)
    vector = b.ndim == 1
    result = torch.linalg.solve_triangular(_matrices(a), b[:, None] if vector else b, upper=not lower)
    return result[:, 0] if vector else result


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A002
    """Vector norm (one axis, or all when `x` is a vector) or matrix norm (two axes), as NumPy."""
    x = floating(tensor(x))
    if axis is None:
        if ord is None:
            return torch.linalg.vector_norm(x, dim=None, keepdim=keepdims)
        axis = tuple(range(x.ndim))
    dims = axes(axis, x.ndim)
    if len(dims) == 1:
        return torch.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=dims, keepdim=keepdims)
    return torch.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=dims, keepdim=keepdims)
