"""The data-parallel step: the autograd step with the forward pass run through torch's
DistributedDataParallel (or through the model itself when FSDP2 has sharded it), so that the backward pass all-reduces the gradients in buckets while it
runs, and with the logs reduced over the replicas at the end of an epoch or an evaluation.

Each replica's loss is its part's mean; DDP averages the gradients over the replicas. When the
parts of a global batch differ in size (its last batch), each part's loss is scaled by
`part * replicas / global`, so the averaged gradient is exactly the gradient of the global batch's
mean loss, as one process would compute it. Evaluation and prediction run the plain model (no
collective per batch: ranks may hold different numbers of batches there).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ember import mixed_precision
from ember.distribution import placement, runtime, trackers
from ember.optimizers import Optimizer
from ember.training.autograd_step import EagerStep
from ember.training.objectives import Objectives
from ember.training.step import batch_size_of, extra_losses


class DataParallelStep(EagerStep):
    """`EagerStep` over a DistributedDataParallel wrapper of `model` (made here, which also
    broadcasts rank 0's weights and buffers to every replica), or over the model itself when
    FullyShardedDataParallel has sharded it."""

    kind = "data_parallel"

    def __init__(self, model: nn.Module, objectives: Objectives | None, optimizer: Optimizer | None,
                 precision: mixed_precision.DTypePolicy | None = None, scale_loss: bool = True) -> None:
        super().__init__(model, objectives, optimizer, precision, scale_loss)
        device = runtime.compute_device()
        self.replicas = runtime.world_size()
        self.sharded = hasattr(model, "unshard")  # sharded by FSDP2 (FullyShardedDataParallel): no DDP on top
        self.parallel_model = model if self.sharded else \
            DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)

    def forward_and_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[torch.Tensor, Any]:
        predictions = self.parallel_model(x) if self.model.training else self.model(x)
        return self.objectives.compute_loss(y, predictions, sample_weight, extra_losses(self._loss_layers)), \
            predictions

    def loss_to_differentiate(self, loss: torch.Tensor, batch: tuple) -> torch.Tensor:
        """This replica's part of a global batch, scaled so that the gradient averaged over the
        replicas is the global batch's: `part * replicas / global` (1 but for an uneven last batch)."""
        part = batch_size_of(batch[0])
        scale = part * self.replicas / getattr(batch, "global_size", part * self.replicas)
        return loss * scale if scale != 1 else loss

    def begin_inference(self) -> None:
        """Sharded weights are gathered whole for an evaluation or prediction (every rank calls
        this together), so that its batches, which ranks may hold in different numbers, need no
        collective."""
        if self.sharded:
            placement.gather_whole_weights(self.model)

    def end_inference(self) -> None:
        if self.sharded:
            placement.shard_again(self.model)

    def synchronize_logs(self, objectives: Any) -> None:
        """Every tracker's state summed over the replicas (the same logs on every rank)."""
        trackers.reduce_over_replicas(objectives.all_trackers())
