"""Small helpers for nested structures of tensors (lists, tuples and dicts of leaves)."""

from __future__ import annotations

from typing import Any, Callable


def map_structure(function: Callable[[Any], Any], structure: Any) -> Any:
    """Applies `function` to every leaf of nested lists, tuples and dicts, keeping the nesting."""
    if isinstance(structure, dict):
        return {key: map_structure(function, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(function, value) for value in structure)
    return function(structure)


def flatten(structure: Any) -> list[Any]:
    """The leaves of a nested structure, in order (dict values by insertion order)."""
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in flatten(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in flatten(value)]
    return [structure]


def first_leaf(structure: Any, predicate: Callable[[Any], bool]) -> Any:
    """The first leaf for which `predicate` holds, or None."""
    return next((leaf for leaf in flatten(structure) if predicate(leaf)), None)
