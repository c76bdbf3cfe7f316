"""Keras 3's `utils.PyDataset`: a Python object that hands out whole batches by index, loaded in
parallel by threads or processes while the model trains.

A subclass defines `__len__` (batches per epoch) and `__getitem__(index)` returning `x`,
`(x, y)` or `(x, y, sample_weight)`. `fit` reads `len()` batches an epoch, in shuffled order when
`fit(shuffle=True)` (the default, as Keras), calling `on_epoch_begin()`/`on_epoch_end()` around
each epoch. With `workers > 1` (threads) or `use_multiprocessing=True` (processes) up to
`max_queue_size` batches are loaded ahead, and they still arrive in order. A worker that fails
raises its error in the training process; a worker process that dies stops training with an error.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import sys
from collections import deque
from typing import Any, Callable, Iterator, Sequence


class PyDataset:
    """Base class for batch datasets read by index (Keras's `PyDataset`; `utils.Sequence` too).

    Args:
        workers: how many threads (or processes) load batches at once; 1 loads in the training loop.
        use_multiprocessing: load in `workers` processes instead of threads (for Python-heavy
            `__getitem__` code that holds the GIL). The dataset is copied into each process at the
            start of every epoch, so state changed in `on_epoch_end` reaches them.
        max_queue_size: how many batches may be loaded ahead of the one being trained on.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        for name, value in (("workers", workers), ("max_queue_size", max_queue_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"PyDataset: {name} must be a positive integer; got {value!r}.")
        self._workers, self._use_multiprocessing, self._max_queue_size = workers, bool(use_multiprocessing), max_queue_size

    # Keras reads these as properties, and subclasses that skip super().__init__() still work.
    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch (`len(self)`); None for an endless dataset (fit then needs steps_per_epoch)."""
        return len(self) if hasattr(self, "__len__") else None

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) returning one batch.")

    def __iter__(self) -> Iterator[Any]:
        """Batches 0, 1, 2, ... one after another: how an endless dataset (no `__len__`) is read,
        `steps_per_epoch` batches an epoch."""
        index = 0
        while True:
            yield self[index]
            index += 1

    def on_epoch_begin(self) -> None:
        """Called before each epoch's first batch is requested."""

    def on_epoch_end(self) -> None:
        """Called after each epoch's last batch (e.g. to reshuffle the samples)."""


def batches_in_order(dataset: Any, indices: Sequence[int]) -> Iterator[Any]:
    """`dataset[i]` for each index, in order, loaded by `dataset`'s workers when it has several."""
    workers = getattr(dataset, "workers", 1)
    processes = getattr(dataset, "use_multiprocessing", False)
    if workers <= 1 and not processes:
        for index in indices:
            yield dataset[index]
        return
    ahead = max(getattr(dataset, "max_queue_size", 10), workers)
    if processes:
        executor: concurrent.futures.Executor = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=_process_context(), initializer=_hold_dataset, initargs=(dataset,))
        load: Callable[[int], Any] = _load_held
    else:
        executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="ember-pydataset")
        load = dataset.__getitem__
    pending: deque[concurrent.futures.Future] = deque()
    upcoming = iter(indices)

    def request_next() -> None:
        index = next(upcoming, None)
        if index is not None:
            pending.append(executor.submit(load, index))

    try:
        for _ in range(ahead):
            request_next()
        while pending:
            batch = _result(pending.popleft())
            request_next()
            yield batch
    finally:  # also when training stops early: nothing is left running
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


def _result(future: concurrent.futures.Future) -> Any:
    try:
        return future.result()
    except concurrent.futures.process.BrokenProcessPool:
        raise RuntimeError("A PyDataset worker process died while loading a batch (killed, or out of memory). "
                           "Training stopped; use fewer workers or use_multiprocessing=False to see the "
                           "error in this process.") from None


def _process_context() -> Any:
    # fork starts quickly and needs nothing importable; elsewhere (macOS, Windows) spawn is the safe one
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


_HELD: list[Any] = []  # the dataset, in a worker process


def _hold_dataset(dataset: Any) -> None:
    _HELD[:] = [dataset]


def _load_held(index: int) -> Any:
    return _HELD[0][index]
