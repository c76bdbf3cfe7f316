"""Metrics whose state lives on the device: `update_state` never reads a value back to the host.

`result()` returns a tensor; the progress bar and callbacks convert it when they read it.
Names and defaults follow Keras 3; `"accuracy"` is resolved from the loss and shapes as Keras does.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import torch

from ember import _dtypes, initializers, losses
from ember._naming import lookup, to_snake_case
from ember.variables import Variable, new_variable


class Metric:
    """Base class. Subclasses declare state with `add_variable` (Keras 3) or `add_state` and
    implement `update_state`/`result`; `reset_state` sets every state variable to zero."""

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or to_snake_case(type(self).__name__)
        self._states: dict[str, Variable] = {}

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Variable:
        """Keras 3's `Metric.add_variable`: a state Variable (`assign`, `assign_add`, ...) that
        `reset_state` zeroes and `to(device)` moves in place."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
        name = name or f"variable_{len(self._states)}"
        dtype = _dtypes.to_torch(dtype)
        value = initializers.get(initializer)(shape, dtype) if dtype.is_floating_point else torch.zeros(shape, dtype=dtype)
        variable = new_variable(value, False, name, f"{self.name}/{name}")
        self._states[name] = variable
        return variable

    add_weight = add_variable  # Keras 2's name

    def add_state(self, name: str, shape: tuple[int, ...] = (), dtype: torch.dtype = torch.float32) -> None:
        self.add_variable(shape, "zeros", dtype, name=name)

    @property
    def variables(self) -> list[Variable]:
        """The state variables, in creation order (holding the whole state: host-side counts are folded in)."""
        self.fold_host_counts()
        return list(self._states.values())

    def __getattr__(self, name: str) -> torch.Tensor:
        states = self.__dict__.get("_states", {})
        if name in states:
            return states[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def to(self, device: torch.device | str) -> "Metric":
        """Moves the state to `device` in place (done once when training starts), so references a
        subclass keeps (`self.total = self.add_variable(...)`) stay valid."""
        for value in self._states.values():
            value.data = value.data.to(device)
        return self

    def reset_state(self) -> None:
        for value in self._states.values():
            value.zero_()

    # Keras 3's stateless forms: the state goes in and comes out as a list of tensors (in
    # `variables` order) and the metric itself is left as it was.
    def stateless_update_state(self, metric_variables: list, *args: Any, **kwargs: Any) -> list[torch.Tensor]:
        """The state after `update_state(*args, **kwargs)` from `metric_variables`, as new tensors."""
        with self._holding(metric_variables):
            self.update_state(*args, **kwargs)
            self.fold_host_counts()
            return [v.detach().clone() for v in self.variables]

    def stateless_result(self, metric_variables: list) -> torch.Tensor:
        """`result()` computed from `metric_variables`."""
        with self._holding(metric_variables):
            return self.result()

    def stateless_reset_state(self) -> list[torch.Tensor]:
        """The state `reset_state()` would leave: zeros, one tensor per variable."""
        return [torch.zeros_like(v) for v in self.variables]

    def fold_host_counts(self) -> None:
        """Moves any count kept on the host into the state variables (so they hold the whole state)."""

    @contextlib.contextmanager
    def _holding(self, values: list) -> Iterator[None]:
        variables = self.variables
        if len(values) != len(variables):
            raise ValueError(f"Metric '{self.name}' has {len(variables)} variables; got {len(values)} values.")
        self.fold_host_counts()
        saved = [v.data for v in variables]
        for variable, value in zip(variables, values):
            variable.data = torch.as_tensor(value, dtype=variable.dtype, device=variable.device).clone()
        try:
            yield
        finally:
            for variable, data in zip(variables, saved):
                variable.data = data

    def update_state(self, y_true: torch.Tensor, y_pred: torch.Tensor,
                     sample_weight: torch.Tensor | None = None) -> None:
        raise NotImplementedError

    def result(self) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, y_true: torch.Tensor, y_pred: torch.Tensor,
                 sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Updates the state with one batch and returns the running result (Keras's stateful call)."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class Mean(Metric):
    """Weighted mean of the values passed to `update_state(values, sample_weight)`.

    Unweighted updates (the per-step common case) count their samples on the host, which saves a
    device operation per step; boolean values (hits) are summed as they are."""

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name)
        self.add_state("total")
        self.add_state("count")
        self.unweighted_count = 0

    def update_state(self, values: torch.Tensor, sample_weight: torch.Tensor | None = None) -> None:  # type: ignore[override]
        values = values.detach() if isinstance(values, torch.Tensor) else torch.as_tensor(values)
        if values.dtype != torch.bool:
            values = values.float()
        if sample_weight is None:
            self.total.add_(values.sum())
            self.unweighted_count += values.numel()
            return
        weight = _broadcast_weight(sample_weight.float(), values)
        self.total.add_((values * weight).sum())
        self.count.add_(weight.sum() * (values.numel() / max(weight.numel(), 1)))

    def update_with_batch_mean(self, mean: torch.Tensor, batch_size: int) -> None:
        """A batch's mean counted `batch_size` times (Keras's per-output loss tracking): the
        epoch's value is then the mean over samples, whatever the batching."""
        self.total.add_(mean.detach().float() * batch_size)
        self.unweighted_count += batch_size

    def reset_state(self) -> None:
        super().reset_state()
        self.unweighted_count = 0

    def fold_host_counts(self) -> None:
        if self.unweighted_count:
            self.count.add_(self.unweighted_count)
            self.unweighted_count = 0

    def result(self) -> torch.Tensor:
        return self.total / (self.count + self.unweighted_count).clamp_min(1e-12)


class MeanMetricWrapper(Mean):
    """Mean over samples of `function(y_true, y_pred)` (accuracies, errors)."""

    def __init__(self, function: Callable, name: str | None = None, dtype: Any = None, **arguments: Any) -> None:
        super().__init__(name=name or function.__name__)
        self.function, self.arguments = function, arguments

    def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[override]
        super().update_state(self.function(y_true, y_pred.detach(), **self.arguments), sample_weight)

    def get_config(self):
        return {"name": self.name, **self.arguments}


def _broadcast_weight(weight: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """A weight per value (e.g. a (batch, steps) padding mask), or per sample (batch,), shaped to
    multiply (batch, ...) values."""
    if not values.ndim:
        return weight
    if weight.numel() == values.numel():
        return weight.reshape(values.shape)
    return weight.reshape(weight.shape[:1] + (1,) * (values.ndim - 1)).expand_as(values)


def _sparse_labels(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true.long()


# ------------------------------------------------------------------ metric functions (per sample)
def binary_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Fraction of entries (over the last axis) where `y_pred > threshold` equals the target."""
    y_true = losses._align(y_true, y_pred)
    return ((y_pred > threshold) == (y_true > 0.5)).float().mean(dim=-1)


def categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """1 where the argmax of one-hot targets equals the argmax of predictions."""
    return _categorical_hits(y_true, y_pred).float()


def sparse_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """1 where the integer target equals the argmax of predictions."""
    return _sparse_categorical_hits(y_true, y_pred).float()


def _categorical_hits(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)


def _sparse_categorical_hits(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return _sparse_labels(y_true, y_pred) == y_pred.argmax(dim=-1)


def top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    """1 where the one-hot target's class is among the `k` highest predictions."""
    return sparse_top_k_categorical_accuracy(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    """1 where the integer target is among the `k` highest predictions."""
    top = y_pred.topk(min(k, y_pred.shape[-1]), dim=-1).indices
    return (top == _sparse_labels(y_true, y_pred).unsqueeze(-1)).any(dim=-1).float()


class Accuracy(MeanMetricWrapper):
    """Fraction of predictions equal to the targets (exact match)."""

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(lambda t, p: (losses._align(t, p) == p).float().mean(-1) if p.ndim else (t == p).float(),
                         name=name)

    def get_config(self):
        return {"name": self.name}


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches binary targets."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class matches one-hot targets."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_categorical_hits, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class matches integer targets."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_sparse_categorical_hits, name=name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top `k` predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top `k` predictions."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of squared errors."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of absolute errors."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_absolute_error, name=name)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_absolute_percentage_error, name=name)


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error over everything seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name)

    def result(self):
        return super().result().sqrt()


def _dense_targets(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Integer class ids become one-hot rows when predictions have one column per class."""
    if y_pred.ndim and y_pred.shape[-1] > 1 and (y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1):
        return torch.nn.functional.one_hot(_sparse_labels(y_true, y_pred), y_pred.shape[-1]).to(y_pred.dtype)
    return losses._align(y_true, y_pred)


class _ConfusionMetric(Metric):
    """Counts true/false positives and negatives of `y_pred > threshold` over every entry."""

    def __init__(self, thresholds: float | None = None, class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(name)
        self.threshold = 0.5 if thresholds is None else float(thresholds)
        self.class_id = class_id
        for state in ("true_positives", "false_positives", "false_negatives"):
            self.add_state(state)

    def update_state(self, y_true, y_pred, sample_weight=None):
        with torch.no_grad():
            y_pred = y_pred.detach()
            y_true = _dense_targets(y_true, y_pred) > 0.5
            predicted = y_pred > self.threshold
            if self.class_id is not None:
                y_true, predicted = y_true[..., self.class_id], predicted[..., self.class_id]
            weight = 1.0 if sample_weight is None else _broadcast_weight(sample_weight.float(), y_true.float())
            self.true_positives.add_(((predicted & y_true).float() * weight).sum())
            self.false_positives.add_(((predicted & ~y_true).float() * weight).sum())
            self.false_negatives.add_(((~predicted & y_true).float() * weight).sum())

    def get_config(self):
        return {"name": self.name, "thresholds": self.threshold, "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """true positives / predicted positives, predictions thresholded at `thresholds` (0.5)."""

    def result(self):
        return self.true_positives / (self.true_positives + self.false_positives).clamp_min(1e-12)


class Recall(_ConfusionMetric):
    """true positives / actual positives, predictions thresholded at `thresholds` (0.5)."""

    def result(self):
        return self.true_positives / (self.true_positives + self.false_negatives).clamp_min(1e-12)


class F1Score(Metric):
    """Harmonic mean of precision and recall per class, averaged as `average` says.

    Args:
        average: None (one value per class), "micro", "macro" or "weighted".
        threshold: predictions above it count as positive; None takes each row's argmax.
    Targets may be one-hot or integer class ids.
    """

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype: Any = None) -> None:
        super().__init__(name)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"F1Score: average must be None, 'micro', 'macro' or 'weighted'; got {average!r}.")
        self.average, self.threshold = average, threshold
        self._built_classes: int | None = None

    def _ensure_state(self, classes: int, device: torch.device) -> None:
        if self._built_classes != classes:
            for state in ("true_positives", "false_positives", "false_negatives", "support"):
                self._states[state] = torch.zeros(classes, device=device)
            self._built_classes = classes

    def update_state(self, y_true, y_pred, sample_weight=None):
        with torch.no_grad():
            y_pred = y_pred.detach().reshape(-1, y_pred.shape[-1] if y_pred.ndim > 1 else 1)
            y_true = _dense_targets(y_true.reshape(y_pred.shape[0], -1), y_pred) > 0.5
            self._ensure_state(y_pred.shape[-1], y_pred.device)
            if self.threshold is None and y_pred.shape[-1] > 1:
                predicted = torch.nn.functional.one_hot(y_pred.argmax(-1), y_pred.shape[-1]).bool()
            else:
                predicted = y_pred > (0.5 if self.threshold is None else self.threshold)
            weight = 1.0 if sample_weight is None else sample_weight.float().reshape(-1, 1)
            self.true_positives.add_(((predicted & y_true).float() * weight).sum(0))
            self.false_positives.add_(((predicted & ~y_true).float() * weight).sum(0))
            self.false_negatives.add_(((~predicted & y_true).float() * weight).sum(0))
            self.support.add_((y_true.float() * weight).sum(0))

    def result(self):
        if self._built_classes is None:
            return torch.zeros(())
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        f1 = 2 * tp / (2 * tp + fp + fn).clamp_min(1e-12)
        if self.average == "macro":
            return f1.mean()
        if self.average == "weighted":
            return (f1 * self.support).sum() / self.support.sum().clamp_min(1e-12)
        return f1

    def reset_state(self):
        for value in self._states.values():
            value.zero_()

    def get_config(self):
        return {"name": self.name, "average": self.average, "threshold": self.threshold}


class AUC(Metric):
    """Area under the ROC (or precision-recall) curve, from counts at `num_thresholds` thresholds.

    Predictions are probabilities (or logits with `from_logits=True`); every entry counts as one
    binary decision, as in Keras with `multi_label=False`.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", from_logits: bool = False,
                 name: str = "auc", dtype: Any = None) -> None:
        super().__init__(name)
        if num_thresholds < 2:
            raise ValueError(f"AUC: num_thresholds must be at least 2; got {num_thresholds}.")
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR'; got {curve!r}.")
        self.num_thresholds, self.curve, self.from_logits = num_thresholds, curve.upper(), from_logits
        epsilon = 1e-7
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = torch.tensor([-epsilon] + inner + [1 + epsilon])
        self.add_state("positives", (num_thresholds + 1,))
        self.add_state("negatives", (num_thresholds + 1,))

    def to(self, device):
        self._thresholds = self._thresholds.to(device)
        return super().to(device)

    def update_state(self, y_true, y_pred, sample_weight=None):
        with torch.no_grad():
            y_pred = y_pred.detach().float()
            if self.from_logits:
                y_pred = torch.sigmoid(y_pred)
            y_true = _dense_targets(y_true, y_pred).float()
            weight = torch.ones_like(y_pred) if sample_weight is None else \
                _broadcast_weight(sample_weight.float(), y_pred)
            # bucket b holds predictions in (threshold[b-1], threshold[b]]
            bucket = torch.bucketize(y_pred.reshape(-1).clamp(0, 1), self._thresholds).reshape(-1)
            weight, y_true = weight.reshape(-1), y_true.reshape(-1)
            self.positives.add_(torch.bincount(bucket, weight * y_true, minlength=self.num_thresholds + 1))
            self.negatives.add_(torch.bincount(bucket, weight * (1 - y_true), minlength=self.num_thresholds + 1))

    def result(self):
        # predictions above threshold t are the buckets after t: reverse cumulative sums
        tp = self.positives.flip(0).cumsum(0).flip(0)[1:]
        fp = self.negatives.flip(0).cumsum(0).flip(0)[1:]
        total_positive, total_negative = self.positives.sum(), self.negatives.sum()
        recall = tp / total_positive.clamp_min(1e-12)
        if self.curve == "ROC":
            fpr = fp / total_negative.clamp_min(1e-12)
            return ((fpr[:-1] - fpr[1:]) * (recall[:-1] + recall[1:]) / 2).sum()
        precision = tp / (tp + fp).clamp_min(1e-12)
        return ((recall[:-1] - recall[1:]) * precision[1:]).sum()

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                "from_logits": self.from_logits}


