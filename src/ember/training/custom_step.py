"""`CustomStep`: the batches of a model that overrides Keras 3's `train_step`, `test_step`,
`predict_step`, `compute_loss` or `compute_metrics` go through its own methods.

The engine drives it like any step (callbacks, progress bar, validation, History); the logs are
the dict the model's step returns. Such a model runs eagerly: the fast step kinds apply only to
the built-in step. `CustomStepLogs` stands in for the objectives: each epoch (and each
evaluation) resets every tracker in `model.metrics`, as Keras does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ember import mixed_precision
from ember.training.step import Step, device_of

OVERRIDABLE = ("train_step", "test_step", "predict_step", "compute_loss", "compute_metrics")


def data_of(batch: tuple) -> Any:
    """A batch as Keras hands it to a step: `x`, `(x, y)` or `(x, y, sample_weight)`."""
    x, y, sample_weight = batch
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack(data: Any) -> tuple[Any, Any, Any]:
    """Keras's `unpack_x_y_sample_weight`: `(x, y, sample_weight)` from what a step received."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) in (2, 3):
            return (data[0], data[1], data[2] if len(data) == 3 else None)
    return data, None, None


class CustomStep(Step):
    """Runs `model.train_step(data)` / `test_step` / `predict_step` for each batch."""

    kind = "custom"

    def __init__(self, model: Any, precision: mixed_precision.DTypePolicy) -> None:
        self.model, self.precision = model, precision
        self.logs: dict[str, torch.Tensor] = {}

    def train(self, batch: tuple) -> None:
        with self.precision.autocast(device_of(batch[0])):
            self.logs = _checked_logs(self.model.train_step(data_of(batch)), "train_step")

    def test(self, batch: tuple) -> None:
        with torch.no_grad(), self.precision.autocast(device_of(batch[0])):
            self.logs = _checked_logs(self.model.test_step(data_of(batch)), "test_step")

    def predict(self, batch: tuple) -> Any:
        with torch.no_grad(), self.precision.autocast(device_of(batch[0])):
            return self.model.predict_step(data_of((batch[0], None, None)))


class CustomStepLogs:
    """The engine's view of a custom step's numbers: what the step returned last."""

    def __init__(self, model: Any, step: CustomStep) -> None:
        self.model, self.step = model, step
        self.loss_tracker = _NoStepRecord()

    def reset(self) -> None:
        self.step.logs = {}
        for metric in self.model.metrics:
            metric.reset_state()

    def results(self) -> dict[str, torch.Tensor]:
        return dict(self.step.logs)


class _NoStepRecord:
    """A custom step keeps no per-step loss record: a NaN is reported by epoch (TerminateOnNaN)."""

    @staticmethod
    def first_nonfinite_step() -> int:
        return -1


def _checked_logs(logs: Any, method: str) -> dict[str, torch.Tensor]:
    """The dict a step returned, as scalar tensors; a clear error for anything else."""
    if not isinstance(logs, Mapping):
        raise TypeError(f"{method} must return a dict of scalars {{name: value}} (the logs, e.g. "
                        f"{{m.name: m.result() for m in self.metrics}}); it returned {type(logs).__name__}: "
                        f"{_short(logs)}.")
    checked = {}
    for name, value in logs.items():
        tensor = value.detach() if isinstance(value, torch.Tensor) else None
        if tensor is None and isinstance(value, (int, float)) and not isinstance(value, bool):
            tensor = torch.tensor(float(value))
        if tensor is None or tensor.numel() != 1:
            raise TypeError(f"{method} must return a dict of scalars; its value for {name!r} is "
                            f"{_short(value)}" + (f" of shape {tuple(value.shape)}" if hasattr(value, "shape") else "")
                            + ". Return a number or a one-element tensor (a metric's result()).")
        checked[str(name)] = tensor.reshape(()).float()
    return checked


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
