"""Keras's `kernel_*` and `bias_*` constructor arguments, shared by Dense and the convolutions."""

from __future__ import annotations

from typing import Any

from ember import constraints, initializers, regularizers

_MODULES = {"initializer": initializers, "regularizer": regularizers, "constraint": constraints}


def set_kernel_bias_arguments(layer: Any, **arguments: Any) -> None:
    """Resolves and stores `kernel_initializer`, `bias_regularizer`, ... on `layer`."""
    for name, value in arguments.items():
        kind = name.split("_", 1)[1]
        setattr(layer, name, _MODULES[kind].get(value))


def kernel_bias_config(layer: Any) -> dict[str, Any]:
    """The JSON form of the arguments `set_kernel_bias_arguments` stored."""
    return {f"{weight}_{kind}": module.serialize(getattr(layer, f"{weight}_{kind}"))
            for weight in ("kernel", "bias") for kind, module in _MODULES.items()}
