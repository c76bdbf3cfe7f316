"""Callbacks that write logs to files: CSVLogger and TensorBoard (real event files)."""

from __future__ import annotations

import csv
import os
from typing import Any

from ember.callbacks.base import Callback


class CSVLogger(Callback):
    """Appends one row of epoch logs per epoch to a CSV file (with a header row)."""

    primary_only = True  # writes files or prints: rank 0 only under DataParallel

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._keys: list[str] | None = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._write_header = not exists
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self._keys is None:
            self._keys = sorted(logs)
        writer = csv.writer(self._file, delimiter=self.separator)
        if self._write_header:
            writer.writerow(["epoch"] + self._keys)
            self._write_header = False
        writer.writerow([epoch] + [logs.get(key, "NA") for key in self._keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


class TensorBoard(Callback):
    """Writes epoch logs (and the learning rate) as TensorBoard event files under `log_dir`.

    Training values go to `log_dir/train`, validation values (`val_*`) to `log_dir/validation`,
    as Keras lays them out. Needs the `tensorboard` package.
    """

    primary_only = True  # writes files or prints: rank 0 only under DataParallel

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = False,
                 update_freq: str | int = "epoch", **kwargs: Any) -> None:
        super().__init__()
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self._writers: dict[str, Any] = {}

    def _writer(self, kind: str) -> Any:
        if kind not in self._writers:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as error:
                raise ImportError("The TensorBoard callback needs the 'tensorboard' package: "
                                  "pip install tensorboard") from error
            self._writers[kind] = SummaryWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs=None):
        self._writer("train")

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if not isinstance(value, (int, float)):
                continue
            kind, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(kind).add_scalar(f"epoch_{name}", value, epoch)
        if self.model.optimizer is not None:
            self._writer("train").add_scalar("epoch_learning_rate", self.model.optimizer.learning_rate, epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            for name, parameter in self.model.named_parameters():
                self._writer("train").add_histogram(name, parameter.detach().cpu(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
