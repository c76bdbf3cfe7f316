"""Callbacks: objects whose hooks the training loop calls (Keras's documented set of hooks).

Callbacks act through documented levers only: `model.stop_training` and
`model.optimizer.learning_rate`. Batch-level `logs` are lazy: reading a value waits for the
device, so callbacks that look at every batch should do so sparingly.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable, Iterable

import numpy as np

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override any of the hooks; `self.model` and `self.params` are set by the loop.

    `primary_only = True` on a subclass (one that writes files or prints) runs it on rank 0 alone
    under data-parallel training; the others run on every rank, with the same (reduced) epoch logs.
    """

    primary_only = False

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


class CallbackList:
    """Calls each hook on every callback, skipping callbacks that do not override it."""

    def __init__(self, callbacks: Iterable[Callback], model: Any, params: dict[str, Any]) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be ember.callbacks.Callback instances; got {callback!r}.")
            callback.set_model(model)
            callback.set_params(params)
        self._active = {hook: [getattr(c, hook) for c in self.callbacks if _overrides(c, hook)] for hook in _HOOKS}
        for legacy, modern in (("on_batch_begin", "on_train_batch_begin"), ("on_batch_end", "on_train_batch_end")):
            self._active[modern] += [getattr(c, legacy) for c in self.callbacks if _overrides(c, legacy)]
        for hook, functions in self._active.items():  # one dispatcher per hook, made once
            setattr(self, hook, _dispatcher(functions, "batch" in hook or "epoch" in hook))


def _dispatcher(functions: list[Callable], takes_index: bool) -> Callable:
    """Calls each function with the hook's arguments; a hook called without logs passes `{}`, so
    that every callback receives a logs dict, as in Keras."""
    if not functions:
        return lambda *args: None
    arity = 2 if takes_index else 1

    def call(*args: Any) -> None:
        if len(args) < arity:
            args = (*args, {})
        for function in functions:
            function(*args)

    return call


def _overrides(callback: Callback, hook: str) -> bool:
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs: Any) -> None:
        super().__init__()
        functions = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                         on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                         on_train_batch_end=on_train_batch_end, **kwargs)
        for hook, function in functions.items():
            if function is None:
                continue
            name = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}.get(hook, hook)
            if name not in _HOOKS:
                raise ValueError(f"LambdaCallback: unknown hook {hook!r}; valid hooks: {', '.join(_HOOKS)}.")
            setattr(self, name, function)


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite, naming the epoch and step.

    ember adds it to every `fit`. It looks at the loss a few times a second and at each epoch's
    end (never forcing a wait for the device at every step); the device records the exact step.
    """

    def __init__(self, check_interval: float = 0.5) -> None:
        super().__init__()
        self.check_interval, self._last_check, self._epoch = check_interval, 0.0, 0
        self._batch_logs: Any = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._batch_logs = epoch, None

    def on_train_batch_end(self, batch, logs=None):
        self._batch_logs = logs
        now = time.monotonic()
        if logs is not None and now - self._last_check >= self.check_interval:
            self._last_check = now
            self._check(logs)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and not getattr(self.model, "stopped_on_nonfinite_loss", False):
            self._check(logs)

    def _check(self, logs: Any) -> None:
        losses = [(name, logs[name]) for name in ("loss", "d_loss", "g_loss") if logs.get(name) is not None]
        broken = [(name, value) for name, value in losses if not math.isfinite(value)]
        if not broken:
            return
        name, loss = broken[0]
        step = self._batch_logs.nonfinite_step() if hasattr(self._batch_logs, "nonfinite_step") else None
        where = f"epoch {self._epoch + 1}, step {int(step) + 1}" if step is not None and step >= 0 \
            else f"epoch {self._epoch + 1}"
        warnings.warn(f"The training {name.replace('_', ' ')} became {loss} at {where}; training stopped. "
                      "Saved checkpoints are kept as they were. Lower the learning rate, scale the inputs, "
                      "or add clipnorm.",
                      RuntimeWarning, stacklevel=2)
        self.model.stop_training = True
        self.model.stopped_on_nonfinite_loss = True


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch's start: `schedule(epoch, lr) -> new lr`."""

    def __init__(self, schedule: Callable, verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        current = self.model.optimizer.learning_rate
        try:
            value = self.schedule(epoch, current)
        except TypeError:
            value = self.schedule(epoch)
        if not isinstance(value, (float, int, np.floating)) or not math.isfinite(value):
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite number; got {value!r}.")
        self.model.optimizer.learning_rate = float(value)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(value)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate


class SwapEMAWeights(Callback):
    """Evaluates (and, with `swap_on_epoch=True`, ends each epoch) with the optimizer's moving
    average of the weights while training continues on the raw weights. Needs `use_ema=True`."""

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch, self._averages_in_model = swap_on_epoch, False

    def _swap(self, into_model: bool) -> None:
        average = getattr(self.model.optimizer, "average", None)
        if average is None:
            raise ValueError("SwapEMAWeights needs an optimizer built with use_ema=True, e.g. "
                             "ember.optimizers.Adam(use_ema=True).")
        if self._averages_in_model != into_model:
            average.swap()
            self._averages_in_model = into_model

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(into_model=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(into_model=True)

    def on_test_begin(self, logs=None):
        self._swap(into_model=True)

    def on_test_end(self, logs=None):
        if not self.swap_on_epoch:
            self._swap(into_model=False)

    def on_train_end(self, logs=None):
        self._swap(into_model=False)
