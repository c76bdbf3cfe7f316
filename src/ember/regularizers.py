"""Weight and activity penalties added to the training loss: L1, L2 and L1L2, as in Keras."""

from __future__ import annotations

from typing import Any

import torch

from ember._naming import get_configurable, serialize_configurable


class Regularizer:
    """Base class: `regularizer(weights)` returns a scalar penalty tensor."""

    def __call__(self, weights: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}


class L1L2(Regularizer):
    """`l1 * sum(|w|) + l2 * sum(w ** 2)`."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        if l1 < 0 or l2 < 0:
            raise ValueError(f"L1L2: l1 and l2 must be non-negative; got l1={l1}, l2={l2}.")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weights: torch.Tensor) -> torch.Tensor:
        penalty = weights.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * weights.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * weights.square().sum()
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """`l1 * sum(|w|)` (Keras's default l1=0.01)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """`l2 * sum(w ** 2)` (Keras's default l2=0.01)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1(l1: float = 0.01) -> L1:
    """Keras 2 style factory: `regularizers.l1(0.01)`."""
    return L1(l1)


def l2(l2: float = 0.01) -> L2:
    """Keras 2 style factory: `regularizers.l2(0.01)`."""
    return L2(l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras 2 style factory: `regularizers.l1_l2(l1=0.01, l2=0.01)`."""
    return L1L2(l1, l2)


_REGULARIZERS = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
_CLASS_NAMES = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier: str | dict | Regularizer | None) -> Regularizer | None:
    """A regularizer from a name, a saved config, or an instance/callable (returned as is)."""
    return get_configurable("regularizer", identifier, _CLASS_NAMES | _REGULARIZERS)


def serialize(value: Regularizer | None) -> dict | None:
    """A JSON description that `get` turns back into the regularizer."""
    return serialize_configurable("regularizer", value, Regularizer)
