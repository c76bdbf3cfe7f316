"""Training steps for plain stacks of dense layers, with the gradients written out by hand.

At the batch sizes tutorials use (32), a small MLP's step on a CPU is dominated by per-operation
overhead rather than arithmetic: autograd's graph bookkeeping and the modules' calls cost about as
much as the matrix products. For a `Sequential` (or a functional chain) of `Dense`, `Activation`,
`Dropout`, `BatchNormalization` and `Flatten` layers trained with a standard loss, `DenseStackStep` runs the forward
pass, the loss with its gradient (softmax or sigmoid fused with cross-entropy, as autograd would
compute it) and the backward pass as plain tensor operations (`BatchNormalization` through the
kernels autograd itself calls), writes each weight's `.grad`, and
leaves the update to the model's optimizer as usual. The numbers are those of the autograd step
up to float rounding (tested).

Anything outside that set (another layer type or a subclass, hooks, other losses, sample weights,
masks, mixed precision) is served by the ordinary autograd step: `for_model` returns None, or
`train` returns False for a batch it does not cover.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ember import activations, losses, regularizers
from ember.layers.core import Activation, Dense, Dropout, Flatten
from ember.layers.normalization import BatchNormalization
from ember.training.autograd_step import EagerStep

# Activations whose derivative is written in terms of their output y: dL/dz = backward(dL/dy, y).
_BACKWARD_FROM_OUTPUT: dict[Callable, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    activations.linear: lambda grad, y: grad,
    activations.relu: lambda grad, y: torch.ops.aten.threshold_backward(grad, y, 0),
    activations.sigmoid: lambda grad, y: torch.ops.aten.sigmoid_backward(grad, y),
    activations.tanh: lambda grad, y: torch.ops.aten.tanh_backward(grad, y),
    activations.softmax: lambda grad, y: torch.ops.aten._softmax_backward_data(grad, y, -1, y.dtype),
}
_PENALTY_TYPES = (regularizers.L1L2, regularizers.L1, regularizers.L2)


class _DenseStage:
    """`y = activation(x @ kernel + bias)` and its backward pass; keeps x and y of the last step."""

    def __init__(self, layer: Dense) -> None:
        self.kernel, self.bias, self.activation = layer.kernel, layer.bias, layer.activation
        self.activation_backward = _BACKWARD_FROM_OUTPUT[layer.activation]
        self.penalties = [(getattr(layer, name), reg) for name, reg in layer._weight_regularizers]
        self.fused_head = False  # set when the loss takes this layer's pre-activation output
        self.x = self.y = None

    def weights(self) -> list[torch.Tensor]:
        return [w for w in (self.kernel, self.bias) if w is not None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.addmm(self.bias, x, self.kernel) if self.bias is not None else torch.mm(x, self.kernel)
        self.x = x
        self.y = z if self.fused_head else self.activation(z)
        return self.y

    def backward(self, grad: torch.Tensor | None, need_input_grad: bool) -> torch.Tensor | None:
        """`grad` is dL/dy (or dL/dz for the fused loss head: `backward_from_z`)."""
        return self.backward_from_z(self.activation_backward(grad, self.y), need_input_grad)

    def backward_from_z(self, grad_z: torch.Tensor, need_input_grad: bool) -> torch.Tensor | None:
        kernel, bias = self.kernel, self.bias
        if kernel.requires_grad:
            kernel.grad = torch.mm(self.x.t(), grad_z)
        if bias is not None and bias.requires_grad:
            bias.grad = grad_z.sum(0)
        for weight, penalty in self.penalties:
            if weight.requires_grad:
                weight.grad.add_(_penalty_gradient(penalty, weight))
        return torch.mm(grad_z, kernel.t()) if need_input_grad else None

    def penalty(self) -> torch.Tensor:
        terms = [penalty(weight) for weight, penalty in self.penalties]
        return sum(terms[1:], terms[0])


class _ActivationStage:
    def __init__(self, layer: Activation) -> None:
        self.activation, self.activation_backward = layer.activation, _BACKWARD_FROM_OUTPUT[layer.activation]
        self.fused_head = False  # set when the loss takes this layer's input (the logits)
        self.y = None

    def weights(self) -> list[torch.Tensor]:
        return []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.y = x if self.fused_head else self.activation(x)
        return self.y

    def backward(self, grad: torch.Tensor, need_input_grad: bool) -> torch.Tensor:
        return self.activation_backward(grad, self.y)

    def backward_from_z(self, grad_z: torch.Tensor, need_input_grad: bool) -> torch.Tensor:
        return grad_z


class _DropoutStage:
    """Inverted dropout with its scaled keep-mask kept for the backward pass (drawn as
    `F.dropout` draws it on the CPU, so that seeded runs match the autograd step)."""

    def __init__(self, layer: Dropout) -> None:
        self.rate, self.keep = layer.rate, None

    def weights(self) -> list[torch.Tensor]:
        return []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.rate == 0:
            self.keep = None
            return x
        self.keep = torch.empty_like(x).bernoulli_(1.0 - self.rate).div_(1.0 - self.rate)
        return x * self.keep

    def backward(self, grad: torch.Tensor, need_input_grad: bool) -> torch.Tensor:
        return grad if self.keep is None else grad * self.keep


class _FlattenStage:
    def __init__(self, layer: Flatten) -> None:
        self.input_shape: torch.Size | None = None

    def weights(self) -> list[torch.Tensor]:
        return []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad: torch.Tensor, need_input_grad: bool) -> torch.Tensor:
        return grad.reshape(self.input_shape)


class _BatchNormStage:
    """Batch normalization of `(batch, features)`: batch statistics while training (moving ones for a
    frozen layer, as in Keras), moving statistics updated, through `native_batch_norm` and its
    backward kernel: the very calls autograd makes for `F.batch_norm`."""

    def __init__(self, layer: BatchNormalization) -> None:
        self.layer, self.gamma, self.beta = layer, layer.gamma, layer.beta
        self.momentum, self.epsilon = 1 - layer.momentum, layer.epsilon
        self.saved: tuple | None = None

    def weights(self) -> list[torch.Tensor]:
        return [w for w in (self.gamma, self.beta) if w is not None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layer, training = self.layer, self.layer.trainable
        y, mean, inverse_std = torch.native_batch_norm(x, self.gamma, self.beta, layer.moving_mean,
                                                       layer.moving_variance, training, self.momentum, self.epsilon)
        self.saved = (x, mean, inverse_std, training)
        return y

    def backward(self, grad: torch.Tensor, need_input_grad: bool) -> torch.Tensor | None:
        (x, mean, inverse_std, training), layer = self.saved, self.layer
        wanted = [need_input_grad, _wants_grad(self.gamma), _wants_grad(self.beta)]
        grad_x, grad_gamma, grad_beta = torch.ops.aten.native_batch_norm_backward(
            grad, x, self.gamma, layer.moving_mean, layer.moving_variance, mean, inverse_std, training,
            self.epsilon, wanted)
        if wanted[1]:
            self.gamma.grad = grad_gamma
        if wanted[2]:
            self.beta.grad = grad_beta
        return grad_x


def _wants_grad(weight: torch.Tensor | None) -> bool:
    return weight is not None and weight.requires_grad


_STAGES = {Dense: _DenseStage, Activation: _ActivationStage, Dropout: _DropoutStage, Flatten: _FlattenStage,
           BatchNormalization: _BatchNormStage}


class _LossHead:
    """The gradient of one batch's loss (the loss value itself comes from the model's own loss
    object, as in the autograd step). `fuses_activation`: the gradient is taken with respect to the
    last layer's pre-activation output (softmax/sigmoid + cross-entropy)."""

    fuses_activation = False

    def __init__(self, loss: losses.Loss, weight: float) -> None:
        self.arguments, self.weight = loss.arguments, weight

    def predictions_and_gradient(self, output: torch.Tensor, targets: torch.Tensor
                                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """(predictions as the model returns them, d weighted loss / d output)."""
        raise NotImplementedError


class _SoftmaxCrossEntropy(_LossHead):
    """Categorical cross-entropy on softmax outputs: d loss / d logits = (p·sum(t) - t) / batch."""

    fuses_activation = True

    def __init__(self, loss: losses.Loss, weight: float, sparse: bool, from_logits: bool) -> None:
        super().__init__(loss, weight)
        self.sparse, self.from_logits = sparse, from_logits
        self.smoothing = self.arguments.get("label_smoothing", 0.0)
        self._one_hot_cache: tuple[torch.Tensor, torch.Tensor] | None = None

    def predictions_and_gradient(self, logits, targets):
        batch, classes = logits.shape
        probabilities = torch.softmax(logits, dim=-1)
        if self.sparse:
            labels = (targets.squeeze(-1) if targets.ndim == 2 else targets).long()
            rows, minus_target = self._one_hot_parts(batch, logits)
            gradient = probabilities.index_put((rows, labels), minus_target, accumulate=True)
            if self.smoothing:
                gradient.sub_(self.smoothing / classes)
        else:
            targets = targets.to(logits.dtype)
            if self.smoothing:
                targets = targets * (1.0 - self.smoothing) + self.smoothing / classes
            gradient = probabilities * targets.sum(-1, keepdim=True) - targets
        gradient.mul_(self.weight / batch)
        predictions = logits if self.from_logits else activations.with_logits(probabilities, logits, "softmax")
        return predictions, gradient

    def _one_hot_parts(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Row indices 0..batch-1 and the value -(1 - smoothing) to add at each target, kept per batch size."""
        if self._one_hot_cache is None or self._one_hot_cache[0].shape[0] != batch:
            self._one_hot_cache = (torch.arange(batch, device=like.device),
                                   like.new_tensor(self.smoothing - 1.0))
        return self._one_hot_cache


class _SigmoidCrossEntropy(_LossHead):
    """Binary cross-entropy on sigmoid outputs: d loss / d logits = (sigmoid - t) / size."""

    fuses_activation = True

    def __init__(self, loss: losses.Loss, weight: float, from_logits: bool) -> None:
        super().__init__(loss, weight)
        self.from_logits, self.smoothing = from_logits, self.arguments.get("label_smoothing", 0.0)

    def predictions_and_gradient(self, logits, targets):
        targets = losses._align(targets, logits)
        if self.smoothing:
            targets = targets * (1.0 - self.smoothing) + 0.5 * self.smoothing
        probabilities = torch.sigmoid(logits)
        gradient = (probabilities - targets).mul_(self.weight / logits.numel())
        predictions = logits if self.from_logits else activations.with_logits(probabilities, logits, "sigmoid")
        return predictions, gradient


class _MeanSquaredError(_LossHead):
    """mean((y - t)²): d loss / d y = 2 (y - t) / size."""

    def predictions_and_gradient(self, output, targets):
        error = output - losses._align(targets, output)
        return output, error.mul_(2.0 * self.weight / output.numel())


def _loss_head(loss: losses.Loss, weight: float, final_activation: Callable | None) -> _LossHead | None:
    """The hand-derived head for `loss` after a stack ending in `final_activation` (of a Dense or
    Activation layer; None after another layer), or None when there is none."""
    if getattr(loss, "reduction", None) != "sum_over_batch_size":
        return None
    arguments = getattr(loss, "arguments", {})
    from_logits = arguments.get("from_logits", False)
    kind = type(loss)
    if kind in (losses.SparseCategoricalCrossentropy, losses.CategoricalCrossentropy):
        if arguments.get("axis", -1) != -1 or arguments.get("ignore_class") is not None:
            return None
        if final_activation is (activations.linear if from_logits else activations.softmax):
            return _SoftmaxCrossEntropy(loss, weight, kind is losses.SparseCategoricalCrossentropy, from_logits)
    elif kind is losses.BinaryCrossentropy:
        if final_activation is (activations.linear if from_logits else activations.sigmoid):
            return _SigmoidCrossEntropy(loss, weight, from_logits)
    elif kind is losses.MeanSquaredError:
        return _MeanSquaredError(loss, weight)
    return None


def _penalty_gradient(penalty: regularizers.L1L2, weight: torch.Tensor) -> torch.Tensor:
    """d/dw of l1·sum|w| + l2·sum w² (sign(0) = 0, as autograd has it)."""
    gradient = weight.detach() * (2.0 * penalty.l2)
    if penalty.l1:
        gradient.add_(torch.sign(weight.detach()), alpha=penalty.l1)
    return gradient


def _supported_layer(layer: Any) -> bool:
    stage = _STAGES.get(type(layer))
    if stage is None or layer._forward_hooks or layer._forward_pre_hooks or layer.activity_regularizer is not None:
        return False
    if stage in (_DenseStage, _ActivationStage) and layer.activation not in _BACKWARD_FROM_OUTPUT:
        return False
    if stage is _DenseStage and not all(type(reg) in _PENALTY_TYPES for _, reg in layer._weight_regularizers):
        return False
    if stage is _BatchNormStage and layer._weight_regularizers:
        return False
    return stage is not _DropoutStage or layer.noise_shape is None


def _layer_chain(model: Any) -> tuple[list, tuple] | None:
    """The model's layers in order with its input shape, when it is a plain chain (`Model.layer_chain`)
    with no hooks on it; None otherwise."""
    if model._forward_hooks or model._forward_pre_hooks or not hasattr(model, "layer_chain"):
        return None
    return model.layer_chain()


def _dense_inputs_are_matrices(layers: list, input_rank: int) -> bool:
    """Whether every Dense and BatchNormalization layer sees `(batch, features)` (on `(batch, steps,
    features)` they work on the last axis, which the stages do not cover)."""
    rank = input_rank
    for layer in layers:
        if isinstance(layer, Flatten):
            rank = 2
        elif isinstance(layer, (Dense, BatchNormalization)) and rank != 2:
            return False
    return True


class DenseStackStep:
    """One training step of a dense stack: forward, loss, hand-derived backward, optimizer step.

    Build it with `for_model`; `train(batch)` returns False (and does nothing) for a batch it does
    not cover, which the caller then runs through autograd.
    """

    def __init__(self, model: Any, stages: list, head: _LossHead, objectives: Any, optimizer: Any,
                 input_shape: tuple) -> None:
        self.model, self.stages, self.head = model, stages, head
        self.objectives, self.optimizer = objectives, optimizer
        self.input_shape = torch.Size(input_shape[1:])
        first_weight = next(i for i, stage in enumerate(stages) if stage.weights())
        # The backward pass, last stage first, down to the first stage with weights; whether each
        # stage passes a gradient on to its input, and whether it starts from the fused loss head.
        self.backward_plan = [(stage, i > first_weight, i == len(stages) - 1 and head.fuses_activation)
                              for i, stage in reversed(list(enumerate(stages))) if i >= first_weight]
        self.penalized = [stage for stage in stages if isinstance(stage, _DenseStage) and stage.penalties]

    @classmethod
    def for_model(cls, model: Any, objectives: Any, optimizer: Any) -> DenseStackStep | None:
        """The step for `model`, or None when its layers, loss or metrics need autograd."""
        chain = _layer_chain(model)
        if chain is None or objectives is None or len(objectives.losses) != 1:
            return None
        layers, input_shape = chain
        if not layers or None in input_shape[1:] or not all(_supported_layer(layer) for layer in layers):
            return None
        if any(p.dtype != torch.float32 for p in model.parameters()) or \
                not _dense_inputs_are_matrices(layers, len(input_shape)):
            return None
        stages = [_STAGES[type(layer)](layer) for layer in layers]
        if not any(stage.weights() for stage in stages):
            return None
        last = stages[-1]
        head = _loss_head(objectives.losses[0], objectives.loss_weights[0], getattr(last, "activation", None))
        if head is None:
            return None
        last.fused_head = head.fuses_activation
        return cls(model, stages, head, objectives, optimizer, input_shape)

    def covers(self, x: Any, y: Any, sample_weight: Any) -> bool:
        """Whether this batch can take the hand-derived path. (The model's layers are those it was
        built for: `Model` builds a new step when they change.)"""
        return (sample_weight is None and type(x) is torch.Tensor and type(y) is torch.Tensor
                and x.dtype == torch.float32 and x.shape[1:] == self.input_shape and self.model.training
                and getattr(x, "_keras_mask", None) is None)

    def train(self, batch: tuple) -> bool:
        x, y, sample_weight = batch
        if not self.covers(x, y, sample_weight):
            return False
        output = x
        for stage in self.stages:
            output = stage.forward(output)
        predictions, grad = self.head.predictions_and_gradient(output, y)
        loss = self.objectives.compute_loss(y, predictions, None, [stage.penalty() for stage in self.penalized])
        for stage, need_input_grad, from_loss_head in self.backward_plan:
            if from_loss_head:
                grad = stage.backward_from_z(grad, need_input_grad)
            else:
                grad = stage.backward(grad, need_input_grad)
        self.optimizer.step()
        self.objectives.update(loss, x.shape[0], y, predictions, None)
        return True


class HandDerivedStep(EagerStep):
    """The step of `jit_compile="auto"` on the CPU for a model `DenseStackStep` covers: its batches
    take the hand-derived path, and any batch it declines (sample weights, evaluation mode, another
    input shape) runs through autograd as an `EagerStep`. `hand_derived_steps` counts the former."""

    kind = "hand_derived"

    def __init__(self, model: Any, objectives: Any, optimizer: Any, stack: DenseStackStep) -> None:
        super().__init__(model, objectives, optimizer)
        self.stack = stack
        self.hand_derived_steps = 0

    def train(self, batch: tuple) -> None:
        with torch.no_grad():
            covered = self.stack.train(batch)
        if not covered:
            super().train(batch)
            return
        self.hand_derived_steps += 1
        if self.has_constraints:
            self.model.apply_constraints()
