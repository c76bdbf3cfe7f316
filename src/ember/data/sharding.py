"""Splitting batches over data-parallel replicas (one per process).

Training (`GlobalBatchSource`): every epoch, rank 0 draws the permutation of all samples and
broadcasts it, so all ranks cut the same global batches of `batch_size` and each takes its own
disjoint part: no sample is seen twice in an epoch and none is dropped. A global batch that does
not divide evenly (the last one) is split with parts differing by one sample, and the loss of each
part is scaled so that the averaged gradient equals the one-process gradient of the whole batch.
A last batch with fewer samples than replicas is dropped, with a warning saying how many.

Evaluation and prediction (`contiguous_shard`): each rank takes one contiguous block of the
samples (ranks' blocks differ by at most one sample); the results are reduced or gathered after.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterator

import torch

from ember.data.arrays import ArraySource, take


class ShardBatch(tuple):
    """A replica's part `(x, y, sample_weight)` of a global batch of `global_size` samples."""

    global_size: int

    def __new__(cls, parts: tuple, global_size: int) -> "ShardBatch":
        batch = super().__new__(cls, parts)
        batch.global_size = global_size
        return batch


def part_bounds(size: int, rank: int, world: int) -> tuple[int, int]:
    """[start, stop) of rank's part of `size` items split into `world` parts differing by one at most."""
    base, extra = divmod(size, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class GlobalBatchSource:
    """The training batches of one replica: its part of each global batch of `source`."""

    def __init__(self, source: ArraySource, rank: int, world: int,
                 broadcast: Callable[[torch.Tensor], torch.Tensor]) -> None:
        if source.batch_size % world:
            raise ValueError(f"batch_size={source.batch_size} is the global batch under DataParallel and must divide "
                             f"evenly over the {world} replicas; use a multiple of {world}, e.g. "
                             f"{max(world, source.batch_size // world * world)}.")
        self.source, self.rank, self.world, self.broadcast = source, rank, world, broadcast
        self.size, self.batch_size = source.size, source.batch_size
        remainder = source.size % source.batch_size
        self.dropped = remainder if 0 < remainder < world else 0
        if self.dropped:
            warnings.warn(f"DataParallel: the last batch of each epoch has {remainder} sample(s), fewer than the "
                          f"{world} replicas; it is dropped (choose a batch_size or a sample count that leaves "
                          "none or at least one per replica).", stacklevel=4)

    def __len__(self) -> int:
        return (self.size - self.dropped + self.batch_size - 1) // self.batch_size

    def epoch(self) -> Iterator[ShardBatch]:
        source = self.source
        if source.shuffle:
            order = torch.randperm(self.size, device=source.device) if self.rank == 0 else \
                torch.empty(self.size, dtype=torch.int64, device=source.device)
            order = self.broadcast(order)
        else:
            order = torch.arange(self.size, device=source.device)
        for start in range(0, self.size - self.dropped, self.batch_size):
            batch = order[start:start + self.batch_size]
            first, last = part_bounds(batch.shape[0], self.rank, self.world)
            index = batch[first:last]
            yield ShardBatch((take(source.x, index), take(source.y, index), take(source.sample_weight, index)),
                             batch.shape[0])


def contiguous_shard(source: ArraySource, rank: int, world: int) -> ArraySource:
    """This rank's contiguous block of `source`'s samples, batched by `batch_size // world`."""
    first, last = part_bounds(source.size, rank, world)
    rows = slice(first, last)
    return ArraySource(take(source.x, rows), take(source.y, rows), take(source.sample_weight, rows),
                       max(1, source.batch_size // world), False, source.device)


def is_array_source(source: Any) -> bool:
    return isinstance(source, ArraySource)
