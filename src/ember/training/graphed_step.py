"""`GraphedStep`: the train, test and predict steps recorded in CUDA graphs and replayed
(`graphs.StepGraphs` does the recording; see graphs.py for what a recorded step may and may not do).

Batches that cannot use a graph (warm-up, an epoch's smaller last batch, a phase that cannot be
recorded) run as the `EagerStep` they extend.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from ember import mixed_precision
from ember._tree import map_structure
from ember.optimizers import Optimizer
from ember.training import graphs
from ember.training.autograd_step import EagerStep
from ember.training.objectives import Objectives
from ember.training.step import batch_size_of, device_of


class RecordedTrain(NamedTuple):
    """What a recorded train step leaves in the graph's memory after each replay."""

    loss: torch.Tensor
    predictions: Any
    output_losses: list[torch.Tensor]
    gradients: list[torch.Tensor | None]  # read by the update after the replay, when it is not recorded


class RecordedTest(NamedTuple):
    loss: torch.Tensor
    predictions: Any
    output_losses: list[torch.Tensor]


class GraphedStep(EagerStep):
    """`EagerStep` whose batches, once their signature repeats, replay recorded CUDA graphs.

    `maker` makes the graphs (`graphs.maker_for(device)`; the tests pass an emulator).
    `update_in_graph` says whether the recorded train step includes the optimizer's update (it does
    where the optimizer has a fused kernel and no float16 loss scaler runs); otherwise the update
    runs right after each replay.
    """

    kind = "graphed"

    def __init__(self, model: nn.Module, objectives: Objectives | None, optimizer: Optimizer | None,
                 precision: mixed_precision.DTypePolicy | None, maker: Any, scale_loss: bool = True) -> None:
        super().__init__(model, objectives, optimizer, precision, scale_loss)
        self.graphs = graphs.StepGraphs(maker, self._state_tensors)
        self.update_in_graph = True
        self._parameter_slots: list[tuple[dict, str]] | None = None  # where weights and buffers are kept

    def train(self, batch: tuple) -> None:
        self.optimizer.begin_step()
        replayed, outputs = self.graphs.run("train", batch, self._recorded_train, super().train,
                                            self._prepare_train_recording)
        if replayed:
            if not self.update_in_graph:
                self._update_after_replay(outputs.gradients)
            self.optimizer.end_step()
            self._update_objectives(batch, outputs)

    def test(self, batch: tuple) -> None:
        replayed, outputs = self.graphs.run("test", batch, self._recorded_test, super().test)
        if replayed:
            with torch.inference_mode():
                self._update_objectives(batch, outputs)

    def predict(self, batch: tuple) -> Any:
        replayed, outputs = self.graphs.run("predict", batch, self._recorded_predict, super().predict)
        return map_structure(self._own_copy, outputs) if replayed else outputs

    # --------------------------------------------------------- what is recorded
    def _prepare_train_recording(self) -> None:
        """Before the train step is recorded: the update goes in the graph where the optimizer has a
        fused kernel (its learning rate then in a tensor), else it runs after each replay."""
        self.update_in_graph = self.optimizer.supports_graphs() and self.scaler is None
        if self.update_in_graph:
            self.optimizer.use_tensor_learning_rate()
        self.optimizer.zero_grad()  # the recorded backward pass then makes the gradients in the graph's memory

    def _recorded_train(self, batch: tuple) -> RecordedTrain:
        """Forward, loss, backward (update and constraints too where they can be recorded). With
        float16 the loss is scaled by the scaler's device-side factor, and the update (which
        unscales, and skips a step whose gradients overflowed) runs after the replay."""
        x, y, sample_weight = batch
        with self.precision.autocast(device_of(x), cache_enabled=False):
            loss, predictions = self.forward_and_loss(x, y, sample_weight)
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()
        if self.update_in_graph:
            self.update_weights()
        gradients = [parameter.grad for parameter in self.optimizer._parameters]
        return RecordedTrain(loss.detach(), predictions, list(self.objectives.last_output_losses), gradients)

    def _recorded_test(self, batch: tuple) -> RecordedTest:
        x, y, sample_weight = batch
        with torch.inference_mode(), self.precision.autocast(device_of(x), cache_enabled=False):
            loss, predictions = self.forward_and_loss(x, y, sample_weight)
        return RecordedTest(loss, predictions, list(self.objectives.last_output_losses))

    def _recorded_predict(self, batch: tuple) -> Any:
        with torch.inference_mode(), self.precision.autocast(device_of(batch[0]), cache_enabled=False):
            return self.model(batch[0])

    # ------------------------------------------------------- around each replay
    def _update_after_replay(self, gradients: list[torch.Tensor | None]) -> None:
        """The update outside the graph, from the gradients the replay wrote (an eager step in between
        may have pointed the weights' `.grad` elsewhere)."""
        for parameter, gradient in zip(self.optimizer._parameters, gradients):
            parameter.grad = gradient
        self.update_weights()

    def _update_objectives(self, batch: tuple, outputs: RecordedTrain | RecordedTest) -> None:
        """The metric bookkeeping after a replay, from the graph's loss, predictions and output losses."""
        x, y, sample_weight = batch
        with torch.no_grad():
            self.objectives.update(outputs.loss, batch_size_of(x), y, outputs.predictions, sample_weight,
                                   outputs.output_losses)

    def _own_copy(self, output: Any) -> Any:
        """A replayed graph's output copied out of its static memory (as float32 under mixed precision)."""
        if not isinstance(output, torch.Tensor):
            return output
        if self.precision.is_mixed and output.is_floating_point():
            return output.to(torch.float32, copy=True)
        return output.clone()

    def _state_tensors(self) -> list[torch.Tensor]:
        """What recorded steps keep using between batches: weights, buffers, optimizer states."""
        if self._parameter_slots is None:
            self._parameter_slots = [(module._parameters, name) for module in self.model.modules()
                                     for name in module._parameters] + \
                [(module._buffers, name) for module in self.model.modules() for name in module._buffers]
        tensors = [tensor for slots, name in self._parameter_slots if (tensor := slots.get(name)) is not None]
        if self.optimizer is not None and self.optimizer.torch_optimizer is not None:
            states = self.optimizer.torch_optimizer.state
            tensors.extend(value for parameter in self.optimizer._parameters
                           for value in states.get(parameter, {}).values() if isinstance(value, torch.Tensor))
        return tensors
