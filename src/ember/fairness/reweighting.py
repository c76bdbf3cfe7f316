"""Reweighing (Kamiran & Calders 2012): sample weights that make the label independent of the
sensitive feature in the weighted training set, for `fit(..., sample_weight=...)`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.fairness.metrics import group_indices


def reweighing_weights(y: Any, sensitive_features: Any) -> np.ndarray:
    """Weights `(samples,)`: `P(group) * P(label) / P(group, label)` for each sample's cell.

    Under these weights every group has the overall share of each label, and the total weight
    equals the number of samples. `y`: class labels `(samples,)`; one sensitive value per sample.
    """
    labels = np.asarray(y).reshape(-1)
    groups, _ = group_indices(sensitive_features, len(labels))
    weights = np.empty(len(labels), dtype=np.float32)
    for group in np.unique(groups):
        in_group = groups == group
        for label in np.unique(labels):
            cell = in_group & (labels == label)
            if cell.any():
                weights[cell] = in_group.mean() * (labels == label).mean() / cell.mean()
    return weights
