"""Keras 3's `saving.serialize_keras_object` / `deserialize_keras_object`: any ember object as a JSON
config and back.

A config is `{"module", "class_name", "config", "registered_name"}` (Keras's keys; layers also keep
their build shapes). Plain JSON values pass through; a function is `{"class_name": "function",
"config": <its registered name>}`. Reading finds classes and functions among ember's and those the
user registered or passes in `custom_objects`, never by importing what the file names.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ember import (activations, constraints, initializers, losses, metrics, optimizers, regularizers, registry)
from ember.layers.base import Layer
from ember.layers.serialization import UnknownClassError, deserialize_layer, serialize_value
from ember.optimizers import schedules

_PLAIN = (bool, int, float, str, type(None))

# Where ember's own classes live, for a config's class_name (the user's come from the registry).
_FAMILIES: list[tuple[str, Any, type]] = [
    ("ember.losses", losses, losses.Loss), ("ember.metrics", metrics, metrics.Metric),
    ("ember.optimizers", optimizers, optimizers.Optimizer), ("ember.initializers", initializers, initializers.Initializer),
    ("ember.regularizers", regularizers, regularizers.Regularizer),
    ("ember.constraints", constraints, constraints.Constraint),
    ("ember.optimizers.schedules", schedules, schedules.LearningRateSchedule),
]


def serialize_keras_object(obj: Any) -> Any:
    """A JSON-able config for a layer or model, loss, metric, optimizer, initializer, regularizer,
    constraint, learning-rate schedule, function, or any object with `get_config()`."""
    if callable(obj) and not hasattr(obj, "get_config") and not isinstance(obj, (type, nn.Module)):
        name = activations.serialize(obj)  # ember's activations by their short names
        return {"module": getattr(obj, "__module__", None), "class_name": "function", "config": name,
                "registered_name": name}
    return serialize_value(obj)


def deserialize_keras_object(config: Any, custom_objects: dict[str, Any] | None = None, safe_mode: bool | None = None,
                             **kwargs: Any) -> Any:
    """The object `serialize_keras_object` described (a name alone is looked up the same way).
    Unknown names raise an error that lists the registered ones and says how to register."""
    with registry.custom_object_scope(custom_objects), registry.safe_mode_scope(safe_mode):
        return _deserialize(config)


def _deserialize(config: Any) -> Any:
    if isinstance(config, _PLAIN) and not isinstance(config, str):
        return config
    if isinstance(config, str):
        return _find(config, config)
    if isinstance(config, list):
        return [_deserialize(item) for item in config]
    if not isinstance(config, dict) or "class_name" not in config:
        return {key: _deserialize(value) for key, value in config.items()} if isinstance(config, dict) else config
    if config["class_name"] == "function":
        return _find(config.get("registered_name") or config["config"], config["config"])
    if "build_shapes" in config or _is_layer_class(config):
        return deserialize_layer({**config, "class_name": config.get("registered_name") or config["class_name"]})
    cls = _find(config.get("registered_name") or config["class_name"], config["class_name"])
    arguments = dict(config.get("config") or {})
    if isinstance(arguments.get("learning_rate"), dict):
        arguments["learning_rate"] = _deserialize(arguments["learning_rate"])
    return cls.from_config(arguments) if hasattr(cls, "from_config") else cls(**arguments)


def _is_layer_class(config: dict) -> bool:
    found = registry.lookup(config.get("registered_name") or config["class_name"])
    return isinstance(found, type) and issubclass(found, Layer)


def _find(name: str, short_name: str) -> Any:
    found = registry.lookup(name)
    if found is not None:
        return found
    for _, module, base in _FAMILIES:
        candidate = getattr(module, short_name, None)
        if isinstance(candidate, type) and issubclass(candidate, base):
            return candidate
    for module in (activations, losses, metrics):
        candidate = getattr(module, short_name, None)
        if callable(candidate) and not isinstance(candidate, type) and getattr(candidate, "__module__", "").startswith("ember"):
            return candidate
    custom = [n for n in registry.registered_names() if ">" in n]
    raise UnknownClassError(
        f"Cannot find {name!r}: it is neither one of ember's objects nor registered (registered names: "
        f"{custom or 'none'}). Define it with @ember.saving.register_keras_serializable(package=...) before "
        f"loading, or pass custom_objects={{{short_name!r}: ...}}.")
