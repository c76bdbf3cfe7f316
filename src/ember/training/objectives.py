"""What a compiled model optimises and reports: per-output losses, loss weights and metrics.

`Objectives` turns `compile(loss=..., metrics=..., loss_weights=...)` into one callable total loss
and a set of device-side trackers whose results make the logs (`loss`, `accuracy`, `out_loss`, ...).
"""

from __future__ import annotations

from typing import Any

import torch

from ember import losses as losses_module
from ember import metrics as metrics_module
from ember._tree import flatten


class LossTracker(metrics_module.Metric):
    """Batch-size-weighted mean of the loss over an epoch, and the first step whose loss was not finite.

    Each step writes its loss into one slot of a device buffer (a single copy, no host wait);
    the batch sizes are known on the host. Both are combined only when someone reads the result.
    """

    def __init__(self, name: str = "loss", capacity: int = 1024) -> None:
        super().__init__(name)
        self._states["values"] = torch.zeros(capacity)
        self.batch_sizes: list[int] = []

    def update(self, loss: torch.Tensor, batch_size: int) -> None:
        values, step = self._states["values"], len(self.batch_sizes)
        if step == values.shape[0]:
            values = self._states["values"] = torch.cat([values, torch.zeros_like(values)])
        values[step] = loss.detach()
        self.batch_sizes.append(batch_size)

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Keras's `Mean.update_state` form (a custom `train_step` updating the "loss" tracker): the mean
        of `values`, counted `sample_weight` times (a number, e.g. the batch size; once by default)."""
        values = torch.as_tensor(values).detach().float()
        count = int(sample_weight) if isinstance(sample_weight, (int, float)) else 1
        self.update(values.mean(), count)

    def reset_state(self) -> None:
        self.batch_sizes = []

    def result(self) -> torch.Tensor:
        steps = len(self.batch_sizes)
        if not steps:
            return self.values.new_zeros(())
        weights = torch.tensor(self.batch_sizes, dtype=self.values.dtype).to(self.values.device, non_blocking=True)
        return (self.values[:steps] * weights).sum() / sum(self.batch_sizes)

    def weighted_total(self) -> torch.Tensor:
        """`[sum of loss x batch size, sum of batch sizes]` (float64), for summing over replicas."""
        steps = len(self.batch_sizes)
        weights = torch.tensor(self.batch_sizes, dtype=torch.float64, device=self.values.device)
        return torch.stack([(self.values[:steps].double() * weights).sum(), weights.sum()])

    def set_total(self, total: torch.Tensor) -> None:
        """Replaces the epoch's steps by one holding `total`'s mean (from `weighted_total`)."""
        count = int(total[1])
        self.values[0] = total[0] / count if count else 0.0
        self.batch_sizes = [count] if count else []

    def first_nonfinite_step(self) -> int:
        """The first step (0-based) whose loss was NaN or infinite, or -1 (reads from the device)."""
        bad = (~torch.isfinite(self.values[:len(self.batch_sizes)])).nonzero()
        return int(bad[0, 0]) if len(bad) else -1


class Objectives:
    """The compiled losses and metrics for a model with `output_names` outputs.

    As in Keras, `metrics` see the padding mask but not the sample weights (nor `class_weight`);
    `weighted_metrics` see both. A weighted metric whose name is taken is logged as `weighted_<name>`.
    `loss=None` (Keras allows it) leaves only the losses the layers add (`add_loss`) to minimize.
    """

    def __init__(self, loss: Any, metrics: Any, loss_weights: Any, output_names: list[str],
                 weighted_metrics: Any = None) -> None:
        self.output_names = output_names
        self.losses = self._per_output(loss, "loss", allow_none=loss is None)
        self.losses = [None if item is None else losses_module.get(item) for item in self.losses]
        weights = self._per_output(loss_weights, "loss_weights") if loss_weights is not None else None
        self.loss_weights = [1.0 if w is None else float(w) for w in (weights or [None] * len(output_names))]
        self._metric_specs = self._metrics_per_output(metrics)
        self._weighted_metric_specs = self._metrics_per_output(weighted_metrics)
        self.metrics: list[list[metrics_module.Metric]] | None = None  # resolved once shapes are known
        self.weighted_metrics: list[list[metrics_module.Metric]] = [[] for _ in output_names]
        self.loss_tracker = LossTracker()
        self._single_output = len(output_names) == 1
        self.output_loss_trackers = [metrics_module.Mean(f"{name}_loss") for name in output_names] \
            if len(output_names) > 1 else []
        self.last_output_losses: list[torch.Tensor | None] = []  # per-output losses of the last compute_loss

    # ------------------------------------------------------------------ setup
    def _per_output(self, value: Any, argument: str, allow_none: bool = True) -> list:
        count = len(self.output_names)
        if isinstance(value, dict):
            unknown = set(value) - set(self.output_names)
            if unknown:
                raise ValueError(f"{argument} names outputs {sorted(unknown)}, but the model's outputs are "
                                 f"{self.output_names}.")
            values = [value.get(name) for name in self.output_names]
        elif isinstance(value, (list, tuple)):
            if len(value) != count:
                raise ValueError(f"{argument} has {len(value)} entries but the model has {count} outputs "
                                 f"({self.output_names}).")
            values = list(value)
        else:
            values = [value] * count
        if not allow_none and any(v is None for v in values):
            missing = [n for n, v in zip(self.output_names, values) if v is None]
            raise ValueError(f"No {argument} given for outputs {missing}.")
        return values

    def _metrics_per_output(self, metrics: Any) -> list[list[Any]]:
        count = len(self.output_names)
        if metrics is None:
            return [[] for _ in range(count)]
        if isinstance(metrics, dict):
            return [_as_list(spec) for spec in self._per_output(metrics, "metrics")]
        metrics = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
        if count > 1 and len(metrics) == count and all(isinstance(m, (list, tuple)) for m in metrics):
            return [list(m) for m in metrics]
        return [list(metrics) for _ in range(count)]

    def resolve(self, targets: Any, output_shapes: list[tuple]) -> None:
        """Checks the targets against each loss and resolves metric names such as "accuracy"."""
        targets = self.split_targets(targets)
        for loss, target, shape, name in zip(self.losses, targets, output_shapes, self.output_names):
            if target is None or loss is None or shape is None:
                continue
            _check_output_keeps_no_extra_axes(loss, target, shape, name if len(self.output_names) > 1 else None)
            loss.validate_targets(target, shape)
            _check_target_shape(loss, target, shape, name if len(self.output_names) > 1 else None)
        if self.metrics is None:
            self.metrics = self._resolve_metrics(self._metric_specs, targets, output_shapes)
            self.weighted_metrics = self._resolve_metrics(self._weighted_metric_specs, targets, output_shapes)
            taken = {"loss", *(tracker.name for tracker in self.output_loss_trackers),
                     *(metric.name for metric in flatten(self.metrics))}
            for metric in flatten(self.weighted_metrics):
                if metric.name in taken:
                    metric.name = f"weighted_{metric.name}"
                taken.add(metric.name)

    def _resolve_metrics(self, specs_per_output: list[list[Any]], targets: list, output_shapes: list[tuple]) -> list:
        resolved_per_output = []
        for specs, loss, target, shape, name in zip(specs_per_output, self.losses, targets, output_shapes,
                                                    self.output_names):
            target_shape = tuple(target.shape) if target is not None else ()
            resolved = [metrics_module.get(spec, loss, shape, target_shape) for spec in specs]
            if len(self.output_names) > 1:
                for metric in resolved:
                    metric.name = f"{name}_{metric.name}"
            resolved_per_output.append(resolved)
        return resolved_per_output

    def split_targets(self, targets: Any) -> list:
        """Targets as one entry per output, from a tensor, a list or a dict keyed by output name."""
        if len(self.output_names) == 1:
            if isinstance(targets, (list, tuple)) and len(targets) == 1:
                return [targets[0]]
            if isinstance(targets, dict):
                if len(targets) != 1:
                    raise ValueError(f"The model has one output ({self.output_names[0]!r}) but y is a dict with "
                                     f"{len(targets)} entries {sorted(targets)}; pass the target array itself, or "
                                     f"a dict with one entry, e.g. {{{self.output_names[0]!r}: y}}.")
                return [next(iter(targets.values()))]
            return [targets]
        if isinstance(targets, dict):
            return [targets.get(name) for name in self.output_names]
        if not isinstance(targets, (list, tuple)) or len(targets) != len(self.output_names):
            raise ValueError(f"The model has {len(self.output_names)} outputs ({self.output_names}); y must be a "
                             f"list of that many arrays or a dict keyed by output name.")
        return list(targets)

    def per_output(self, predictions: Any) -> list:
        """The model's outputs as a list in `output_names` order (a dict of outputs is read by name)."""
        if isinstance(predictions, dict):
            return [predictions[name] for name in self.output_names]
        return list(predictions) if len(self.output_names) > 1 else [predictions]

    def to(self, device: torch.device) -> None:
        for metric in self.all_trackers():
            metric.to(device)

    def all_trackers(self) -> list[metrics_module.Metric]:
        return [self.loss_tracker, *self.output_loss_trackers, *flatten(self.metrics or []),
                *flatten(self.weighted_metrics)]

    def reset(self) -> None:
        for metric in self.all_trackers():
            metric.reset_state()

    # -------------------------------------------------------------- per step
    def compute_loss(self, targets: Any, predictions: Any, sample_weight: Any,
                     extra: list[torch.Tensor]) -> torch.Tensor:
        """The weighted sum of output losses plus regularization `extra` terms (one scalar tensor).
        With several outputs, each output's own loss is kept in `last_output_losses` for `update`."""
        if self._single_output and isinstance(targets, torch.Tensor) and self.losses[0] is not None:  # kept lean
            sample_weight = with_mask(sample_weight, predictions)
            total = self.losses[0](targets, predictions, sample_weight)
            if self.loss_weights[0] != 1.0:
                total = total * self.loss_weights[0]
            for term in extra:
                total = total + term
            return total
        outputs = self.per_output(predictions)
        weights = self.split_targets(sample_weight) if sample_weight is not None else [None] * len(outputs)
        total, self.last_output_losses = None, []
        for loss, weight, target, output, sample_weight_i in zip(self.losses, self.loss_weights,
                                                                 self.split_targets(targets), outputs, weights):
            if target is None or loss is None:
                self.last_output_losses.append(None)
                continue
            value = loss(target, output, with_mask(sample_weight_i, output))
            self.last_output_losses.append(value.detach())
            total = value * weight if total is None else total + value * weight
        for term in extra:
            total = term if total is None else total + term
        if total is None and all(loss is None for loss in self.losses):
            raise ValueError("There is no loss to minimize: compile() got no loss and no layer added one "
                             "(add_loss). Pass loss=... to compile() (e.g. 'sparse_categorical_crossentropy' for "
                             "integer class labels, 'mse' for regression), or override train_step.")
        if total is None:
            raise ValueError("No targets were given, so there is no loss to compute. Pass y to fit().")
        return total

    def update(self, loss: torch.Tensor, batch_size: int, targets: Any, predictions: Any,
               sample_weight: Any, output_losses: list[torch.Tensor | None] | None = None) -> None:
        """Accumulates the loss and every metric for one batch, on the device. `output_losses`
        (several outputs) default to those of the last `compute_loss`."""
        self.loss_tracker.update(loss, batch_size)
        if self.output_loss_trackers:
            values = self.last_output_losses if output_losses is None else output_losses
            for tracker, value in zip(self.output_loss_trackers, values):
                if value is not None:  # weighted by the batch's size, as Keras does
                    tracker.update_with_batch_mean(value, batch_size)
        self.update_metrics(targets, predictions, sample_weight)

    def update_metrics(self, targets: Any, predictions: Any, sample_weight: Any) -> None:
        """Accumulates the compiled metrics (not the loss) for one batch (Keras's `compute_metrics`)."""
        if self._single_output and isinstance(targets, torch.Tensor):
            self._update_metrics(self.metrics[0], self.weighted_metrics[0], targets, predictions, sample_weight)
            return
        outputs = self.per_output(predictions)
        weights = self.split_targets(sample_weight) if sample_weight is not None else [None] * len(outputs)
        for metrics, weighted, target, output, weight in zip(self.metrics or [], self.weighted_metrics,
                                                             self.split_targets(targets), outputs, weights):
            if target is not None:
                self._update_metrics(metrics, weighted, target, output, weight)

    @staticmethod
    def _update_metrics(metrics: list, weighted: list, target: torch.Tensor, output: torch.Tensor,
                        sample_weight: torch.Tensor | None) -> None:
        mask = with_mask(None, output)
        for metric in metrics:
            metric.update_state(target, output, mask)
        if weighted:
            weights = with_mask(sample_weight, output)
            for metric in weighted:
                metric.update_state(target, output, weights)

    def results(self) -> dict[str, torch.Tensor]:
        """Current values as device tensors, named as Keras names them in logs."""
        values = {"loss": self.loss_tracker.result()}
        values.update({tracker.name: tracker.result() for tracker in self.output_loss_trackers})
        values.update({metric.name: metric.result() for metric in flatten(self.metrics or [])})
        values.update({metric.name: metric.result() for metric in flatten(self.weighted_metrics)})
        return values


