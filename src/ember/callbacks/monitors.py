"""Callbacks that watch a logged quantity: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau."""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

from ember.callbacks.base import Callback

_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou")


def direction_of(name: str) -> str:
    """"max" for quantities that grow when a model improves (accuracy, AUC, ...), else "min" (Keras's rule)."""
    lowered = name.lower()
    return "max" if "loss" not in lowered and any(key in lowered for key in _HIGHER_IS_BETTER) else "min"


class _Monitor:
    """Decides whether a monitored value improved, with Keras's `mode` and `min_delta` rules."""

    def __init__(self, monitor: str, mode: str, min_delta: float, owner: str) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max'; got {mode!r}.")
        if mode == "auto":
            mode = direction_of(monitor)
        self.monitor, self.mode, self.min_delta, self.owner = monitor, mode, abs(min_delta), owner
        self.best = math.inf if mode == "min" else -math.inf

    def read(self, logs: Any) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            available = ", ".join(sorted(logs or {})) or "none"
            warnings.warn(f"{self.owner} monitors '{self.monitor}', which is not in the logs (available: "
                          f"{available}). Pass validation data for 'val_' metrics.", RuntimeWarning, stacklevel=3)
        return value

    def improved(self, value: float) -> bool:
        """Whether `value` beats the best so far by more than `min_delta`."""
        return self.better(value, self.best)

    def better(self, value: float, reference: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta


class EarlyStopping(Callback):
    """Stops training when `monitor` has not improved for `patience` epochs.

    Args:
        monitor: logged quantity ("val_loss" by default).
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: "min", "max" or "auto" (from the name).
        baseline: value the quantity must beat to count at all.
        restore_best_weights: put back the weights of the best epoch when training ends.
        start_from_epoch: epochs to wait before watching.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__()
        self._monitor = _Monitor(monitor, mode, min_delta, "EarlyStopping")
        self.monitor, self.patience, self.verbose, self.baseline = monitor, int(patience), verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, int(start_from_epoch)
        self.stopped_epoch, self.best_epoch, self.wait = 0, 0, 0
        self.best_weights: list | None = None

    @property
    def best(self) -> float:
        return self._monitor.best

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
        self._monitor.best = math.inf if self._monitor.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = self._monitor.read(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._monitor.improved(value):
            self._monitor.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # the wait restarts only when the value beats the baseline too
            if self.baseline is None or self._monitor.better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) at the end of epochs, or every `save_freq` batches.

    Args:
        filepath: where to save; may hold `{epoch:02d}` and logged values such as `{val_loss:.2f}`.
            A path ending in `.weights.safetensors` (or `save_weights_only=True`) saves weights only.
        monitor, mode: the quantity that decides what "best" is.
        save_best_only: save only when `monitor` improves (a non-finite value never does).
        save_freq: "epoch", or an integer N: save after every N training batches (counted across
            epochs, as Keras does), from the running batch logs (no `val_` values there).
    A model is never saved from an epoch whose loss was NaN or infinite.
    """

    primary_only = True  # writes files or prints: rank 0 only under DataParallel

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str = "epoch", initial_value_threshold: float | None = None) -> None:
        super().__init__()
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq < 1):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches; got "
                             f"{save_freq!r}.")
        self.save_freq = save_freq
        if save_freq != "epoch":  # hooks only where needed: a per-batch hook costs every step something
            self.on_epoch_begin, self.on_train_batch_end = self._start_epoch, self._count_batches
        self._epoch, self._last_batch, self._batches_since_save = 0, -1, 0
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self._monitor = _Monitor(monitor, mode, 0.0, "ModelCheckpoint")
        self.monitor = monitor
        if initial_value_threshold is not None:
            self._monitor.best = initial_value_threshold

    @property
    def best(self) -> float:
        return self._monitor.best

    def _start_epoch(self, epoch, logs=None):
        self._epoch, self._last_batch = epoch, -1

    def _count_batches(self, batch, logs=None):
        """Counts the batches since the last save (with steps_per_execution, several per call)."""
        self._batches_since_save += batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._checkpoint(self._epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._checkpoint(epoch, logs)

    def _checkpoint(self, epoch: int, logs: Any) -> None:
        logs = dict(logs or {})
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            return
        if self.save_best_only:
            value = self._monitor.read(logs)
            if value is None or not self._monitor.improved(value):
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self._monitor.best:.5f} to {value:.5f}, "
                      f"saving model to {self._path(epoch, logs)}")
            self._monitor.best = value
        self._save(self._path(epoch, logs))

    def _path(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise ValueError(f"ModelCheckpoint: filepath {self.filepath!r} names {error}, which is not in the logs "
                             f"({sorted(logs)}).") from None

    def _save(self, path: str) -> None:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only or path.endswith(".weights.safetensors"):
            self.model.save_weights(path)
        else:
            self.model.save(path)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` stalls for `patience` epochs."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1); got {factor}.")
        self._monitor = _Monitor(monitor, mode, min_delta, "ReduceLROnPlateau")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.wait, self.cooldown_counter = 0, 0

    def on_epoch_end(self, epoch, logs=None):
        value = self._monitor.read(logs)
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._monitor.improved(value):
            self._monitor.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = self.model.optimizer.learning_rate
            new = max(old * self.factor, self.min_lr)
            if old - new > 1e-12:
                self.model.optimizer.learning_rate = new
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
            self.cooldown_counter, self.wait = self.cooldown, 0
