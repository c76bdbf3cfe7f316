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
from ember.distribution import api, collectives, runtime


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


def sharded() -> bool:
    """Whether the distribution in force shards the weights (FullyShardedDataParallel)."""
    current = api.active()
    return current is not None and current.shards_weights


def shard_model(model: Any) -> None:
    """Shards `model` (built) with FSDP2, once: each top-level layer holding trainable weights, then
    the model. The sharded classes are saved under their original names."""
    if getattr(model, "_sharded", False):
        if not sharded():
            raise RuntimeError(f"Model '{model.name}' was sharded by FullyShardedDataParallel and stays sharded; it "
                               "cannot train or predict under another distribution. Save it (model.save, on every "
                               "rank) and load the file to use it in one process or under DataParallel.")
        return
    if not sharded():
        return
    from torch.distributed.fsdp import fully_shard

    def shard(module: Any, reshard_after_forward: bool = True) -> None:
        original = getattr(type(module), "_saved_as", type(module))
        fully_shard(module, reshard_after_forward=reshard_after_forward)
        type(module)._saved_as = original
        resharding.append((module, reshard_after_forward))

    resharding: list[tuple[Any, bool]] = []

    for layer in getattr(model, "layers", []):
        if any(parameter.requires_grad for parameter in layer.parameters()):
            shard(layer, not _hands_logits_to_the_loss(layer))
    shard(model)
    model._sharded = True
    model._resharding = resharding  # each sharded module's reshard_after_forward, for shard_again


def gather_whole_weights(model: Any) -> None:
    """Every sharded module's weights gathered whole until `shard_again` (a collective): inference
    then runs any number of batches per rank without further collectives."""
    for module, _ in model._resharding:  # unshard() and reshard() act on one module, not its children
        module.set_reshard_after_forward(False, recurse=False)
        module.unshard()


def shard_again(model: Any) -> None:
    for module, reshard_after_forward in model._resharding:
        module.reshard()
        module.set_reshard_after_forward(reshard_after_forward, recurse=False)


def _hands_logits_to_the_loss(layer: Any) -> bool:
    """Whether the layer ends in softmax or sigmoid: the cross-entropy losses then read its logits
    (`ember.activations.with_logits`), a tensor FSDP's backward hooks on the layer's output do not
    see, so the layer keeps its gathered weights from its forward pass to its backward pass."""
    return getattr(getattr(layer, "activation", None), "__name__", "") in ("softmax", "sigmoid")


def whole_state(model: Any) -> dict[str, torch.Tensor]:
    """The model's state with sharded tensors gathered (a collective: every rank calls it)."""
    from torch.distributed.tensor import DTensor

    return {key: value.full_tensor() if isinstance(value, DTensor) else value
            for key, value in model.state_dict().items()}
