"""FairnessMonitor: a callback that logs group-fairness criteria on held-out data every epoch."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.callbacks.base import Callback
from ember.fairness import metrics as fairness_metrics

CRITERIA = {"demographic_parity_difference": fairness_metrics.demographic_parity_difference,
            "equalized_odds_difference": fairness_metrics.equalized_odds_difference,
            "equal_opportunity_difference": fairness_metrics.equal_opportunity_difference,
            "demographic_parity_ratio": fairness_metrics.demographic_parity_ratio}


def predicted_labels(outputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class predictions `(samples,)` from outputs `(samples, 1)` (a probability) or `(samples, classes)`."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (outputs.reshape(-1) >= threshold).astype(np.int64)
    return outputs.argmax(-1)


class FairnessMonitor(Callback):
    """At each epoch end, predicts on `x` and adds each criterion, by `sensitive_features`, to the
    epoch's logs (so History records it), as `prefix + name`.

    Args:
        x, y: held-out inputs and 0/1 labels `(samples,)`.
        sensitive_features: one group value per sample.
        criteria: names from `CRITERIA` (default: demographic parity and equalized odds differences).
        threshold: a probability at or above it is predicted 1.
    """

    def __init__(self, x: Any, y: Any, sensitive_features: Any,
                 criteria: tuple[str, ...] = ("demographic_parity_difference", "equalized_odds_difference"),
                 threshold: float = 0.5, prefix: str = "val_", batch_size: int = 1024) -> None:
        super().__init__()
        unknown = [name for name in criteria if name not in CRITERIA]
        if unknown:
            raise ValueError(f"FairnessMonitor: unknown criteria {unknown}; choose from {list(CRITERIA)}.")
        self.y = np.asarray(y).reshape(-1)
        fairness_metrics.group_indices(sensitive_features, len(self.y))  # checks the length
        self.x, self.sensitive = x, np.asarray(sensitive_features).reshape(-1)
        self.criteria, self.threshold, self.prefix, self.batch_size = tuple(criteria), threshold, prefix, batch_size

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        y_pred = predicted_labels(self.model.predict(self.x, batch_size=self.batch_size, verbose=0), self.threshold)
        for name in self.criteria:
            value = CRITERIA[name](self.y, y_pred, self.sensitive)
            if logs is not None:
                logs[self.prefix + name] = value
