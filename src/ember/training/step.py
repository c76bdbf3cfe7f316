"""The step protocol: what the engine calls once per batch, whichever way the step runs.

A step takes one device batch `(x, y, sample_weight)`: `train` runs forward, loss, backward and
the optimizer update, `test` the forward pass and loss, `predict` the forward pass alone (it
returns the outputs); loss and metrics accumulate in the objectives' device-side trackers, never
read back to the host here. `finish` runs once when a `fit` loop ends. `kind` names the way the
step runs ("eager", "compiled", "graphed", "hand_derived", "adversarial"), for users and tests.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember._tree import first_leaf
from ember.layers.base import Layer


class Step:
    """Base of the step kinds; subclasses implement what they support."""

    kind = "step"

    def train(self, batch: tuple) -> None:
        raise NotImplementedError(f"The {self.kind} step does not train.")

    def test(self, batch: tuple) -> None:
        raise NotImplementedError(f"The {self.kind} step does not evaluate.")

    def predict(self, batch: tuple) -> Any:
        raise NotImplementedError(f"The {self.kind} step does not predict.")

    def finish(self) -> None:
        """The end of a `fit` loop (or of a `train_on_batch` call)."""

    def begin_inference(self) -> None:
        """Before an evaluation or prediction (a no-op but for sharded weights; see DataParallelStep)."""

    def end_inference(self) -> None:
        """After an evaluation or prediction."""

    def synchronize_logs(self, objectives: Any) -> None:
        """Before an epoch's or an evaluation's logs are read: make them the same on every replica
        (a no-op in one process; see `DataParallelStep`)."""


def batch_size_of(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.shape[0]
    return first_leaf(x, lambda leaf: isinstance(leaf, torch.Tensor)).shape[0]


def device_of(x: Any) -> torch.device:
    return x.device if isinstance(x, torch.Tensor) else first_leaf(x, lambda t: isinstance(t, torch.Tensor)).device


def loss_contributing_layers(model: nn.Module) -> list[nn.Module]:
    """The layers whose `losses` can be non-empty: regularized ones, and Keras-style ones (add_loss)."""
    return [m for m in model.modules() if isinstance(m, Layer) and (
        m._weight_regularizers or m.activity_regularizer is not None or type(m).call is not Layer.call)]


def extra_losses(layers: list[nn.Module]) -> list[torch.Tensor]:
    """Regularization penalties and added losses of the last forward pass."""
    collected = []
    for layer in layers:
        collected.extend(reg(getattr(layer, name)) for name, reg in layer._weight_regularizers)
        collected.extend(layer._call_losses)
    return collected
