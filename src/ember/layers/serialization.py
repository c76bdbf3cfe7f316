"""Layers as JSON values and back: `serialize_layer` and `deserialize_layer`.

A serialized layer is `{"class_name", "config", "build_shapes"}`: the registered class name
(`ember.registry`), the layer's `get_config()`, and the input shapes it was built for (so
that its weights exist before the saved values are loaded into them). Containers (Sequential,
functional models, wrappers, GANs) put their children's serialized forms in their own config.
"""

from __future__ import annotations

import base64
import difflib
import marshal
import sys
import types
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import registry
from ember.layers.base import Layer
from ember.layers.shapes import shape_from_json, shape_to_json


class UnknownClassError(ValueError):
    """A config names a class (or function) that is neither one of ember's nor registered by the user."""


def serialize_layer(layer: nn.Module) -> dict[str, Any]:
    """`{"class_name", "config", "build_shapes"}` for a layer, nested models included."""
    if not isinstance(layer, Layer):
        raise TypeError(f"Layer {type(layer).__name__} is a plain torch.nn.Module, which has no config to save. "
                        "Use model.save_weights(), or wrap it in an ember Layer with get_config().")
    shapes = list(layer.build_arguments) if layer.built else None
    cls = getattr(type(layer), "_saved_as", type(layer))  # CustomModel(inputs, outputs)
    return {"class_name": registry.get_registered_name(cls), "config": serialize_value(layer.get_config()),
            "build_shapes": shape_to_json(shapes)}


_PLAIN = (bool, int, float, str, type(None))


def serialize_value(value: Any) -> Any:
    """Any config value as JSON values (Keras's `serialize_keras_object`): plain values as they are,
    layers as `serialize_layer` gives them, objects with `get_config()` (regularizers, initializers,
    losses, optimizers, schedules...) as `{"module", "class_name", "config", "registered_name"}`,
    functions and classes by their registered name."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        return [serialize_value(item) for item in value]
    if isinstance(value, dict):
        return {key: serialize_value(item) for key, item in value.items()}
    if isinstance(value, nn.Module):
        spec = serialize_layer(value)
        return {"module": type(value).__module__, "registered_name": spec["class_name"], **spec}
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if hasattr(value, "get_config") and not isinstance(value, type):
        return {"module": type(value).__module__, "class_name": type(value).__name__,
                "config": serialize_value(value.get_config()), "registered_name": registry.get_registered_name(type(value))}
    if callable(value):
        name = registry.get_registered_name(value)
        return {"module": getattr(value, "__module__", None), "class_name": "function", "config": name,
                "registered_name": name}
    raise TypeError(f"Cannot serialize {value!r} ({type(value).__name__}): it is not a plain value, a layer, or an "
                    "object with get_config(). Give its class get_config() and from_config(), or register it.")


def deserialize_layer(spec: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> nn.Module:
    """Rebuilds a layer (or a nested model) from `serialize_layer`'s output, built for its saved shapes."""
    class_name = spec.get("class_name")
    with registry.custom_object_scope(custom_objects):
        cls = registry.lookup(class_name)
        if not isinstance(cls, type):
            custom = _nearest_registered_names(class_name)
            short = class_name.split(">")[-1] if isinstance(class_name, str) else class_name
            raise UnknownClassError(
                f"The file names layer class {class_name!r}, which is neither one of ember's nor registered "
                f"(your registered classes: {custom or 'none'}). If it is your own class, define it with "
                f"@ember.saving.register_keras_serializable() (or as an ember Layer subclass) before loading, "
                f"or pass it: load_model(path, custom_objects={{{class_name!r}: {short}}}).")
        layer = cls.from_config(dict(spec.get("config", {})))
        build_shapes = spec.get("build_shapes")
        if build_shapes and isinstance(layer, Layer):
            layer.build_from_shapes(*[shape_from_json(argument) for argument in build_shapes])
    return layer


def _nearest_registered_names(class_name: Any, limit: int = 20) -> list[str]:
    """The user's registered class names, those of `class_name`'s package and the most alike
    first, at most `limit` (then '...')."""
    custom = [name for name in registry.registered_names() if ">" in name or not _is_ember_name(name)]
    wanted = class_name if isinstance(class_name, str) else ""
    package = wanted.split(">")[0] if ">" in wanted else None
    alike = difflib.get_close_matches(wanted, custom, n=limit, cutoff=0.0)
    custom.sort(key=lambda name: (package is None or not name.startswith(package + ">"),
                                  alike.index(name) if name in alike else limit, name))
    return custom[:limit] + ["..."] if len(custom) > limit else custom


def _is_ember_name(name: str) -> bool:
    cls = registry.lookup(name)
    return isinstance(cls, type) and cls.__module__.split(".")[0] == "ember"


def lookup_function(name: str, owner: str) -> Any:
    """A function named in a config (a Lambda's), found among the user's custom objects only."""
    function = registry.lookup(name)
    if not callable(function) or isinstance(function, type):
        raise UnknownClassError(f"The Lambda layer '{owner}' wraps the function {name!r}; ember never stores code "
                                f"in files. Pass it: load_model(path, custom_objects={{{name!r}: {name}}}).")
    return function


LAMBDA = "__lambda__"
_JSON_VALUES = (bool, int, float, str, type(None))


def function_to_config(function: Any) -> Any:
    """A function as a config value: its registered name, or for an anonymous `lambda` Keras's
    form `{"class_name": "__lambda__", "config": {...bytecode...}}`, which only a load with
    `safe_mode=False` turns back into code. A lambda whose closure holds anything but plain values
    is saved by name only (`custom_objects` must supply it)."""
    if not isinstance(function, types.LambdaType) or function.__name__ != "<lambda>":
        return registry.get_registered_name(function)
    closure = [cell.cell_contents for cell in function.__closure__ or ()]
    defaults = list(function.__defaults__ or ())
    if not all(isinstance(value, _JSON_VALUES) for value in closure + defaults):
        return "<lambda>"
    return {"class_name": LAMBDA, "config": {
        "code": base64.b64encode(marshal.dumps(function.__code__)).decode("ascii"),
        "defaults": defaults or None, "closure": closure or None,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}"}}


def function_from_config(value: Any, owner: str) -> Any:
    """The function `function_to_config` wrote: by name from the user's objects; bytecode only when
    the load allows it (`safe_mode=False`)."""
    if not (isinstance(value, dict) and value.get("class_name") == LAMBDA):
        return lookup_function(value, owner)
    if registry.in_safe_mode():
        raise ValueError(
            f"The Lambda layer '{owner}' holds a Python lambda saved as bytecode. Running code from a file could do "
            "anything, so it is refused by default. If you trust this file, load it with safe_mode=False "
            "(or call ember.config.enable_unsafe_deserialization()); or define the function with `def`, "
            "save again, and pass it in custom_objects.")
    config = value["config"]
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if config.get("python") != running:
        raise ValueError(f"The Lambda layer '{owner}' was saved by Python {config.get('python')}; its bytecode "
                         f"cannot run on Python {running}. Pass the function in custom_objects instead.")
    code = marshal.loads(base64.b64decode(config["code"]))
    names = {"torch": torch, "np": np, "numpy": np, **_ember_names(), **registry.lookup_scope()}
    closure = tuple(types.CellType(value) for value in config.get("closure") or ())
    return types.FunctionType(code, names, "<lambda>", tuple(config.get("defaults") or ()) or None, closure or None)


def _ember_names() -> dict[str, Any]:
    import ember  # the package, for lambdas that call ember.ops or keras.ops

    return {"ember": ember, "keras": ember, "ops": ember.ops}
