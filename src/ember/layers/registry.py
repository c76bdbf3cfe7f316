"""The names under which layer classes (and models) are found when a saved config is read.

Every `Layer` subclass is registered under its class name when it is defined (ember's own and the
user's); `custom_objects` given to a load, or an active `custom_object_scope`, win over the
registry. A user class whose name is taken by one of ember's classes is not registered over it:
pass it in `custom_objects`. Only registered classes and functions can be named by a file, so
loading never runs code that the user's program did not define itself.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

_CLASSES: dict[str, type] = {}
_SCOPES: list[dict[str, Any]] = []


def register(cls: type, name: str | None = None) -> None:
    """Makes `cls` loadable under `name` (its class name by default)."""
    key = name or cls.__name__
    existing = _CLASSES.get(key)
    if existing is not None and existing is not cls and _is_ember(existing) and not _is_ember(cls):
        return
    _CLASSES[key] = cls


def _is_ember(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "ember"


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Within the block, names in `custom_objects` resolve to the given classes or functions first."""
    _SCOPES.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        _SCOPES.pop()


def lookup(name: str) -> Any:
    """The class or function registered (or given in an active scope) as `name`; None if there is none."""
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    return _CLASSES.get(name)


def registered_names() -> list[str]:
    return sorted(set(_CLASSES).union(*_SCOPES))
