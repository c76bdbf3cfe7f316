"""Fairness: group metrics and criteria, a monitoring callback, and three mitigations.

- Measure: `GroupMetrics`, `demographic_parity_difference`, `equalized_odds_difference`, ...
  (`metrics.py`); `Model.evaluate(x, y, sensitive_features=s)` (`grouped.py`); `FairnessMonitor`.
- Mitigate before training: `reweighing_weights(y, s)` as `fit(sample_weight=...)`.
- Mitigate in training: `FairnessPenalty` with `pack_targets(y, s)`.
- Mitigate after training: `GroupThresholds(constraint).fit(scores, y, s).predict(scores, s)`.
"""

from ember.fairness.grouped import evaluate_by_group
from ember.fairness.metrics import (GroupMetrics, accuracy, demographic_parity_difference, demographic_parity_ratio,
                                    equal_opportunity_difference, equalized_odds_difference, false_positive_rate,
                                    group_indices, selection_rate, true_positive_rate)
from ember.fairness.monitor import CRITERIA, FairnessMonitor, predicted_labels
from ember.fairness.penalty import FairnessPenalty, LabelsOnly, group_gap, pack_targets
from ember.fairness.reweighting import reweighing_weights
from ember.fairness.thresholds import GroupThresholds

__all__ = ["GroupMetrics", "accuracy", "selection_rate", "true_positive_rate", "false_positive_rate",
           "demographic_parity_difference", "demographic_parity_ratio", "equal_opportunity_difference",
           "equalized_odds_difference", "group_indices", "evaluate_by_group", "CRITERIA", "FairnessMonitor",
           "predicted_labels", "FairnessPenalty", "LabelsOnly", "group_gap", "pack_targets", "reweighing_weights",
           "GroupThresholds"]
