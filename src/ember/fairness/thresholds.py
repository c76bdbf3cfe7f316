"""Post-processing mitigation: one decision threshold per group, chosen on held-out scores so that
the groups have equal selection rates (demographic parity) or equal true-positive rates (equal
opportunity) at the best accuracy those constraints allow. Fairlearn's ThresholdOptimizer does
the same with randomised thresholds; these are deterministic, so the rates match up to ties and
sampling.

    >>> thresholds = GroupThresholds("demographic_parity").fit(scores_val, y_val, sex_val)
    >>> y_pred = thresholds.predict(scores_test, sex_test)
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONSTRAINTS = ("demographic_parity", "equal_opportunity")


class GroupThresholds:
    """Per-group thresholds on scores `(samples,)` (e.g. predicted probabilities).

    Args:
        constraint: "demographic_parity" (equal share predicted positive) or "equal_opportunity"
            (equal true-positive rate).
        grid_size: how many target rates in [0, 1] are tried.
    Attributes (after `fit`): `thresholds_` `{group: threshold}` (predict 1 when score >= it),
        `rate_` the common target rate chosen.
    """

    def __init__(self, constraint: str = "demographic_parity", grid_size: int = 1001) -> None:
        if constraint not in CONSTRAINTS:
            raise ValueError(f"GroupThresholds: constraint must be one of {list(CONSTRAINTS)}; got {constraint!r}. "
                             "(Equalized odds needs randomised thresholds, which this class does not offer.)")
        if not isinstance(grid_size, int) or grid_size < 2:
            raise ValueError(f"GroupThresholds: grid_size must be an int >= 2; got {grid_size!r}.")
        self.constraint, self.grid_size = constraint, grid_size
        self.thresholds_: dict[Any, float] = {}
        self.rate_ = float("nan")

    def fit(self, scores: Any, y: Any, sensitive_features: Any) -> "GroupThresholds":
        scores, labels, groups = _checked(scores, y, sensitive_features)
        rates = np.linspace(0.0, 1.0, self.grid_size)
        correct = np.zeros(self.grid_size)
        candidates = {}
        for group in sorted(set(groups.tolist()), key=str):
            in_group = groups == group
            thresholds = self._thresholds_at(scores[in_group], labels[in_group], rates, group)
            candidates[group] = thresholds
            predicted = scores[in_group][None, :] >= thresholds[:, None]
            correct += (predicted == (labels[in_group] == 1)[None, :]).sum(axis=1)
        best = int(np.argmax(correct))
        self.rate_ = float(rates[best])
        self.thresholds_ = {group: float(values[best]) for group, values in candidates.items()}
        return self

    def _thresholds_at(self, scores: np.ndarray, labels: np.ndarray, rates: np.ndarray, group: Any) -> np.ndarray:
        """The threshold giving each target rate within one group: a quantile of all its scores
        (selection rate) or of its positives' scores (true-positive rate)."""
        pool = scores if self.constraint == "demographic_parity" else scores[labels == 1]
        if not len(pool):
            raise ValueError(f"GroupThresholds({self.constraint!r}): group {group!r} has no positive samples; "
                             "its true-positive rate is undefined.")
        ordered = np.sort(pool)[::-1]  # highest first: selecting k samples means threshold ordered[k-1]
        counts = np.rint(rates * len(ordered)).astype(int)
        return np.where(counts == 0, np.inf, ordered[np.clip(counts - 1, 0, len(ordered) - 1)])

    def predict(self, scores: Any, sensitive_features: Any) -> np.ndarray:
        """0/1 predictions `(samples,)`: each score against its group's threshold."""
        if not self.thresholds_:
            raise RuntimeError("GroupThresholds.predict: call fit(scores, y, sensitive_features) first.")
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        groups = np.asarray(sensitive_features).reshape(-1)
        if len(groups) != len(scores):
            raise ValueError(f"sensitive_features needs one value per score: {len(scores)} scores, got "
                             f"{len(groups)} values.")
        unknown = sorted(set(groups.tolist()) - set(self.thresholds_), key=str)
        if unknown:
            raise ValueError(f"Group(s) {unknown} were not seen by fit (known: {list(self.thresholds_)}).")
        limits = np.array([self.thresholds_[group] for group in groups.tolist()])
        return (scores >= limits).astype(np.int64)


def _checked(scores: Any, y: Any, sensitive_features: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels, groups = np.asarray(y).reshape(-1), np.asarray(sensitive_features).reshape(-1)
    if not len(scores) == len(labels) == len(groups):
        raise ValueError(f"scores, y and sensitive_features need one value per sample; got lengths {len(scores)}, "
                         f"{len(labels)} and {len(groups)}.")
    return scores, labels, groups
