"""The training loop shared by `fit`, `evaluate` and `predict`: epochs -> steps -> callbacks.

The loop is blind to the model's insides. What varies is plugged in: the data source (device
batches), the step runner, the callbacks. Logs stay on the device until a callback reads them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Iterator

import numpy as np
import torch

from ember.callbacks.base import CallbackList
from ember.training import denormals
from ember.training.objectives import Objectives
from ember.training.step import Step


def to_python(values: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Device tensors as floats (or lists for vector metrics), read back in one transfer."""
    scalars = {k: v for k, v in values.items() if v.ndim == 0}
    result: dict[str, Any] = {}
    if scalars:
        numbers = torch.stack([v.float() for v in scalars.values()]).tolist()
        result.update(zip(scalars, numbers))
    result.update({k: v.tolist() for k, v in values.items() if v.ndim > 0})
    return {k: result[k] for k in values}


class Logs(Mapping):
    """The running loss and metrics of the current loop, read from the device only when asked."""

    def __init__(self, objectives: Objectives) -> None:
        self.objectives = objectives
        self._cache: dict[str, Any] | None = None

    def invalidate(self) -> None:
        self._cache = None

    def _values(self) -> dict[str, Any]:
        if self._cache is None:
            self._cache = to_python(self.objectives.results())
        return self._cache

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def nonfinite_step(self) -> int:
        """The step (0-based, in this epoch) where the loss first was NaN or infinite; -1 if none."""
        return self.objectives.loss_tracker.first_nonfinite_step()

    def materialize(self) -> dict[str, Any]:
        return dict(self._values())


