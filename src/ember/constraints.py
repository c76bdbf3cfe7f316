"""Weight constraints applied after each optimizer step: MaxNorm, NonNeg, UnitNorm, MinMaxNorm."""

from __future__ import annotations

from typing import Any

import torch

from ember._naming import get_configurable, serialize_configurable


class Constraint:
    """Base class: `constraint(weights)` returns the projected weights."""

    def __call__(self, weights: torch.Tensor) -> torch.Tensor:
        return weights

    def get_config(self) -> dict[str, Any]:
        return {}


def _norms(weights: torch.Tensor, axis: int | list[int]) -> torch.Tensor:
    return weights.square().sum(dim=axis, keepdim=True).sqrt()


class MaxNorm(Constraint):
    """Rescales each slice along `axis` (the input axis of a Dense kernel) to norm at most `max_value`."""

    def __init__(self, max_value: float = 2.0, axis: int | list[int] = 0) -> None:
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, weights):
        norms = _norms(weights, self.axis)
        return weights * (norms.clamp(0, self.max_value) / (norms + 1e-7))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps slice norms between `min_value` and `max_value`, moving a `rate` of the way there."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | list[int] = 0) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, weights):
        norms = _norms(weights, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return weights * (desired / (norms + 1e-7))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class UnitNorm(Constraint):
    """Rescales each slice along `axis` to unit norm."""

    def __init__(self, axis: int | list[int] = 0) -> None:
        self.axis = axis

    def __call__(self, weights):
        return weights / (_norms(weights, self.axis) + 1e-7)

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, weights):
        return weights.clamp_min(0)


def max_norm(max_value: float = 2.0, axis: int = 0) -> MaxNorm:
    """Keras 2 style factory: `constraints.max_norm(3)`."""
    return MaxNorm(max_value, axis)


_CONSTRAINTS = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "unit_norm": UnitNorm, "non_neg": NonNeg}
_CLASS_NAMES = {"MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "UnitNorm": UnitNorm, "NonNeg": NonNeg}


def get(identifier: str | dict | Constraint | None) -> Constraint | None:
    """A constraint from a name, a saved config, or an instance/callable (returned as is)."""
    return get_configurable("constraint", identifier, _CLASS_NAMES | _CONSTRAINTS)


def serialize(value: Constraint | None) -> dict | None:
    """A JSON description that `get` turns back into the constraint."""
    return serialize_configurable("constraint", value, Constraint)
