"""Layers as JSON values and back: `serialize_layer` and `deserialize_layer`.

A serialized layer is `{"class_name", "config", "build_shapes"}`: the registered class name
(`ember.layers.registry`), the layer's `get_config()`, and the input shapes it was built for (so
that its weights exist before the saved values are loaded into them). Containers (Sequential,
functional models, wrappers, GANs) put their children's serialized forms in their own config.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ember.layers import registry
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
    cls = getattr(type(layer), "_functional_variant_of", type(layer))  # CustomModel(inputs, outputs)
    return {"class_name": registry.get_registered_name(cls), "config": layer.get_config(),
            "build_shapes": shape_to_json(shapes)}


def deserialize_layer(spec: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> nn.Module:
    """Rebuilds a layer (or a nested model) from `serialize_layer`'s output, built for its saved shapes."""
    class_name = spec.get("class_name")
    with registry.custom_object_scope(custom_objects):
        cls = registry.lookup(class_name)
        if not isinstance(cls, type):
            custom = [name for name in registry.registered_names() if ">" in name or not _is_ember_name(name)]
            short = class_name.split(">")[-1] if isinstance(class_name, str) else class_name
            raise UnknownClassError(
                f"The file names layer class {class_name!r}, which is neither one of ember's nor registered "
                f"(your registered classes: {(custom[:20] + ['...']) if len(custom) > 20 else custom or 'none'}). If it is your own class, define it with "
                f"@ember.saving.register_keras_serializable() (or as an ember Layer subclass) before loading, "
                f"or pass it: load_model(path, custom_objects={{{class_name!r}: {short}}}).")
        layer = cls.from_config(dict(spec.get("config", {})))
        build_shapes = spec.get("build_shapes")
        if build_shapes and isinstance(layer, Layer):
            layer.build_from_shapes(*[shape_from_json(argument) for argument in build_shapes])
    return layer


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
