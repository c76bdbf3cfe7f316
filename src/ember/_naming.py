"""Keras-style automatic names (`dense`, `dense_1`, ...) and lookups of names with helpful errors."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Callable, Mapping

_counters: defaultdict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """`BatchNormalization` -> `batch_normalization`, `Conv2D` -> `conv2d`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """The first use of a prefix gives `prefix`, later ones `prefix_1`, `prefix_2`, ..."""
    count = _counters[prefix]
    _counters[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    """Restarts automatic naming (what `ember.backend.clear_session()` does)."""
    _counters.clear()


def lookup(kind: str, identifier: Any, table: Mapping[str, Callable]) -> Callable:
    """Returns `table[identifier]`, or raises a ValueError that lists the valid names."""
    if identifier in table:
        return table[identifier]
    if isinstance(identifier, str) and identifier.lower() in table:
        return table[identifier.lower()]
    valid = ", ".join(sorted(k for k in table if isinstance(k, str)))
    raise ValueError(f"Unknown {kind} {identifier!r}. Valid {kind} names: {valid}.")
