"""Cached constant tensors of the simulator (gather indices, sign vectors), made once per
(qubit count, pattern, device, dtype) and always as real tensors, even when first asked for during
ember's shape inference (which runs layers on fake tensors)."""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch
from torch._subclasses.fake_tensor import unset_fake_temporarily


def cached_constant(make: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """`make(*key)` -> a CPU tensor, cached, moved to `device`/`dtype` (cached per device and dtype too)."""
    base = functools.lru_cache(maxsize=128)(make)

    @functools.lru_cache(maxsize=256)
    def on_device(*key: Any, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
        with unset_fake_temporarily():
            value = base(*key)
            return value.to(device=device, dtype=dtype or value.dtype)

    return on_device
