"""The autograd steps: `EagerStep` (forward, loss and backward as the model's Python runs them,
under the precision policy) and `CompiledStep` (the same with the forward pass and loss in
`torch.compile`, eager again with one notice where compiling fails)."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from ember import mixed_precision
from ember._tree import flatten, map_structure
from ember.layers import shapes
from ember.optimizers import Optimizer
from ember.training.objectives import Objectives
from ember.training.step import Step, batch_size_of, device_of, extra_losses, loss_contributing_layers


class EagerStep(Step):
    """Autograd steps for one model, its objectives, optimizer and precision policy.

    `objectives` and `optimizer` may be None for a step that only predicts. Under "mixed_float16"
    the loss is scaled against float16 underflow unless `scale_loss` is False
    (`compile(auto_scale_loss=False)`).
    """

    kind = "eager"

    def __init__(self, model: nn.Module, objectives: Objectives | None, optimizer: Optimizer | None,
                 precision: mixed_precision.DTypePolicy | None = None, scale_loss: bool = True) -> None:
        self.model, self.objectives, self.optimizer = model, objectives, optimizer
        self.precision = precision or mixed_precision.DTypePolicy("float32")
        self.scales_loss = scale_loss and self.precision.name == "mixed_float16"
        self.has_constraints = any(getattr(m, "_weight_constraints", None) for m in model.modules())
        self._loss_layers = loss_contributing_layers(model)
        self.scaler: torch.amp.GradScaler | None = None  # the float16 loss scaler, made on first use

    # ---------------------------------------------------------------- the parts
    def forward_and_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[torch.Tensor, Any]:
        """Total loss (with regularization and added losses) and predictions for one batch."""
        predictions = self.model(x)
        return self.objectives.compute_loss(y, predictions, sample_weight, extra_losses(self._loss_layers)), \
            predictions

    def predictions(self, x: Any) -> Any:
        return self.model(x)

    def loss_to_differentiate(self, loss: torch.Tensor, batch: tuple) -> torch.Tensor:
        """The loss whose gradient the optimizer follows (the batch's loss; rescaled by replicas)."""
        return loss

    def update_weights(self) -> None:
        """The optimizer's update from the current gradients, then the weight constraints."""
        self.optimizer.update_weights(self.scaler)
        if self.has_constraints:
            self.model.apply_constraints()

    # ----------------------------------------------------------------- protocol
    def train(self, batch: tuple) -> None:
        x, y, sample_weight = batch
        device = device_of(x)
        with self.precision.autocast(device):
            loss, predictions = self.forward_and_loss(x, y, sample_weight)
        self.optimizer.zero_grad()
        if not loss.requires_grad:  # nothing to train (no weights, or all frozen): Keras still steps
            pass
        elif self.scales_loss:
            self.scaler = self.scaler or self.precision.loss_scaler(device)
            self.scaler.scale(self.loss_to_differentiate(loss, batch)).backward()
        else:
            self.loss_to_differentiate(loss, batch).backward()
        self.optimizer.step(self.scaler)
        if self.has_constraints:
            self.model.apply_constraints()
        with torch.no_grad():
            self.objectives.update(loss, batch_size_of(x), y, predictions, sample_weight)

    def test(self, batch: tuple) -> None:
        x, y, sample_weight = batch
        with torch.inference_mode(), self.precision.autocast(device_of(x)):
            loss, predictions = self.forward_and_loss(x, y, sample_weight)
            self.objectives.update(loss, batch_size_of(x), y, predictions, sample_weight)

    def predict(self, batch: tuple) -> Any:
        with torch.inference_mode(), self.precision.autocast(device_of(batch[0])):
            return self.as_float(self.predictions(batch[0]))

    def as_float(self, outputs: Any) -> Any:
        """Mixed-precision outputs as float32 (what the user's arrays hold)."""
        if not self.precision.is_mixed:
            return outputs
        return map_structure(lambda t: t.float() if isinstance(t, torch.Tensor) and t.is_floating_point() else t,
                             outputs)


class CompiledStep(EagerStep):
    """`EagerStep` with the forward pass and loss (and the prediction) run by `torch.compile`."""

    kind = "compiled"

    def __init__(self, model: nn.Module, objectives: Objectives | None, optimizer: Optimizer | None,
                 precision: mixed_precision.DTypePolicy | None = None, scale_loss: bool = True) -> None:
        super().__init__(model, objectives, optimizer, precision, scale_loss)
        self._compiled_loss = torch.compile(self._forward_and_loss_with_masks)
        self._compiled_model = torch.compile(model)

    def _forward_and_loss_with_masks(self, x: Any, y: Any, sample_weight: Any) -> tuple:
        """The compiled unit: tensors come out of a compiled graph without their Python attributes,
        so the padding masks travel as outputs and are put back on the predictions."""
        loss, predictions = super().forward_and_loss(x, y, sample_weight)
        masks = [getattr(leaf, "_keras_mask", None) for leaf in flatten(predictions)]
        return loss, predictions, masks

    def forward_and_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[torch.Tensor, Any]:
        compiled = self._run_compiled("_compiled_loss", x, y, sample_weight)
        if compiled is None:
            return super().forward_and_loss(x, y, sample_weight)
        loss, predictions, masks = compiled
        for leaf, mask in zip(flatten(predictions), masks):
            if mask is not None:
                leaf._keras_mask = mask
        return loss, predictions

    def predictions(self, x: Any) -> Any:
        compiled = self._run_compiled("_compiled_model", x)
        return self.model(x) if compiled is None else compiled

    def _run_compiled(self, attribute: str, *args: Any) -> Any:
        """The compiled function kept in `attribute` applied to `args`; None when it is gone or it
        cannot be compiled (then it is dropped, with a one-line notice, and the caller runs eagerly)."""
        function = getattr(self, attribute)
        if function is None:
            return None
        try:
            return function(*args)
        except Exception as error:  # noqa: BLE001 - any failure to compile means: run eagerly
            setattr(self, attribute, None)
            warnings.warn(f"jit_compile: this model cannot be compiled ({type(error).__name__}: "
                          f"{shapes.first_line(error)}); it runs eagerly instead.", RuntimeWarning, stacklevel=5)
            return None