class Engine:
    """Runs the loops for one model. `Model.fit` builds the parts and hands them over.

    `step` takes one batch at a time (the `ember.training.step.Step` protocol); `objectives` holds
    the device-side trackers that the logs read (a GAN's trackers for a GAN).
    """

    def __init__(self, model: Any, objectives: Any, step: Step, steps_per_execution: int = 1) -> None:
        self.model, self.objectives, self.step = model, objectives, step
        self.steps_per_execution = steps_per_execution  # batches between batch-level callbacks

    @denormals.wrap
    def fit(self, source: Any, callbacks: CallbackList, epochs: int, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation: Any = None, validation_freq: int = 1,
            validation_steps: int | None = None) -> None:
        """`epochs` epochs of `source` from `initial_epoch`, evaluating `validation` (a source, at most
        `validation_steps` batches of it) every `validation_freq` epochs."""
        self.model.stop_training = False
        callbacks.on_train_begin()
        resume = getattr(self.model, "_resume_point", None)  # set by callbacks.BackupAndRestore (callbacks/resume.py)
        self.model._resume_point = None
        if resume is not None:
            initial_epoch = resume.epoch
        try:
            epoch_logs = self._epochs(source, callbacks, epochs, initial_epoch, steps_per_epoch, validation,
                                      validation_freq, validation_steps, resume)
        finally:
            self.step.finish()
        callbacks.on_train_end(epoch_logs)

    @denormals.wrap
    def train_on_batches(self, source: Any) -> None:
        """`train_on_batch`: fit's step on each batch, in training mode, with no epoch around it
        (the running loss and metrics are not reset)."""
        self.model.train()
        try:
            for batch in source.epoch():
                self.step.train(batch)
        finally:
            self.step.finish()

    def _epochs(self, source: Any, callbacks: CallbackList, epochs: int, initial_epoch: int,
                steps_per_epoch: int | None, validation: Any, validation_freq: int,
                validation_steps: int | None, resume: Any = None) -> dict[str, Any]:
        model, logs = self.model, Logs(self.objectives)
        epoch_logs: dict[str, Any] = {}
        for epoch in range(initial_epoch, epochs):
            self.objectives.reset()
            model.train()
            skip = resume.before_epoch(epoch) if resume is not None else 0
            callbacks.on_epoch_begin(epoch)
            after_skipping = (lambda: resume.after_skipping(self.objectives)) if skip else None
            for first, last, batches in self._executions(source, steps_per_epoch, skip, after_skipping):
                callbacks.on_train_batch_begin(first)
                for batch in batches:
                    self.step.train(batch)
                logs.invalidate()
                callbacks.on_train_batch_end(last, logs)
                if model.stop_training:
                    break
            self.step.synchronize_logs(self.objectives)
            logs.invalidate()
            epoch_logs = logs.materialize()
            if validation is not None and (epoch + 1) % validation_freq == 0 and np.isfinite(epoch_logs["loss"]):
                validation_logs = self.evaluate(validation, callbacks, validation_steps)
                epoch_logs.update({f"val_{key}": value for key, value in validation_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        return epoch_logs

    @denormals.wrap
    def evaluate(self, source: Any, callbacks: CallbackList, steps: int | None = None) -> dict[str, Any]:
        model, logs = self.model, Logs(self.objectives)
        was_training = model.training
        self.objectives.reset()
        model.eval()
        callbacks.on_test_begin()
        self.step.begin_inference()
        try:
            for first, last, batches in self._executions(source, steps):
                callbacks.on_test_batch_begin(first)
                for batch in batches:
                    self.step.test(batch)
                logs.invalidate()
                callbacks.on_test_batch_end(last, logs)
        finally:
            self.step.end_inference()
        self.step.synchronize_logs(self.objectives)
        logs.invalidate()
        results = logs.materialize()
        callbacks.on_test_end(results)
        model.train(was_training)
        return results

    @denormals.wrap
    def predict(self, source: Any, callbacks: CallbackList, steps: int | None = None) -> Any:
        model = self.model
        was_training = model.training
        model.eval()
        callbacks.on_predict_begin()
        outputs = []
        self.step.begin_inference()
        try:
            for first, last, batches in self._executions(source, steps):
                callbacks.on_predict_batch_begin(first)
                outputs.extend(self.step.predict(batch) for batch in batches)
                callbacks.on_predict_batch_end(last, {"outputs": outputs[-1]})
        finally:
            self.step.end_inference()
        callbacks.on_predict_end()
        model.train(was_training)
        if not outputs:
            raise ValueError("predict() got no data: the input has no samples.")
        return _concatenate(outputs)


    def _executions(self, source: Any, steps: int | None, skip: int = 0,
                    after_skipping: Any = None) -> Iterator[tuple[int, int, list]]:
        """(first batch index, last batch index, batches) per `steps_per_execution` batches of an
        epoch, after the first `skip` batches (already trained before a resume; then `after_skipping()`)."""
        batches = _limit(source.epoch(), steps)
        for _ in itertools.islice(batches, skip):
            pass
        if after_skipping is not None:
            after_skipping()
        size, first = self.steps_per_execution, skip
        while True:
            group = [next(batches, None)] if size == 1 else list(itertools.islice(batches, size))
            if not group or group[0] is None:
                return
            yield first, first + len(group) - 1, group
            first += len(group)


def _limit(batches: Iterator, steps: int | None) -> Iterator:
    return batches if steps is None else itertools.islice(batches, steps)


def _concatenate(outputs: list[Any]) -> Any:
    """Per-batch outputs joined along the batch axis, as NumPy (one transfer per output). Detached:
    a layer may return a view of its weights (PositionEmbedding), which still requires grad."""
    first = outputs[0]

    def join(parts: list[torch.Tensor]) -> np.ndarray:
        return torch.cat(parts).detach().cpu().numpy()

    if isinstance(first, torch.Tensor):
        return join(outputs)
    if isinstance(first, dict):
        return {key: join([o[key] for o in outputs]) for key in first}
    if isinstance(first, (list, tuple)):
        return [join([o[i] for o in outputs]) for i in range(len(first))]
    raise TypeError(f"predict: the model returned {type(first).__name__}; expected tensors (or lists or dicts "
                    "of them).")
