"""What each data-parallel replica gets at the model's boundary: its part of the data (global
batches for training, a contiguous block for evaluation and prediction), the callbacks it runs
(side effects on rank 0 only), everyone's predictions, and a check that all ranks were given the
same data."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ember._tree import map_structure
from ember.data import sharding
from ember.distribution import collectives, runtime


def training_source(source: Any) -> Any:
    """Rank's part of every global batch of an in-memory `source`; another source (a dataset or
    generator, which each rank must shard itself) is checked to have as many batches everywhere."""
    check_same_amount(source)
    if sharding.is_array_source(source):
        return sharding.GlobalBatchSource(source, runtime.rank(), runtime.world_size(), collectives.broadcast)
    return source


def evaluation_source(source: Any) -> Any:
    """Rank's contiguous block of an in-memory `source` (evaluate, predict, validation)."""
    check_same_amount(source)
    if sharding.is_array_source(source):
        return sharding.contiguous_shard(source, runtime.rank(), runtime.world_size())
    return source


def check_same_amount(source: Any) -> None:
    """Raises on every rank, naming the ranks' amounts, when they were given different data."""
    amount = getattr(source, "size", None)
    what = "samples"
    if amount is None:
        amount, what = len(source), "batches"
    amounts = collectives.gather_values(amount)
    if len(set(amounts)) > 1:
        listed = ", ".join(f"rank {r}: {int(a)}" for r, a in enumerate(amounts))
        raise ValueError(f"DataParallel: the ranks were given different data ({listed} {what}). Give every "
                         "process the same arrays (ember splits them), or shard a dataset to equal lengths.")


def rank_callbacks(callbacks: list) -> list:
    """The callbacks this rank runs: all on rank 0; elsewhere those without side effects (those
    whose class says `primary_only = True` write files or print)."""
    if runtime.is_primary():
        return callbacks
    return [callback for callback in callbacks if not getattr(callback, "primary_only", False)]


def gathered_predictions(outputs: Any) -> Any:
    """Every rank's predictions (NumPy arrays of its block), concatenated in rank order on every rank."""
    def gather(array: Any) -> Any:
        if not isinstance(array, np.ndarray):
            return array
        return collectives.gather_rows(torch.from_numpy(np.ascontiguousarray(array))).numpy()

    return map_structure(gather, outputs)
