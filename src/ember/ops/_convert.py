"""What every `ops` function does to its arguments: tensors in (Keras's dtype rules), clear errors out.

Keras's rules, which differ from NumPy's: Python floats become float32 (`floatx`), Python ints
int32; NumPy arrays keep their dtype; an int tensor with a Python float gives float32; functions
that are float-valued (`sqrt`, `mean`, `divide`, ...) turn ints into float32, not float64.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ember import _dtypes, config


def tensor(x: Any, dtype: Any = None, like: torch.Tensor | None = None) -> torch.Tensor:
    """`x` as a tensor (on `like`'s device when given); a tensor of the right dtype is returned as is."""
    if isinstance(x, torch.Tensor):
        return x if dtype is None else x.to(_dtypes.to_torch(dtype))
    device = like.device if like is not None else None
    if dtype is not None:
        return torch.as_tensor(np.asarray(x), device=device).to(_dtypes.to_torch(dtype))
    if isinstance(x, bool) or isinstance(x, np.bool_):
        return torch.tensor(bool(x), device=device)
    if isinstance(x, int):
        return torch.tensor(x, dtype=torch.int32, device=device)
    if isinstance(x, float):
        return torch.tensor(x, dtype=config.float_dtype(), device=device)
    array = np.asarray(x)
    if array.dtype == object:
        raise TypeError(f"Cannot convert {type(x).__name__} to a tensor: it holds Python objects "
                        "(ragged lists or mixed types?). Give numbers or arrays of one shape.")
    if isinstance(x, (list, tuple)):  # Python lists follow the Python-scalar rules
        if array.dtype.kind == "f":
            array = array.astype(_dtypes.name_of(config.float_dtype()))
        elif array.dtype.kind in "iu":
            array = array.astype(np.int32)
    return torch.as_tensor(array, device=device)


def pair(x1: Any, x2: Any) -> tuple[Any, Any]:
    """Two operands for an elementwise function: Python scalars stay scalars (torch types them
    weakly, as Keras does), everything else becomes a tensor on the other operand's device."""
    if isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor):
        return x1, x2
    if isinstance(x1, torch.Tensor):
        return x1, x2 if _is_python_scalar(x2) else tensor(x2, like=x1)
    if isinstance(x2, torch.Tensor):
        return (x1 if _is_python_scalar(x1) else tensor(x1, like=x2)), x2
    return tensor(x1), tensor(x2)


def tensors(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Two operands as tensors (Python scalars typed weakly, after the other operand)."""
    x1, x2 = pair(x1, x2)
    if not isinstance(x1, torch.Tensor):
        x1 = torch.tensor(x1, dtype=_weak_dtype(x1, x2), device=x2.device)
    if not isinstance(x2, torch.Tensor):
        x2 = torch.tensor(x2, dtype=_weak_dtype(x2, x1), device=x1.device)
    return x1, x2


def floating(x: torch.Tensor) -> torch.Tensor:
    """`x` itself when it is floating or complex, else `x` as float32 (Keras's float-valued results)."""
    return x if x.is_floating_point() or x.is_complex() else x.to(config.float_dtype())


def axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Keras's `axis` (None, an int or a sequence; negative counts from the end) as a tuple of dims."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    result = []
    for a in axis:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor of rank {ndim} "
                             f"(valid: {-max(ndim, 1)} to {max(ndim, 1) - 1}).")
        result.append(a % max(ndim, 1))
    return tuple(result)


def shape_error(name: str, error: Exception, *operands: Any) -> ValueError:
    """A ValueError for `ops.<name>` that names every operand's shape, then torch's reason."""
    shapes = " and ".join(str(tuple(getattr(op, "shape", ()))) for op in operands)
    return ValueError(f"ops.{name}: incompatible shapes {shapes}: {error}")


def binary(torch_function: Callable, name: str, doc: str) -> Callable:
    """An elementwise function of two operands with NumPy broadcasting and Keras's dtype rules."""

    def op(x1: Any, x2: Any) -> torch.Tensor:
        x1, x2 = tensors(x1, x2)
        try:
            return torch_function(x1, x2)
        except RuntimeError as error:
            raise shape_error(name, error, x1, x2) from None

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def unary(torch_function: Callable, name: str, doc: str, float_valued: bool = False) -> Callable:
    """An elementwise function of one operand; `float_valued` ones turn integer inputs into float32."""

    def op(x: Any) -> torch.Tensor:
        x = tensor(x)
        return torch_function(floating(x) if float_valued else x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _is_python_scalar(x: Any) -> bool:
    return isinstance(x, (int, float, bool)) and not isinstance(x, np.generic)


def _weak_dtype(scalar: Any, other: torch.Tensor) -> torch.dtype:
    if isinstance(scalar, bool):
        return torch.bool if other.dtype == torch.bool else other.dtype
    if isinstance(scalar, int):
        return other.dtype if other.dtype != torch.bool else torch.int32
    return other.dtype if other.is_floating_point() or other.is_complex() else config.float_dtype()
