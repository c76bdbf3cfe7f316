"""Turning user data into device-resident batches: conversion, checks, splitting and batching.

Arrays that fit are moved to the device once; each epoch draws one permutation on the device
and every batch is an index into it, so no step copies from the host or waits for it.
Iterables (a torch DataLoader, a generator of `(x, y)` or `(x, y, sample_weight)`) are moved
batch by batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np
import torch
import torch.utils.data

from ember import config
from ember._tree import flatten, map_structure
from ember.data.py_dataset import batches_in_order

Batch = tuple[Any, Any, Any]  # (x, y, sample_weight), each a tensor tree or None


def to_tensor(value: Any, argument: str, float_type: bool = True) -> torch.Tensor:
    """One array-like as a CPU tensor: floats become floatx; integers stay int64 unless `float_type`."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
    else:
        if hasattr(value, "to_numpy"):  # pandas DataFrame / Series
            value = value.to_numpy()
        if isinstance(value, (list, tuple)) and value and _is_ragged(value):
            raise ValueError(f"{argument} is a list of sequences of different lengths, which cannot form one array. "
                             "Pad them to one length first: ember.preprocessing.sequence.pad_sequences(sequences).")
        array = np.asarray(value)
        if array.dtype == object:
            raise ValueError(f"{argument} could not be turned into a numeric array (got dtype object); "
                             "check for ragged lists, strings or missing values.")
        array = np.ascontiguousarray(array)
        if not array.flags.writeable:  # pandas and memory maps hand out read-only arrays
            array = array.copy()
        tensor = torch.from_numpy(array)
    if tensor.is_floating_point() or float_type:
        return tensor.to(config.float_dtype()) if tensor.dtype != config.float_dtype() else tensor
    return tensor.long()


def _is_ragged(values: list | tuple) -> bool:
    lengths = {len(v) if isinstance(v, (list, tuple, np.ndarray)) else -1 for v in values}
    return len(lengths) > 1


def to_tensor_tree(data: Any, argument: str, float_type: bool | Any = True) -> Any:
    """Nested lists/dicts of arrays as tensors. A plain list of numbers is one array, not many inputs."""
    if data is None:
        return None
    if isinstance(data, dict):
        kinds = float_type if isinstance(float_type, dict) else {}
        return {k: to_tensor(v, f"{argument}[{k!r}]", kinds.get(k, float_type is True)) for k, v in data.items()}
    if isinstance(data, (list, tuple)) and data and all(_is_array_like(v) for v in data):
        kinds = float_type if isinstance(float_type, (list, tuple)) else [float_type is True] * len(data)
        return [to_tensor(v, f"{argument}[{i}]", kinds[i]) for i, v in enumerate(data)]
    return to_tensor(data, argument, float_type if isinstance(float_type, bool) else True)


def _is_array_like(value: Any) -> bool:
    return isinstance(value, (np.ndarray, torch.Tensor)) or hasattr(value, "to_numpy")


def num_samples(*trees: Any) -> int:
    """The common first-axis length of every tensor given; raises when they disagree."""
    lengths = {}
    for name, tree in zip(("x", "y", "sample_weight"), trees):
        for leaf in flatten(tree):
            if leaf is not None:
                if leaf.ndim == 0:
                    raise ValueError(f"{name} must have a batch axis; got a scalar.")
                lengths.setdefault(name, set()).add(leaf.shape[0])
    sizes = {size for group in lengths.values() for size in group}
    if len(sizes) > 1:
        described = ", ".join(f"{name}: {sorted(group)}" for name, group in lengths.items())
        raise ValueError(f"x, y and sample_weight must have the same number of samples; got {described}.")
    return sizes.pop() if sizes else 0


def check_finite(tree: Any, argument: str) -> None:
    """Raises when a float array holds NaN or infinity (one pass, before training starts)."""
    for index, leaf in enumerate(flatten(tree)):
        # the sum is finite unless a value is NaN or infinite (or it overflows): a fast pass, no allocation
        if leaf is not None and leaf.is_floating_point() and not torch.isfinite(leaf.sum()) \
                and not torch.isfinite(leaf).all():
            bad = (~torch.isfinite(leaf)).nonzero()[0].tolist()
            where = f" (first at index {tuple(bad)})" if bad else ""
            raise ValueError(f"{argument} contains NaN or infinite values{where}. Clean or impute them before "
                             "training, e.g. np.nan_to_num(x) or dropping those rows.")


def take(tree: Any, index: torch.Tensor | slice) -> Any:
    """Rows `index` of every tensor in a tree."""
    if tree is None:
        return None
    if isinstance(tree, torch.Tensor):
        return tree[index] if isinstance(index, slice) else tree.index_select(0, index)
    if isinstance(index, slice):
        return map_structure(lambda t: None if t is None else t[index], tree)
    return map_structure(lambda t: None if t is None else t.index_select(0, index), tree)


