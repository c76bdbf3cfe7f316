"""History: the per-epoch logs of a `fit` call, as Keras's `History.history` dict of lists."""

from __future__ import annotations

import os
from typing import Any

from ember.callbacks.base import Callback
from ember.distribution import runtime


class History(Callback):
    """Records every epoch's logs; `fit` returns it. `history.history["val_loss"]` is a list of floats."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, path: str | os.PathLike | None = None, metrics: list[str] | None = None) -> Any:
        """Draws loss and each metric per epoch (training and validation) and returns the figure.

        Args:
            path: if given, the figure is saved there as PNG.
            metrics: which logged names to draw (default: all but `val_` ones and the learning rate).
        """
        import matplotlib

        if path is not None and matplotlib.get_backend().lower() not in ("agg", "pdf", "svg"):
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        names = metrics or [k for k in self.history if not k.startswith("val_") and k != "learning_rate"]
        if not names:
            raise ValueError("History.plot: nothing to plot; train for at least one epoch first.")
        figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
        epochs = [e + 1 for e in self.epoch] or list(range(1, len(self.history[names[0]]) + 1))
        for axis, name in zip(axes[0], names):
            axis.plot(epochs[:len(self.history[name])], self.history[name], marker="o", label=f"train {name}")
            if f"val_{name}" in self.history:
                values = self.history[f"val_{name}"]
                axis.plot(epochs[:len(values)], values, marker="o", label=f"validation {name}")
            axis.set_xlabel("epoch")
            axis.set_title(name)
            axis.grid(alpha=0.3)
            axis.legend()
        figure.tight_layout()
        if path is not None:
            if runtime.is_primary():  # under DataParallel every rank holds the same History: rank 0 writes
                figure.savefig(os.fspath(path), dpi=100)
            plt.close(figure)
        return figure
