"""Mixed precision (Keras's `keras.mixed_precision`): weights stay float32, the forward pass and the
loss run in bfloat16 or float16 under `torch.autocast`, which keeps precision-sensitive operations
(softmax, losses, reductions) in float32.

    ember.mixed_precision.set_global_policy("mixed_bfloat16")   # every model compiled afterwards
    model.compile(..., precision="mixed_bfloat16")              # or one model

"mixed_float16" also scales the loss (a `torch.amp.GradScaler`) so that small gradients do not
vanish in float16, and skips the steps whose gradients overflow, as Keras's LossScaleOptimizer does.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

POLICIES = {"float32": None, "mixed_bfloat16": torch.bfloat16, "mixed_float16": torch.float16}


class DTypePolicy:
    """A precision policy: `name` is "float32", "mixed_bfloat16" or "mixed_float16"."""

    def __init__(self, name: str = "float32") -> None:
        if name not in POLICIES:
            raise ValueError(f"Unknown precision policy {name!r}; use one of {list(POLICIES)}.")
        self.name = name

    @property
    def compute_dtype(self) -> str:
        dtype = POLICIES[self.name]
        return "float32" if dtype is None else str(dtype).replace("torch.", "")

    @property
    def variable_dtype(self) -> str:
        return "float32"

    @property
    def is_mixed(self) -> bool:
        return POLICIES[self.name] is not None

    def autocast(self, device: torch.device, cache_enabled: bool = True) -> Any:
        """The context in which the forward pass and the loss run. A CUDA graph records with
        `cache_enabled=False`: autocast's cache of cast weights would be frozen in the graph."""
        dtype = POLICIES[self.name]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=dtype, cache_enabled=cache_enabled)

    def loss_scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        return torch.amp.GradScaler(device.type) if self.name == "mixed_float16" else None

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


Policy = DTypePolicy  # Keras 2's name
_global = DTypePolicy("float32")


def get(policy: str | DTypePolicy | None) -> DTypePolicy:
    """A policy from a name, a policy, or None (the global policy)."""
    if policy is None:
        return _global
    return policy if isinstance(policy, DTypePolicy) else DTypePolicy(policy)


def set_global_policy(policy: str | DTypePolicy) -> None:
    """Sets the precision of models compiled from now on (Keras's function)."""
    global _global
    _global = get(policy) if policy is not None else DTypePolicy("float32")


def global_policy() -> DTypePolicy:
    return _global


def set_dtype_policy(policy: str | DTypePolicy) -> None:
    """Keras 3's alias of `set_global_policy`."""
    set_global_policy(policy)


def dtype_policy() -> DTypePolicy:
    """Keras 3's alias of `global_policy`."""
    return _global
