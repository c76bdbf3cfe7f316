"""Loss functions with Keras's names, arguments and reductions.

A loss is called as `loss(y_true, y_pred, sample_weight=None)` and returns a scalar: the
per-sample values (each averaged over the last axis, as Keras does) weighted and summed, divided
by the number of values ("sum_over_batch_size"). When `y_pred` comes out of a softmax or sigmoid
activation, the cross-entropies use its logits, which is the numerically stable fused form.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from ember import registry
from ember._naming import lookup, to_snake_case

EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "none", None)


def _align(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """y_true in y_pred's dtype and rank: (batch,) targets against (batch, 1) outputs and the reverse."""
    y_true = y_true.to(y_pred.dtype)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.unsqueeze(-1)
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true


def _logits_of(y_pred: torch.Tensor, kind: str) -> torch.Tensor | None:
    if getattr(y_pred, "_ember_logits_kind", None) == kind:
        return y_pred._ember_logits
    return None


def log_probabilities(outputs: torch.Tensor, from_logits: bool = False) -> torch.Tensor:
    """`(batch, classes)` log-probabilities of a classifier's outputs: logits (`from_logits`), or
    probabilities, read from the logits a softmax layer kept where it did (the stable form)."""
    logits = outputs if from_logits else _logits_of(outputs, "softmax")
    if logits is not None:
        return torch.log_softmax(logits.float(), dim=-1)
    return torch.log(outputs.float().clamp_min(1e-7))


# ------------------------------------------------------------------ functions (per-sample values)
def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean((y_pred - y_true)², axis=-1)."""
    return (y_pred - _align(y_true, y_pred)).square().mean(dim=-1)


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean(|y_pred - y_true|, axis=-1)."""
    return (y_pred - _align(y_true, y_pred)).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """100 * mean(|(y_true - y_pred) / y_true|, axis=-1)."""
    y_true = _align(y_true, y_pred)
    return 100.0 * ((y_true - y_pred) / y_true.abs().clamp_min(EPSILON)).abs().mean(dim=-1)


def mean_squared_logarithmic_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean((log(1 + y_pred) - log(1 + y_true))², axis=-1)."""
    y_true = _align(y_true, y_pred)
    return (torch.log1p(y_pred.clamp_min(EPSILON - 1 + 1)) - torch.log1p(y_true.clamp_min(0))).square().mean(-1)


def huber(y_true: torch.Tensor, y_pred: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Quadratic for errors below `delta`, linear above; averaged over the last axis."""
    return F.huber_loss(y_pred, _align(y_true, y_pred), reduction="none", delta=delta).mean(dim=-1)


