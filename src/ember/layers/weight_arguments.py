"""Keras's `<weight>_initializer/_regularizer/_constraint` constructor arguments (kernel, bias,
recurrent, ...), shared by Dense, the convolutions and the recurrent layers."""

from __future__ import annotations

from typing import Any

from ember import constraints, initializers, regularizers

_MODULES = {"initializer": initializers, "regularizer": regularizers, "constraint": constraints}


def set_kernel_bias_arguments(layer: Any, **arguments: Any) -> None:
    """Resolves and stores `kernel_initializer`, `bias_regularizer`, ... on `layer`."""
    for name, value in arguments.items():
        kind = name.rsplit("_", 1)[1]
        setattr(layer, name, _MODULES[kind].get(value))


def kernel_bias_config(layer: Any, weights: tuple[str, ...] = ("kernel", "bias")) -> dict[str, Any]:
    """The JSON form of the arguments `set_kernel_bias_arguments` stored, for the named weights."""
    return {f"{weight}_{kind}": module.serialize(getattr(layer, f"{weight}_{kind}"))
            for weight in weights for kind, module in _MODULES.items()}
