"""Sliding windows over a series, as batches for `fit` (Keras's `timeseries_dataset_from_array`)."""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np


class TimeseriesWindows:
    """Batches of windows `(batch, sequence_length, features)` (and their targets) over an array.

    Iterating gives `(x, y)` NumPy batches (or `x` alone without targets); `len()` is the number of
    batches. Pass it straight to `fit`, `evaluate` or `predict`.
    """

    def __init__(self, data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                 sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False, seed: int | None = None,
                 start_index: int | None = None, end_index: int | None = None) -> None:
        self.data = np.asarray(data)
        self.targets = None if targets is None else np.asarray(targets)
        for argument, value in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride),
                                ("sampling_rate", sampling_rate)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{argument} must be a positive integer; got {value!r}.")
        if self.targets is not None and len(self.targets) != len(self.data):
            raise ValueError(f"data and targets must have the same length; got {len(self.data)} and "
                             f"{len(self.targets)}.")
        start, end = start_index or 0, len(self.data) if end_index is None else end_index
        span = (sequence_length - 1) * sampling_rate + 1
        self.starts = np.arange(start, end - span + 1, sequence_stride)
        if self.targets is not None:  # the target of a window starting at i is targets[i]
            self.starts = self.starts[self.starts < len(self.targets)]
        if len(self.starts) == 0:
            raise ValueError(f"The series is too short for one window of {sequence_length} steps "
                             f"(sampling_rate={sampling_rate}): it has {end - start} values in range.")
        self.sequence_length, self.sampling_rate = sequence_length, sampling_rate
        self.batch_size = batch_size or len(self.starts)
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.starts) / self.batch_size)

    def __iter__(self) -> Iterator:
        starts = self.rng.permutation(self.starts) if self.shuffle else self.starts
        offsets = np.arange(self.sequence_length) * self.sampling_rate
        for first in range(0, len(starts), self.batch_size):
            batch = starts[first:first + self.batch_size]
            windows = self.data[batch[:, None] + offsets]
            if windows.ndim == 2:
                windows = windows[..., None]  # one feature per step
            yield windows if self.targets is None else (windows, self.targets[batch])

    def arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        """All windows (and targets) as two arrays."""
        batches = list(self)
        if self.targets is None:
            return np.concatenate(batches), None
        return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def timeseries_windows(data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                       sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                       seed: int | None = None, start_index: int | None = None,
                       end_index: int | None = None) -> TimeseriesWindows:
    """Windows of `sequence_length` steps over `data`, each paired with `targets[start]`.

    For forecasting one step ahead: `timeseries_windows(series[:-n], series[n:], sequence_length=n)`.
    """
    return TimeseriesWindows(data, targets, sequence_length, sequence_stride, sampling_rate, batch_size, shuffle,
                             seed, start_index, end_index)


timeseries_dataset_from_array = timeseries_windows  # Keras's name
