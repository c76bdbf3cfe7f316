"""Optimizers with Keras's names and defaults: `ember.optimizers.Adam(learning_rate=1e-3)`."""

from __future__ import annotations

from typing import Any

from ember._naming import lookup
from ember.optimizers import schedules
from ember.optimizers.optimizer import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, Optimizer,
                                        RMSprop)

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam", "schedules",
           "get", "serialize"]

_OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta, "adam": Adam,
               "adamw": AdamW, "adamax": Adamax, "nadam": Nadam}


def get(identifier: str | Optimizer | dict) -> Optimizer:
    """An optimizer from a name (`"adam"`, with Keras's defaults), a saved config or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier.get("config", {}))
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return lookup("optimizer", identifier["class_name"], _OPTIMIZERS)(**config)
    if isinstance(identifier, str):
        return lookup("optimizer", identifier, _OPTIMIZERS)()
    raise TypeError(f"An optimizer must be a name such as 'adam' or an ember.optimizers.Optimizer; got "
                    f"{identifier!r}. (A torch.optim optimizer cannot be passed before the model has weights.)")


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    return {"class_name": type(optimizer).__name__.lower(), "config": optimizer.get_config()}
