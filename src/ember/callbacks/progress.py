"""The progress bar: one line per epoch with steps, ETA and running metrics (Keras's verbose=1/2).

It reads the device-side logs at most a few times a second, so the bar never slows the steps.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm.auto import tqdm

from ember.callbacks.base import Callback


def format_logs(logs: Any) -> str:
    parts = []
    for key, value in logs.items():
        if isinstance(value, float):
            parts.append(f"{key}: {value:.4f}")
        elif isinstance(value, list):
            parts.append(f"{key}: [" + ", ".join(f"{v:.3f}" for v in value) + "]")
    return " - ".join(parts)


class ProgbarLogger(Callback):
    """Shows training progress. verbose=1: a live bar per epoch; verbose=2: one line per epoch."""

    primary_only = True  # writes files or prints: rank 0 only under DataParallel

    def __init__(self, verbose: int = 1, refresh_interval: float = 0.25) -> None:
        super().__init__()
        self.verbose, self.refresh_interval = verbose, refresh_interval
        self._bar: tqdm | None = None
        self._last_refresh = 0.0
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.monotonic()
        total = self.params.get("steps")
        if self.verbose == 1:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')}", file=sys.stdout, flush=True)
            self._bar = tqdm(total=total, unit="step", file=sys.stdout, dynamic_ncols=True, leave=True,
                             mininterval=self.refresh_interval, bar_format="{n_fmt}/{total_fmt} {bar:20} "
                             "{elapsed}<{remaining} {rate_fmt}{postfix}")

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.monotonic()
        if now - self._last_refresh >= self.refresh_interval:
            self._last_refresh = now
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.monotonic() - self._epoch_start
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=True)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            steps = self.params.get("steps") or 1
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {elapsed:.1f}s - "
                  f"{1000 * elapsed / steps:.0f}ms/step - {format_logs(logs or {})}", file=sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def resolve_verbose(verbose: int | str) -> int:
    """Keras's `verbose`: 0 silent, 1 a progress bar, 2 one line per epoch; "auto" is 1 on a terminal, else 2."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto'; got {verbose!r}.")
    return int(verbose)
