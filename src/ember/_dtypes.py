"""Dtype names as Keras writes them ("float32", "int64", "bool") and torch dtypes, both ways."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_BY_NAME = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
    "uint8": torch.uint8, "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64,
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "bool": torch.bool, "complex64": torch.complex64, "complex128": torch.complex128,
    "float": torch.float32, "int": torch.int64, "double": torch.float64, "half": torch.float16,
}


def to_torch(dtype: Any, default: torch.dtype | None = torch.float32) -> torch.dtype | None:
    """A torch dtype from a name, a NumPy dtype, a Python type or a torch dtype (None gives `default`)."""
    if dtype is None:
        return default
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is float:
        return torch.float32
    if dtype is int:
        return torch.int64
    if dtype is bool:
        return torch.bool
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    name = name.replace("torch.", "")
    if name not in _BY_NAME:
        raise ValueError(f"Unknown dtype {dtype!r}; expected one of {sorted(_BY_NAME)} (or a torch/NumPy dtype).")
    return _BY_NAME[name]


def name_of(dtype: torch.dtype) -> str:
    """Keras's name of a torch dtype ("float32", "int64", ...)."""
    return str(dtype).replace("torch.", "")