def with_mask(sample_weight: torch.Tensor | None, predictions: Any) -> torch.Tensor | None:
    """Sample weights that leave out padded steps of sequence outputs (a mask flowed to them).

    Valid steps are weighted so that the mean runs over them alone, as Keras does."""
    mask = getattr(predictions, "_keras_mask", None)
    if mask is None:
        return sample_weight
    weight = mask.to(predictions.dtype)
    weight = weight * (weight.numel() / weight.sum().clamp_min(1))
    if sample_weight is None:
        return weight
    return weight * sample_weight.reshape(sample_weight.shape + (1,) * (weight.ndim - sample_weight.ndim))


def _as_list(spec: Any) -> list:
    if spec is None:
        return []
    return list(spec) if isinstance(spec, (list, tuple)) else [spec]


def _check_output_keeps_no_extra_axes(loss: losses_module.Loss, target: torch.Tensor, shape: tuple,
                                      output: str | None) -> None:
    """Catches the classic CNN without `Flatten`: Dense layers straight after convolutions or
    pooling act on the last axis only, so the output keeps its spatial axes, e.g. (batch, 5, 5, 10),
    while the targets are (batch, 10) (or class ids (batch,))."""
    sparse = isinstance(loss, losses_module.SparseCategoricalCrossentropy)
    expected_rank = len(shape) - 1 if sparse else len(shape)
    if len(shape) < 3 or target.ndim >= expected_rank or target.ndim > 2:
        return
    where = f" '{output}'" if output else ""
    classes, kept = shape[-1], tuple(shape[1:-1])
    wanted = "(batch,)" if sparse else f"(batch, {classes})"
    pooling = {3: "GlobalAveragePooling1D", 4: "GlobalAveragePooling2D"}.get(len(shape), "GlobalAveragePooling3D")
    sequences = " For a recurrent model, give its last recurrent layer return_sequences=False." \
        if len(shape) == 3 else ""
    raise ValueError(
        f"The model's output{where} has shape (batch, {', '.join(map(str, shape[1:]))}), but the targets have shape "
        f"{tuple(target.shape)}: fewer axes than the output. A Dense layer acts on the last axis only, so the axes "
        f"{kept} of the convolution or pooling before it are kept. Add layers.Flatten() (or a global pooling layer, "
        f"layers.{pooling}()) before the first Dense layer, so that the output is (batch, {classes}) like the "
        f"targets {wanted}.{sequences}")


def _check_target_shape(loss: losses_module.Loss, target: torch.Tensor, shape: tuple, output: str | None) -> None:
    if isinstance(loss, losses_module.SparseCategoricalCrossentropy) or not isinstance(
            loss, (losses_module._FunctionLoss, losses_module.BinaryCrossentropy, losses_module.Huber)):
        return
    target_shape, output_shape = tuple(target.shape[1:]), tuple(shape[1:])
    if target_shape == output_shape or target_shape + (1,) == output_shape or target_shape == output_shape + (1,):
        return
    where = f" for output '{output}'" if output else ""
    raise ValueError(f"Targets{where} have shape {tuple(target.shape)} but the model outputs shape "
                     f"{shape}; {loss.name} compares them elementwise, so they must match. Change the last "
                     f"layer's units or reshape y.")