def split_tail(tree: Any, fraction: float, total: int) -> tuple[Any, Any]:
    """(head, tail) with the last `fraction` of samples in the tail (Keras's validation_split)."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must be a fraction in (0, 1); got {fraction}.")
    cut = total - int(math.floor(total * fraction))
    if cut in (0, total):
        raise ValueError(f"validation_split={fraction} leaves no samples for training or validation "
                         f"(of {total} samples).")
    return take(tree, slice(0, cut)), take(tree, slice(cut, total))


@dataclass
class ArraySource:
    """Batches of in-memory tensors, resident on `device`, shuffled on the device each epoch."""

    x: Any
    y: Any
    sample_weight: Any
    batch_size: int
    shuffle: bool
    device: torch.device

    def __post_init__(self) -> None:
        self.size = num_samples(self.x, self.y, self.sample_weight)
        move = lambda t: None if t is None else t.to(self.device, non_blocking=True)  # noqa: E731
        self.x, self.y, self.sample_weight = (map_structure(move, part) for part in (self.x, self.y,
                                                                                       self.sample_weight))

    def __len__(self) -> int:
        return math.ceil(self.size / self.batch_size)

    def epoch(self) -> Iterator[Batch]:
        if self.shuffle:
            order = torch.randperm(self.size, device=self.device)
            for start in range(0, self.size, self.batch_size):
                index = order[start:start + self.batch_size]
                yield take(self.x, index), take(self.y, index), take(self.sample_weight, index)
        else:
            for start in range(0, self.size, self.batch_size):
                rows = slice(start, start + self.batch_size)
                yield take(self.x, rows), take(self.y, rows), take(self.sample_weight, rows)


class IterableSource:
    """Batches from an iterable of `x`, `(x, y)` or `(x, y, sample_weight)`, moved to `device`.

    A batch sequence (an object with `__len__` and `__getitem__` returning whole batches, as Keras's
    `Sequence` and `PyDataset`) is read by index: exactly `len()` batches per epoch (in a new random
    order each epoch when `shuffle`, as Keras's fit does), between its `on_epoch_begin()` and
    `on_epoch_end()` if it has them, loaded by its workers (`ember.data.py_dataset`). (Iterating it
    would read past its end: such objects rarely raise IndexError there.)
    """

    def __init__(self, iterable: Iterable, device: torch.device, steps: int | None = None,
                 float_inputs: Any = True, shuffle: bool = False) -> None:
        self.iterable, self.device, self.steps, self.float_inputs = iterable, device, steps, float_inputs
        self.shuffle = shuffle  # the order of a batch sequence's batches, drawn each epoch
        self._iterator: Iterator | None = None
        self._pending: Any = None

    def __len__(self) -> int:
        if self.steps is not None:
            return self.steps
        try:
            return len(self.iterable)
        except TypeError:
            raise ValueError("This data source has no length; pass steps_per_epoch (or steps) to say how many "
                             "batches make an epoch.") from None

    def first_batch(self) -> Batch:
        """The first batch, converted (a one-shot iterator keeps it for the first epoch)."""
        if is_batch_sequence(self.iterable):
            if len(self.iterable) == 0:
                raise ValueError("The data source yielded no batches: its len() is 0.")
            return self._to_batch(self.iterable[0])
        iterator = iter(self.iterable)
        try:
            item = next(iterator)
        except StopIteration:
            raise ValueError("The data source yielded no batches.") from None
        if iterator is self.iterable:
            self._pending, self._iterator = item, iterator
        return self._to_batch(item)

    def epoch(self) -> Iterator[Batch]:
        if is_batch_sequence(self.iterable):
            yield from self._sequence_epoch()
            return
        if self._iterator is None:
            self._iterator = iter(self.iterable)
        count = 0
        while self.steps is None or count < self.steps:
            if self._pending is not None:
                item, self._pending = self._pending, None
            else:
                try:
                    item = next(self._iterator)
                except StopIteration:
                    self._iterator = None  # a re-iterable source (DataLoader) starts over next epoch
                    return
            yield self._to_batch(item)
            count += 1
        if self.steps is None:
            self._iterator = None

    def _sequence_epoch(self) -> Iterator[Batch]:
        on_epoch_begin = getattr(self.iterable, "on_epoch_begin", None)
        if callable(on_epoch_begin):
            on_epoch_begin()
        total = len(self.iterable)
        order = torch.randperm(total).tolist() if self.shuffle else list(range(total))
        count = total if self.steps is None else min(self.steps, total)
        for item in batches_in_order(self.iterable, order[:count]):
            yield self._to_batch(item)
        on_epoch_end = getattr(self.iterable, "on_epoch_end", None)
        if callable(on_epoch_end):
            on_epoch_end()

    def _to_batch(self, item: Any) -> Batch:
        if isinstance(item, (list, tuple)) and 1 <= len(item) <= 3:  # (x,), (x, y) or (x, y, sample_weight)
            parts = list(item) + [None] * (3 - len(item))
        else:
            parts = [item, None, None]
        x = to_tensor_tree(parts[0], "x", self.float_inputs)
        y = to_tensor_tree(parts[1], "y", False)
        weight = to_tensor_tree(parts[2], "sample_weight")
        move = lambda t: None if t is None else t.to(self.device, non_blocking=True)  # noqa: E731
        return map_structure(move, x), map_structure(move, y), map_structure(move, weight)


def is_iterable_dataset(data: Any) -> bool:
    """Whether `data` is a stream of batches (DataLoader, generator, Sequence) rather than an array."""
    if data is None or isinstance(data, (np.ndarray, torch.Tensor, dict, list, tuple, str)):
        return False
    if hasattr(data, "to_numpy"):
        return False
    if isinstance(data, torch.utils.data.Dataset) and not isinstance(data, torch.utils.data.IterableDataset):
        raise TypeError(f"A torch Dataset ({type(data).__name__}) yields single samples; fit takes batches. "
                        "Wrap it: torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True).")
    return hasattr(data, "__iter__") or is_batch_sequence(data)


def is_batch_sequence(data: Any) -> bool:
    """Whether `data` is read by index, `len(data)` batches an epoch (Keras's Sequence, PyDataset)."""
    return hasattr(data, "__len__") and hasattr(data, "__getitem__") and not isinstance(
        data, (np.ndarray, torch.Tensor, dict, list, tuple, str, torch.utils.data.DataLoader)) \
        and not hasattr(data, "to_numpy")
