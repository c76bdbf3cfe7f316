"""`CompileSettings`: the arguments of `Model.compile` (less the optimizer), checked once, and their
saved form. The objectives (losses, metrics) and the step kind are made from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from ember import losses as losses_module
from ember import metrics as metrics_module
from ember import optimizers, registry
from ember._tree import flatten
from ember._validation import require_positive_int
from ember.training.objectives import Objectives
from ember.training import steps


@dataclass(frozen=True)
class CompileSettings:
    """See `Model.compile` for each argument; `precision` is a policy name ("float32", ...)."""

    loss: Any
    metrics: Any = None
    weighted_metrics: Any = None
    loss_weights: Any = None
    jit_compile: Any = "auto"
    precision: str = "float32"
    run_eagerly: bool = False
    steps_per_execution: int = 1
    auto_scale_loss: bool = True

    def __post_init__(self) -> None:
        for spec in flatten(self.loss) if isinstance(self.loss, (list, dict)) else [self.loss]:
            if spec is not None:
                losses_module.get(spec)  # unknown names fail here, listing the valid ones
        for spec in flatten([self.metrics, self.weighted_metrics]):
            if spec is not None:
                metrics_module.get(spec)  # and here
        if self.jit_compile not in ("auto", True, False):
            raise ValueError(f"jit_compile must be 'auto', True or False; got {self.jit_compile!r}.")
        require_positive_int("steps_per_execution", self.steps_per_execution)
        for name in ("run_eagerly", "auto_scale_loss"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False; got {getattr(self, name)!r}.")

    def step_kind(self, device: torch.device) -> str:
        """The kind of step these settings ask for on `device` (`run_eagerly` wins over `jit_compile`)."""
        return "eager" if self.run_eagerly else steps.step_kind(self.jit_compile, device)

    def objectives(self, output_names: list[str]) -> Objectives:
        return Objectives(self.loss, self.metrics, self.loss_weights, output_names, self.weighted_metrics)

    # ------------------------------------------------------------ saved form
    def to_config(self, optimizer: Any) -> dict[str, Any] | None:
        """The optimizer and these settings as JSON values; None when a loss is a plain function that
        cannot be named in a file."""
        try:
            loss = _serialize_loss(self.loss)
        except TypeError:
            return None
        config = asdict(self)
        config.update(optimizer=optimizers.serialize(optimizer), loss=loss, metrics=_metric_names(self.metrics),
                      weighted_metrics=_metric_names(self.weighted_metrics) or None)
        return config

    @staticmethod
    def arguments_from_config(config: dict[str, Any]) -> dict[str, Any]:
        """`compile`'s keyword arguments (less the optimizer) from `to_config`'s output, files from
        before an argument was saved included."""
        arguments = {key: value for key, value in config.items() if key in CompileSettings.__dataclass_fields__}
        arguments["loss"] = _loss_from_config(config["loss"])
        return arguments


def _metric_names(specs: Any) -> Any:
    flat = _flatten_specs(specs)
    if all(isinstance(m, str) for m in flat):
        return specs
    return [m if isinstance(m, str) else registry.get_registered_name(type(m)) for m in flat]


def _loss_from_config(config: Any) -> Any:
    """Losses resolved now, while the load's custom_objects are in scope (a user's function by name)."""
    if isinstance(config, str) or (isinstance(config, dict) and "class_name" in config):
        return losses_module.get(config)
    if isinstance(config, dict):
        return {k: _loss_from_config(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_loss_from_config(v) for v in config]
    return config


def _flatten_specs(specs: Any) -> list:
    if specs is None:
        return []
    if isinstance(specs, dict):
        return [s for v in specs.values() for s in _flatten_specs(v)]
    if isinstance(specs, (list, tuple)):
        return [s for v in specs for s in _flatten_specs(v)]
    return [specs]


def _serialize_loss(loss: Any) -> Any:
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, dict):
        return {k: _serialize_loss(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    return losses_module.serialize(losses_module.get(loss))
