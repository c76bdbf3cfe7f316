"""Argument checks shared by constructors: one clear error per bad value, raised at the boundary."""

from __future__ import annotations

from typing import Any


def _owner(layer: Any) -> str:
    if layer is None:
        return ""
    return f"{type(layer).__name__} '{getattr(layer, 'name', '?')}': "


def require_positive_int(argument: str, value: Any, layer: Any = None) -> int:
    """Returns `value` as an int if it is a positive whole number, else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
            hasattr(value, "__index__") and not isinstance(value, float)):
        raise ValueError(f"{_owner(layer)}{argument} must be a positive integer; got {value!r}.")
    if int(value) <= 0:
        raise ValueError(f"{_owner(layer)}{argument} must be a positive integer; got {value!r}.")
    return int(value)


def require_rate(argument: str, value: Any, layer: Any = None) -> float:
    """Returns `value` as a float if it lies in [0, 1), else raises ValueError."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{_owner(layer)}{argument} must be a number in [0, 1); got {value!r}.")
    return float(value)


def require_choice(argument: str, value: Any, choices: tuple, layer: Any = None) -> Any:
    """Returns `value` if it is one of `choices`, else raises ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{_owner(layer)}{argument} must be one of {list(choices)}; got {value!r}.")
    return value