def log_cosh(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean(log(cosh(y_pred - y_true)), axis=-1), computed stably."""
    error = y_pred - _align(y_true, y_pred)
    return (error + F.softplus(-2.0 * error) - torch.log(torch.tensor(2.0, dtype=error.dtype))).mean(dim=-1)


def _signed_targets(y_true: torch.Tensor) -> torch.Tensor:
    """Keras's hinge losses accept {0, 1} targets and turn them into {-1, 1}."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean(max(1 - y_true * y_pred, 0), axis=-1), targets in {-1, 1} (or {0, 1})."""
    y_true = _signed_targets(_align(y_true, y_pred))
    return torch.relu(1.0 - y_true * y_pred).mean(dim=-1)


def squared_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean(max(1 - y_true * y_pred, 0)², axis=-1)."""
    y_true = _signed_targets(_align(y_true, y_pred))
    return torch.relu(1.0 - y_true * y_pred).square().mean(dim=-1)


def categorical_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """max(0, 1 + max((1 - y_true) * y_pred) - sum(y_true * y_pred)) for one-hot targets."""
    y_true = _align(y_true, y_pred)
    positive = (y_true * y_pred).sum(dim=-1)
    negative = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return torch.relu(1.0 + negative - positive)


def kl_divergence(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """sum(y_true * log(y_true / y_pred), axis=-1), both clipped to [eps, 1]."""
    y_true = _align(y_true, y_pred).clamp(EPSILON, 1.0)
    return (y_true * torch.log(y_true / y_pred.clamp(EPSILON, 1.0))).sum(dim=-1)


def poisson(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean(y_pred - y_true * log(y_pred + eps), axis=-1)."""
    y_true = _align(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(dim=-1)


def cosine_similarity(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """-cos(y_true, y_pred) along `axis` (so that minimising it aligns the vectors)."""
    return -F.cosine_similarity(_align(y_true, y_pred), y_pred, dim=axis, eps=1e-12)


def binary_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                        label_smoothing: float = 0.0) -> torch.Tensor:
    """Binary cross-entropy averaged over the last axis; targets in [0, 1]."""
    y_true = _align(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    if logits is not None:
        return F.binary_cross_entropy_with_logits(logits, y_true, reduction="none").mean(dim=-1)
    y_pred = y_pred.clamp(EPSILON, 1.0 - EPSILON)
    return -(y_true * torch.log(y_pred) + (1.0 - y_true) * torch.log1p(-y_pred)).mean(dim=-1)


def categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Cross-entropy against one-hot (or soft) targets along `axis`."""
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax")
    if logits is not None:
        return -(y_true * torch.log_softmax(logits, dim=axis)).sum(dim=axis)
    y_pred = y_pred / y_pred.sum(dim=axis, keepdim=True)
    return -(y_true * torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))).sum(dim=axis)


def sparse_categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1,
                                    label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy against integer class ids: y_true `(batch, ...)`, y_pred `(batch, ..., classes)`.

    `label_smoothing` (not in Keras's sparse loss; as in `torch.nn.functional.cross_entropy`) spreads
    that share of each target uniformly over all classes, like the categorical loss's argument."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    labels = y_true.long()
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax")
    if logits is not None:
        classes_last = logits.movedim(axis, -1)
        values = F.cross_entropy(classes_last.reshape(-1, classes_last.shape[-1]), labels.reshape(-1),
                                 reduction="none", label_smoothing=label_smoothing).reshape(labels.shape)
    else:
        log_probabilities = torch.log(y_pred.movedim(axis, -1).clamp(EPSILON, 1.0 - EPSILON))
        values = -log_probabilities.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
        if label_smoothing:
            values = (1 - label_smoothing) * values - label_smoothing * log_probabilities.mean(-1)
    return values if valid is None else values * valid


# ----------------------------------------------------------------------------- Loss classes
class Loss:
    """Base class: `call(y_true, y_pred)` gives per-sample values; `__call__` weights and reduces them."""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {list(_REDUCTIONS)}; "
                             f"got {reduction!r}.")
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, y_true: torch.Tensor, y_pred: torch.Tensor,
                 sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        values = self.call(y_true, y_pred)
        return reduce_values(values, sample_weight, self.reduction)

    def validate_targets(self, y_true: torch.Tensor, output_shape: tuple) -> None:
        """Raises a clear error when the targets cannot be meant for this loss and output shape."""

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}


def reduce_values(values: torch.Tensor, sample_weight: torch.Tensor | None, reduction: str | None) -> torch.Tensor:
    """Weights per-sample values by `sample_weight` (batch,) and reduces them as Keras does."""
    if sample_weight is not None:
        weight = sample_weight.to(values.dtype)
        weight = weight.reshape(weight.shape + (1,) * (values.ndim - weight.ndim)) if weight.ndim < values.ndim \
            else weight.reshape(values.shape)
        values = values * weight
    if reduction in ("none", None):
        return values
    total = values.sum()
    return total if reduction == "sum" else total / max(values.numel(), 1)


class LossFunctionWrapper(Loss):
    """A Loss made from a function `fn(y_true, y_pred, **arguments) -> per-sample values`."""

    def __init__(self, function: Callable, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 **arguments: Any) -> None:
        super().__init__(name=name or getattr(function, "__name__", "loss"), reduction=reduction)
        self.function, self.arguments = function, arguments

    def call(self, y_true, y_pred):
        return self.function(y_true, y_pred, **self.arguments)

    def get_config(self):
        return {**super().get_config(), **self.arguments}


class _FunctionLoss(LossFunctionWrapper):
    """A Loss class with no arguments beyond name and reduction; subclasses name the function."""

    loss_function: Callable

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None) -> None:
        super().__init__(self.loss_function, name=name or self.loss_function.__name__, reduction=reduction)

    def get_config(self):
        return Loss.get_config(self)


class MeanSquaredError(_FunctionLoss):
    """Mean of squared errors over the last axis."""

    loss_function = staticmethod(mean_squared_error)


class MeanAbsoluteError(_FunctionLoss):
    """Mean of absolute errors over the last axis."""

    loss_function = staticmethod(mean_absolute_error)


class MeanAbsolutePercentageError(_FunctionLoss):
    """Mean absolute percentage error."""

    loss_function = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_FunctionLoss):
    """Mean squared logarithmic error."""

    loss_function = staticmethod(mean_squared_logarithmic_error)


class LogCosh(_FunctionLoss):
    """Logarithm of the hyperbolic cosine of the error."""

    loss_function = staticmethod(log_cosh)


class Hinge(_FunctionLoss):
    """Hinge loss for targets in {-1, 1} (or {0, 1})."""

    loss_function = staticmethod(hinge)


class SquaredHinge(_FunctionLoss):
    """Squared hinge loss."""

    loss_function = staticmethod(squared_hinge)


class CategoricalHinge(_FunctionLoss):
    """Categorical hinge loss for one-hot targets."""

    loss_function = staticmethod(categorical_hinge)


class KLDivergence(_FunctionLoss):
    """Kullback-Leibler divergence between target and predicted distributions."""

    loss_function = staticmethod(kl_divergence)


class Poisson(_FunctionLoss):
    """Poisson negative log-likelihood."""

    loss_function = staticmethod(poisson)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic below `delta`, linear above."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss") -> None:
        super().__init__(huber, name=name, reduction=reduction, delta=float(delta))


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis`."""

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity") -> None:
        super().__init__(cosine_similarity, name=name, reduction=reduction, axis=int(axis))


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for one sigmoid unit (or several independent ones); targets in [0, 1]."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_crossentropy") -> None:
        super().__init__(binary_crossentropy, name=name, reduction=reduction, from_logits=bool(from_logits),
                         label_smoothing=float(label_smoothing))

    def validate_targets(self, y_true, output_shape):
        if y_true.numel() and (y_true.min() < 0 or y_true.max() > 1):
            raise ValueError(
                f"binary_crossentropy needs targets in [0, 1]; got values from {y_true.min().item():g} to "
                f"{y_true.max().item():g}. For integer class ids use sparse_categorical_crossentropy with a "
                f"softmax output of one unit per class.")


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot targets `(batch, classes)`; see SparseCategoricalCrossentropy for ids."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "categorical_crossentropy") -> None:
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, from_logits=bool(from_logits),
                         label_smoothing=float(label_smoothing), axis=int(axis))

    def validate_targets(self, y_true, output_shape):
        classes = output_shape[-1]
        if classes and classes > 1 and (y_true.ndim < len(output_shape) or y_true.shape[-1] == 1):
            raise ValueError(
                f"categorical_crossentropy needs one-hot targets of shape (batch, {classes}); got targets of "
                f"shape {tuple(y_true.shape)}, which look like integer class ids. Use "
                f"loss='sparse_categorical_crossentropy', or one-hot encode with "
                f"ember.utils.to_categorical(y, {classes}).")
        if classes and y_true.shape[-1] != classes:
            raise ValueError(f"categorical_crossentropy: targets have {y_true.shape[-1]} columns but the model "
                             f"outputs {classes} classes; they must match.")


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class ids `(batch,)` against outputs `(batch, classes)`."""

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy", label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing}.")
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), ignore_class=ignore_class, axis=int(axis),
                         label_smoothing=float(label_smoothing))

    def __call__(self, y_true, y_pred, sample_weight=None):
        logits = y_pred if self.arguments["from_logits"] else _logits_of(y_pred, "softmax")
        if (logits is not None and logits.ndim == 2 and sample_weight is None and self.arguments["axis"] == -1
                and self.arguments["ignore_class"] is None and self.reduction == "sum_over_batch_size"):
            labels = y_true.squeeze(-1) if y_true.ndim == 2 else y_true
            return F.cross_entropy(logits, labels.long(),  # the per-step common case in one kernel
                                   label_smoothing=self.arguments["label_smoothing"])
        return super().__call__(y_true, y_pred, sample_weight)

    def validate_targets(self, y_true, output_shape):
        classes = output_shape[-1]
        if y_true.ndim == len(output_shape) and y_true.shape[-1] == classes and classes and classes > 1:
            raise ValueError(
                f"sparse_categorical_crossentropy needs integer class ids of shape (batch,); got targets of shape "
                f"{tuple(y_true.shape)}, which look one-hot. Use loss='categorical_crossentropy', or pass "
                f"y.argmax(axis=-1).")
        if y_true.is_floating_point() and not torch.equal(y_true, y_true.round()):
            raise ValueError("sparse_categorical_crossentropy needs integer class ids; got non-integer targets.")
        if classes and y_true.numel():
            ignore = self.arguments.get("ignore_class")
            labels = y_true if ignore is None else y_true[y_true != ignore]
            low, high = (labels.min().item(), labels.max().item()) if labels.numel() else (0, 0)
            if low < 0 or high >= classes:
                raise ValueError(
                    f"sparse_categorical_crossentropy: class ids must lie in [0, {classes}) for a model with "
                    f"{classes} output units; got ids from {low:g} to {high:g}. Give the last layer "
                    f"{int(high) + 1} units, or fix the labels.")


_LOSSES: dict[str, Callable[[], Loss]] = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "poisson": Poisson, "cosine_similarity": CosineSimilarity,
}
_FUNCTIONS = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
              mean_absolute_percentage_error: MeanAbsolutePercentageError,
              mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber, log_cosh: LogCosh,
              binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy, kl_divergence: KLDivergence,
              hinge: Hinge, squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge, poisson: Poisson,
              cosine_similarity: CosineSimilarity}
_CLASS_NAMES = {cls.__name__: cls for cls in set(_LOSSES.values())}

# Keras's short aliases for the functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence


def get(identifier: str | Loss | Callable | type | dict) -> Loss:
    """A Loss from a name (`"mse"`), a Loss class or instance, a saved config, or a function."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        cls = lookup("loss", identifier["class_name"], _CLASS_NAMES)
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, str):
        found = _CLASS_NAMES.get(identifier) or lookup("loss", identifier, _LOSSES)
        return found() if isinstance(found, type) else get(found)  # a user's function, from custom_objects
    if callable(identifier):
        return _FUNCTIONS[identifier]() if identifier in _FUNCTIONS else LossFunctionWrapper(identifier)
    raise TypeError(f"A loss must be a name, a Loss, or a function (y_true, y_pred) -> values; got {identifier!r}.")


def serialize(loss: Loss) -> dict | str:
    """A JSON description of a built-in loss that `get` turns back into it; a loss made from a named
    function is saved by its (registered) name, for `custom_objects` to supply at load."""
    if type(loss) is LossFunctionWrapper and getattr(loss.function, "__name__", "<lambda>") != "<lambda>" \
            and not loss.arguments:
        return registry.get_registered_name(loss.function)
    registered = registry.get_registered_name(type(loss))
    if type(loss).__name__ not in _CLASS_NAMES and registry.lookup(registered) is type(loss):
        return {"class_name": registered, "config": loss.get_config()}  # a registered Loss subclass
    if type(loss).__name__ not in _CLASS_NAMES:
        raise TypeError(f"Loss {loss.name!r} is a custom function and cannot be written to a file; "
                        "pass it again to compile() after loading.")
    config = loss.get_config()
    return {"class_name": type(loss).__name__, "config": config}
