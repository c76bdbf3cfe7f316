"""The step functions: one batch in, loss and metric updates out, no host synchronisation.

`fit`, `evaluate` and `predict` each call one of these per batch; the loop cannot tell how the
step runs inside.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from ember import config, mixed_precision
from ember._tree import first_leaf, flatten, map_structure
from ember.layers import shapes
from ember.optimizers import Optimizer
from ember.training import graphs
from ember.training.dense_stack import DenseStackStep
from ember.training.threads import ThreadTuner
from ember.training.objectives import Objectives


def batch_size_of(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.shape[0]
    return first_leaf(x, lambda leaf: isinstance(leaf, torch.Tensor)).shape[0]


def loss_contributing_layers(model: nn.Module) -> list[nn.Module]:
    """The layers whose `losses` can be non-empty: regularized ones, and Keras-style ones (add_loss)."""
    from ember.layers.base import Layer

    return [m for m in model.modules() if isinstance(m, Layer) and (
        m._weight_regularizers or m.activity_regularizer is not None or type(m).call is not Layer.call)]


def extra_losses(layers: list[nn.Module]) -> list[torch.Tensor]:
    """Regularization penalties and added losses of the last forward pass."""
    collected = []
    for layer in layers:
        collected.extend(reg(getattr(layer, name)) for name, reg in layer._weight_regularizers)
        collected.extend(layer._call_losses)
    return collected


def step_kind(jit_compile: Any, device: torch.device) -> str:
    """What `compile(jit_compile=...)` means on `device`: "compiled" (torch.compile), "eager"
    (autograd, for debugging), "graphed" (whole steps recorded in CUDA graphs, `graphs.py`) or
    "hand_derived": the gradients written out for the dense stacks `DenseStackStep` covers,
    autograd for everything else. "auto" is "graphed" on CUDA and "hand_derived" on the CPU, where
    compiling took longer than it saved on the benchmarks' workloads (benchmarks/RESULTS.md)."""
    if jit_compile == "auto":
        return "graphed" if device.type == "cuda" else "hand_derived"
    return "compiled" if jit_compile else "eager"


