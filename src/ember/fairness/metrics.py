"""Fairness metrics by group: any metric computed overall and within each group of a sensitive
feature, with the between-group difference and ratio (as Fairlearn's `MetricFrame`), and the
usual group-fairness criteria for binary classifiers.

    >>> groups = GroupMetrics({"accuracy": accuracy, "selection_rate": selection_rate}, y, y_pred, sex)
    >>> groups.by_group["selection_rate"], groups.difference()["selection_rate"]

`demographic_parity_difference`: the largest gap in selection rate (share predicted 1) between
groups; `equalized_odds_difference`: the larger of the gaps in true-positive and false-positive
rate; `equal_opportunity_difference`: the gap in true-positive rate. All take labels and
predictions in {0, 1} and one sensitive value per sample.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]


def group_indices(sensitive_features: Any, length: int) -> tuple[np.ndarray, list[Any]]:
    """Each sample's group as an index into the sorted list of groups; `(indices (samples,), groups)`."""
    sensitive = np.asarray(sensitive_features).reshape(-1)
    if len(sensitive) != length:
        raise ValueError(f"sensitive_features needs one value per sample: {length} samples, got "
                         f"{len(sensitive)} values.")
    groups = sorted(set(sensitive.tolist()), key=str)
    position = {group: i for i, group in enumerate(groups)}
    return np.array([position[value] for value in sensitive.tolist()], dtype=np.int64), groups


def _as_arrays(y_true: Any, y_pred: Any, sensitive_features: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    sensitive = np.asarray(sensitive_features).reshape(-1)
    if not len(y_true) == len(y_pred) == len(sensitive):
        raise ValueError(f"y_true, y_pred and sensitive_features need one value per sample; got lengths "
                         f"{len(y_true)}, {len(y_pred)} and {len(sensitive)}.")
    return y_true, y_pred, sensitive


def selection_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The share of samples predicted positive (1)."""
    return float(np.mean(y_pred == 1)) if len(y_pred) else float("nan")


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred)) if len(y_pred) else float("nan")


def true_positive_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Recall: predicted 1 among the samples labelled 1 (NaN when there are none)."""
    positives = y_true == 1
    return float(np.mean(y_pred[positives] == 1)) if positives.any() else float("nan")


def false_positive_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Predicted 1 among the samples labelled 0 (NaN when there are none)."""
    negatives = y_true == 0
    return float(np.mean(y_pred[negatives] == 1)) if negatives.any() else float("nan")


class GroupMetrics:
    """`metrics` (`{name: metric(y_true, y_pred)}`) overall and per group of `sensitive_features`.

    Args:
        groups: the groups to report (default: those present); a listed group with no sample is
            an error naming it.
    Attributes: `overall` `{name: value}`, `by_group` `{name: {group: value}}`.
    """

    def __init__(self, metrics: dict[str, Metric], y_true: Any, y_pred: Any, sensitive_features: Any,
                 groups: Sequence[Any] | None = None) -> None:
        y_true, y_pred, sensitive = _as_arrays(y_true, y_pred, sensitive_features)
        present = sorted(set(sensitive.tolist()), key=str)
        groups = present if groups is None else list(groups)
        empty = [group for group in groups if not np.any(sensitive == group)]
        if empty:
            raise ValueError(f"Group(s) {empty} have no samples (groups present: {present}); drop them from groups= "
                             "or check the sensitive feature's values.")
        self.groups = groups
        self.overall = {name: metric(y_true, y_pred) for name, metric in metrics.items()}
        self.by_group = {name: {group: metric(y_true[sensitive == group], y_pred[sensitive == group])
                                for group in groups} for name, metric in metrics.items()}

    @classmethod
    def from_values(cls, overall: dict[str, float], by_group: dict[str, dict[Any, float]]) -> "GroupMetrics":
        """Group metrics computed elsewhere (`Model.evaluate(..., sensitive_features=s)` runs the
        compiled metrics on each group's samples)."""
        metrics = cls.__new__(cls)
        metrics.overall, metrics.by_group = dict(overall), {name: dict(v) for name, v in by_group.items()}
        metrics.groups = list(next(iter(by_group.values()), {}).keys())
        return metrics

    def __repr__(self) -> str:
        rows = [f"  {name}: overall {self.overall[name]:.4f}, "
                + ", ".join(f"{group}: {value:.4f}" for group, value in values.items())
                for name, values in self.by_group.items()]
        return "GroupMetrics(\n" + "\n".join(rows) + "\n)"

    def difference(self) -> dict[str, float]:
        """The largest minus the smallest group value of each metric."""
        return {name: float(np.nanmax(list(v.values())) - np.nanmin(list(v.values())))
                for name, v in self.by_group.items()}

    def ratio(self) -> dict[str, float]:
        """The smallest over the largest group value of each metric (1: equal)."""
        ratios = {}
        for name, values in self.by_group.items():
            largest = np.nanmax(list(values.values()))
            ratios[name] = float(np.nanmin(list(values.values())) / largest) if largest else float("nan")
        return ratios


def demographic_parity_difference(y_true: Any, y_pred: Any, sensitive_features: Any) -> float:
    return GroupMetrics({"selection_rate": selection_rate}, y_true, y_pred, sensitive_features).difference()[
        "selection_rate"]


def demographic_parity_ratio(y_true: Any, y_pred: Any, sensitive_features: Any) -> float:
    return GroupMetrics({"selection_rate": selection_rate}, y_true, y_pred, sensitive_features).ratio()[
        "selection_rate"]


def equal_opportunity_difference(y_true: Any, y_pred: Any, sensitive_features: Any) -> float:
    return GroupMetrics({"tpr": true_positive_rate}, y_true, y_pred, sensitive_features).difference()["tpr"]


def equalized_odds_difference(y_true: Any, y_pred: Any, sensitive_features: Any) -> float:
    gaps = GroupMetrics({"tpr": true_positive_rate, "fpr": false_positive_rate}, y_true, y_pred,
                        sensitive_features).difference()
    return max(gaps["tpr"], gaps["fpr"])