_METRICS: dict[str, Callable[[], Metric]] = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "root_mean_squared_error": RootMeanSquaredError, "rmse": RootMeanSquaredError,
    "precision": Precision, "recall": Recall, "auc": AUC,
    "f1_score": lambda: F1Score(average="macro", threshold=0.5), "f1": lambda: F1Score(average="macro", threshold=0.5),
}
_CLASS_NAMES = {cls.__name__: cls for cls in (
    Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    RootMeanSquaredError, Precision, Recall, F1Score, AUC)}


def accuracy_for(loss: losses.Loss, output_shape: tuple, target_shape: tuple) -> Metric:
    """The accuracy Keras means by `"accuracy"` for this loss and these shapes."""
    if isinstance(loss, losses.BinaryCrossentropy) or (output_shape and output_shape[-1] == 1):
        return BinaryAccuracy(name="accuracy")
    if isinstance(loss, losses.SparseCategoricalCrossentropy) or len(target_shape) < len(output_shape) or (
            target_shape and target_shape[-1] == 1):
        return SparseCategoricalAccuracy(name="accuracy")
    if isinstance(loss, losses.CategoricalCrossentropy):
        return CategoricalAccuracy(name="accuracy")
    return Accuracy(name="accuracy")


def get(identifier: str | Metric | Callable | type, loss: losses.Loss | None = None,
        output_shape: tuple = (), target_shape: tuple = ()) -> Metric:
    """A Metric from a name (`"accuracy"` is resolved from the loss and shapes), class, instance or function."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            metric = accuracy_for(loss, output_shape, target_shape)
            metric.name = identifier
            return metric
        if identifier in _CLASS_NAMES:
            return _CLASS_NAMES[identifier]()
        metric = lookup("metric", identifier, _METRICS | {"accuracy": Accuracy})()
        metric.name = identifier
        return metric
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"A metric must be a name, a Metric, or a function (y_true, y_pred) -> values; "
                    f"got {identifier!r}.")
