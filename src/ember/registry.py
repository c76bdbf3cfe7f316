"""The names under which classes and functions are found when a saved config is read.

Every `Layer` subclass is registered under its class name when it is defined (ember's own and the
user's); a user class whose name is taken by one of ember's classes is not registered over it.
`register_keras_serializable(package, name)` registers a class or function under
`"package>name"` (Keras's form), and `get_custom_objects()` is the live dict of those: adding to it
registers too. `custom_objects` given to a load, or an active `custom_object_scope`, win over both.
Only registered or given names can be named by a file, so loading never runs code that the user's
program did not define itself.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

_CLASSES: dict[str, type] = {}  # Layer subclasses by class name, filled as they are defined
_CUSTOM: dict[str, Any] = {}  # register_keras_serializable and get_custom_objects()
_NAMES: dict[Any, str] = {}  # object -> the name it was registered under
_SCOPES: list[dict[str, Any]] = []
_SAFE_MODE: list[bool] = []  # innermost load's safe_mode; Keras's default (True) when empty
_UNSAFE_EVERYWHERE = [False]  # ember.config.enable_unsafe_deserialization()


def register(cls: type, name: str | None = None) -> None:
    """Makes `cls` loadable under `name` (its class name by default)."""
    key = name or cls.__name__
    existing = _CLASSES.get(key)
    if existing is not None and existing is not cls and _is_ember(existing) and not _is_ember(cls):
        return
    _CLASSES[key] = cls


def _is_ember(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "ember"


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Decorator: saves name the class or function as `"package>name"` (`name`: its own by default),
    and loading finds it by that name without `custom_objects`.

    >>> @ember.saving.register_keras_serializable(package="my_layers")
    ... class Scale(ember.layers.Layer): ...
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"package must be a string without '>'; got {package!r}.")

    def decorate(obj: Any) -> Any:
        own_name = name or getattr(obj, "__name__", None)
        if not own_name:
            raise ValueError(f"register_keras_serializable: {obj!r} has no __name__; pass name=...")
        key = f"{package}>{own_name}"
        _CUSTOM[key] = obj
        _NAMES[obj] = key
        return obj

    return decorate


def get_custom_objects() -> dict[str, Any]:
    """The live dict of registered custom objects; `get_custom_objects()["name"] = obj` registers `obj`."""
    return _CUSTOM


def get_registered_name(obj: Any) -> str:
    """The name `obj` is saved under: its registered name, else its own `__name__`."""
    try:
        return _NAMES[obj]
    except (KeyError, TypeError):
        return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The class or function saved as `name`, or None (`custom_objects` first, then scopes, the registry)."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return lookup(name)


@contextlib.contextmanager
def custom_object_scope(*custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Within the block, names in the given dicts resolve to their classes or functions first."""
    scope: dict[str, Any] = {}
    for objects in custom_objects:
        scope.update(objects or {})
    _SCOPES.append(scope)
    try:
        yield
    finally:
        _SCOPES.pop()


def lookup(name: str) -> Any:
    """The class or function given in an active scope or registered as `name`; None if there is none."""
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    if name in _CUSTOM:
        return _CUSTOM[name]
    return _CLASSES.get(name)


def lookup_scope() -> dict[str, Any]:
    """Every name the active scopes and registrations give (for a function rebuilt from bytecode)."""
    names = dict(_CUSTOM)
    for scope in _SCOPES:
        names.update(scope)
    return names


def registered_names() -> list[str]:
    return sorted(set(_CLASSES).union(_CUSTOM, *_SCOPES))


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool | None) -> Iterator[None]:
    """Within the block, `in_safe_mode()` answers `safe_mode` (None keeps the enclosing answer)."""
    if safe_mode is None:
        yield
        return
    _SAFE_MODE.append(bool(safe_mode))
    try:
        yield
    finally:
        _SAFE_MODE.pop()


def in_safe_mode() -> bool:
    """Whether a config being read may not carry code (a Lambda's bytecode): True unless the load
    passed safe_mode=False or `ember.config.enable_unsafe_deserialization()` was called."""
    if _SAFE_MODE:
        return _SAFE_MODE[-1]
    return not _UNSAFE_EVERYWHERE[0]


def enable_unsafe_deserialization() -> None:
    """Lets every later load rebuild Lambda bytecode, as `safe_mode=False` does for one load."""
    _UNSAFE_EVERYWHERE[0] = True
