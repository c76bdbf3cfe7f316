"""Keras-style automatic names (`dense`, `dense_1`, ...) and lookups of names with helpful errors."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Callable, Mapping

from ember import registry

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
    found = registry.lookup(identifier) if isinstance(identifier, str) else None
    if found is not None:  # the user's own, from custom_objects, a scope or register_keras_serializable
        return found
    valid = ", ".join(sorted(k for k in table if isinstance(k, str)))
    raise ValueError(f"Unknown {kind} {identifier!r}. Valid {kind} names: {valid}. For your own {kind}, pass "
                     f"custom_objects={{{identifier!r}: ...}} or register it with "
                     "@ember.saving.register_keras_serializable().")


def get_configurable(kind: str, identifier: Any, names: Mapping[str, type]) -> Any:
    """An object from a name (`"l2"`, `"L2"`), a saved `{"class_name", "config"}` dict, or an
    instance/callable (returned as is); None stays None. Used by initializers, regularizers and
    constraints."""
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return lookup(kind, identifier["class_name"], names)(**identifier.get("config", {}))
    if isinstance(identifier, str):
        return lookup(kind, identifier, names)()
    raise TypeError(f"A {kind} must be a name, a config dict or a callable; got {identifier!r}.")


def serialize_configurable(kind: str, value: Any, base: type) -> dict | None:
    """`{"class_name", "config"}` for an instance of `base`; a plain callable cannot be written to a file."""
    if value is None:
        return None
    if not isinstance(value, base):
        raise TypeError(f"The {kind} {value!r} is a plain callable and cannot be saved; subclass "
                        f"{base.__module__}.{base.__name__} (with get_config) instead.")
    return {"class_name": type(value).__name__, "config": value.get_config()}