class StepRunner:
    """The train, test and predict steps for one model, its objectives, its optimizer and its
    precision policy (the forward pass and the loss run under the policy's autocast): eager,
    compiled, hand-derived (`DenseStackStep`) or recorded in CUDA graphs (`graphs.StepGraphs`),
    as `kind` (from `step_kind`) says."""

    def __init__(self, model: nn.Module, objectives: Objectives | None, optimizer: Optimizer | None,
                 precision: mixed_precision.DTypePolicy | None = None, kind: str = "eager") -> None:
        self.model, self.objectives, self.optimizer = model, objectives, optimizer
        self.precision = precision or mixed_precision.DTypePolicy("float32")
        self._has_constraints = any(getattr(m, "_weight_constraints", None) for m in model.modules())
        self._loss_layers = loss_contributing_layers(model)
        self._scaler: torch.amp.GradScaler | None = None
        compiled = kind == "compiled"
        self._compiled = torch.compile(self._forward_and_loss_with_masks) if compiled else None
        self._compiled_model = torch.compile(model) if compiled else None
        self._dense_stack = DenseStackStep.for_model(model, objectives, optimizer) \
            if kind == "hand_derived" and optimizer is not None and not self.precision.is_mixed else None
        self._threads = ThreadTuner() if self._dense_stack is not None and config.thread_tuning() else None
        maker = graphs.maker_for(config.get_device()) if kind == "graphed" else None
        self._graphs = graphs.StepGraphs(maker, self._state_tensors) if maker is not None else None
        self._parameter_slots: list[tuple[dict, str]] | None = None  # where weights and buffers are kept
        self._update_in_graph = True  # whether the recorded train step includes the optimizer's update

    def _forward_and_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[torch.Tensor, Any]:
        predictions = self.model(x)
        return self.objectives.compute_loss(y, predictions, sample_weight, extra_losses(self._loss_layers)), \
            predictions

    def _forward_and_loss_with_masks(self, x: Any, y: Any, sample_weight: Any) -> tuple:
        """The compiled unit: tensors come out of a compiled graph without their Python attributes,
        so the padding masks travel as outputs and are put back on the predictions."""
        loss, predictions = self._forward_and_loss(x, y, sample_weight)
        masks = [getattr(leaf, "_ember_mask", None) for leaf in flatten(predictions)]
        return loss, predictions, masks

    def forward_and_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[torch.Tensor, Any]:
        """Predictions and loss for one batch: compiled when asked and possible, eager otherwise."""
        compiled = self._run_compiled("_compiled", x, y, sample_weight)
        if compiled is None:
            return self._forward_and_loss(x, y, sample_weight)
        loss, predictions, masks = compiled
        for leaf, mask in zip(flatten(predictions), masks):
            if mask is not None:
                leaf._ember_mask = mask
        return loss, predictions

    def _predictions(self, x: Any) -> Any:
        compiled = self._run_compiled("_compiled_model", x)
        return self.model(x) if compiled is None else compiled

    def _run_compiled(self, attribute: str, *args: Any) -> Any:
        """The compiled function kept in `attribute` applied to `args`; None when there is none or it
        cannot be compiled (then it is dropped, with a one-line notice, and the caller runs eagerly)."""
        function = getattr(self, attribute)
        if function is None:
            return None
        try:
            return function(*args)
        except Exception as error:  # noqa: BLE001 - any failure to compile means: run eagerly
            setattr(self, attribute, None)
            warnings.warn(f"jit_compile: this model cannot be compiled ({type(error).__name__}: "
                          f"{shapes.first_line(error)}); it runs eagerly instead.", RuntimeWarning, stacklevel=4)
            return None

    def train(self, batch: tuple) -> None:
        if self._graphs is not None:
            self.optimizer.begin_step()
            replayed, outputs = self._graphs.run("train", batch, self._recorded_train, self._train_eagerly,
                                                 self._prepare_train_recording)
            if replayed:
                if not self._update_in_graph:
                    self._update_after_replay(outputs[3])
                self.optimizer.end_step()
                self._update_objectives(batch, outputs)
            return
        if self._threads is not None:
            self._threads.tick()
        self._train_eagerly(batch)

    def finish_training(self) -> None:
        """The end of a `fit` loop: the thread count goes back to the user's."""
        if self._threads is not None:
            self._threads.finish()

    def _train_eagerly(self, batch: tuple) -> None:
        if self._dense_stack is None or not self._train_hand_derived(batch):
            self._train_with_autograd(batch)
        if self._has_constraints:
            self.model.apply_constraints()

    def _train_hand_derived(self, batch: tuple) -> bool:
        with torch.no_grad():
            return self._dense_stack.train(batch)

    def _train_with_autograd(self, batch: tuple) -> None:
        x, y, sample_weight = batch
        device = _device_of(x)
        with self.precision.autocast(device):
            loss, predictions = self.forward_and_loss(x, y, sample_weight)
        self.optimizer.zero_grad()
        if self.precision.name == "mixed_float16":
            self._scaler = self._scaler or self.precision.loss_scaler(device)
            self._scaler.scale(loss).backward()
        else:
            loss.backward()
        self.optimizer.step(self._scaler)
        with torch.no_grad():
            self.objectives.update(loss, batch_size_of(x), y, predictions, sample_weight)

    def test(self, batch: tuple) -> None:
        if self._graphs is not None:
            replayed, outputs = self._graphs.run("test", batch, self._recorded_test, self._test_eagerly)
            if replayed:
                with torch.inference_mode():
                    self._update_objectives(batch, outputs)
            return
        self._test_eagerly(batch)

    def _test_eagerly(self, batch: tuple) -> None:
        x, y, sample_weight = batch
        with torch.inference_mode(), self.precision.autocast(_device_of(x)):
            loss, predictions = self.forward_and_loss(x, y, sample_weight)
            self.objectives.update(loss, batch_size_of(x), y, predictions, sample_weight)

    def predict(self, batch: tuple) -> Any:
        if self._graphs is None:
            return self._predict_eagerly(batch)
        replayed, outputs = self._graphs.run("predict", batch, self._recorded_predict, self._predict_eagerly)
        return map_structure(self._own_copy, outputs) if replayed else outputs

    def _predict_eagerly(self, batch: tuple) -> Any:
        with torch.inference_mode(), self.precision.autocast(_device_of(batch[0])):
            return self._as_float(self._predictions(batch[0]))

    def _own_copy(self, output: Any) -> Any:
        """A replayed graph's output copied out of its static memory (as float32 under mixed precision)."""
        if not isinstance(output, torch.Tensor):
            return output
        if self.precision.is_mixed and output.is_floating_point():
            return output.to(torch.float32, copy=True)
        return output.clone()

    def _as_float(self, outputs: Any) -> Any:
        """Mixed-precision outputs as float32 (what the user's arrays hold)."""
        if not self.precision.is_mixed:
            return outputs
        return map_structure(lambda t: t.float() if isinstance(t, torch.Tensor) and t.is_floating_point() else t,
                             outputs)

    # -------------------------------------------------------------- CUDA graphs
    def _prepare_train_recording(self) -> None:
        """Before the train step is recorded: the update goes in the graph where the optimizer has a
        fused kernel (its learning rate then in a tensor), else it runs after each replay."""
        self._update_in_graph = self.optimizer.supports_graphs() and self._scaler is None
        if self._update_in_graph:
            self.optimizer.use_tensor_learning_rate()
        self.optimizer.zero_grad()  # the recorded backward pass then makes the gradients in the graph's memory

    def _recorded_train(self, batch: tuple) -> tuple:
        """The train step a graph records: forward, loss, backward (update and constraints too where
        they can be recorded); the gradients come out for an update after the replay. With float16
        the loss is scaled by the scaler's device-side factor, and the update (which unscales, and
        skips a step whose gradients overflowed) runs after the replay."""
        x, y, sample_weight = batch
        with self.precision.autocast(_device_of(x), cache_enabled=False):
            loss, predictions = self._forward_and_loss(x, y, sample_weight)
        (loss if self._scaler is None else self._scaler.scale(loss)).backward()
        if self._update_in_graph:
            self._update_weights()
        gradients = [parameter.grad for parameter in self.optimizer._parameters]
        return loss.detach(), predictions, list(self.objectives.last_output_losses), gradients

    def _update_after_replay(self, gradients: list[torch.Tensor | None]) -> None:
        """The update outside the graph, from the gradients the replay wrote (an eager step in between
        may have pointed the weights' `.grad` elsewhere)."""
        for parameter, gradient in zip(self.optimizer._parameters, gradients):
            parameter.grad = gradient
        self._update_weights()

    def _update_weights(self) -> None:
        self.optimizer.update_weights(self._scaler)
        if self._has_constraints:
            self.model.apply_constraints()

    def _recorded_test(self, batch: tuple) -> tuple:
        x, y, sample_weight = batch
        with torch.inference_mode(), self.precision.autocast(_device_of(x), cache_enabled=False):
            loss, predictions = self._forward_and_loss(x, y, sample_weight)
        return loss, predictions, list(self.objectives.last_output_losses)

    def _recorded_predict(self, batch: tuple) -> Any:
        with torch.inference_mode(), self.precision.autocast(_device_of(batch[0]), cache_enabled=False):
            return self.model(batch[0])

    def _update_objectives(self, batch: tuple, outputs: tuple) -> None:
        """The metric bookkeeping after a replay, from the graph's loss, predictions and output losses."""
        x, y, sample_weight = batch
        loss, predictions, output_losses = outputs[:3]
        with torch.no_grad():
            self.objectives.update(loss, batch_size_of(x), y, predictions, sample_weight, output_losses)

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


def _device_of(x: Any) -> torch.device:
    return x.device if isinstance(x, torch.Tensor) else first_leaf(x, lambda t: isinstance(t, torch.Tensor)).device
