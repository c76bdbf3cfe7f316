"""Group fairness metrics on a hand-made table (values computed by hand in the comments)."""

import numpy as np
import pytest

from ember import fairness

# group a: labels 1 1 0 0, predictions 1 0 1 0 -> selection 2/4, TPR 1/2, FPR 1/2, accuracy 2/4
# group b: labels 1 1 1 0 0 0, predictions 1 1 0 0 0 0 -> selection 2/6, TPR 2/3, FPR 0, accuracy 5/6
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 0])
Y_PRED = np.array([1, 0, 1, 0, 1, 1, 0, 0, 0, 0])
GROUP = np.array(["a"] * 4 + ["b"] * 6)


def test_group_metrics_overall_by_group_difference_and_ratio():
    metrics = fairness.GroupMetrics({"accuracy": fairness.accuracy, "selection_rate": fairness.selection_rate},
                                    Y_TRUE, Y_PRED, GROUP)
    assert metrics.overall == pytest.approx({"accuracy": 0.7, "selection_rate": 0.4})
    assert metrics.by_group["accuracy"] == pytest.approx({"a": 0.5, "b": 5 / 6})
    assert metrics.difference()["selection_rate"] == pytest.approx(0.5 - 1 / 3)
    assert metrics.ratio()["selection_rate"] == pytest.approx((1 / 3) / 0.5)


def test_the_group_fairness_criteria():
    assert fairness.demographic_parity_difference(Y_TRUE, Y_PRED, GROUP) == pytest.approx(1 / 6)
    assert fairness.demographic_parity_ratio(Y_TRUE, Y_PRED, GROUP) == pytest.approx(2 / 3)
    assert fairness.equal_opportunity_difference(Y_TRUE, Y_PRED, GROUP) == pytest.approx(2 / 3 - 1 / 2)
    assert fairness.equalized_odds_difference(Y_TRUE, Y_PRED, GROUP) == pytest.approx(0.5)  # FPR gap 1/2 - 0


def test_wrong_lengths_and_empty_groups_are_named():
    with pytest.raises(ValueError, match="got lengths 10, 10 and 9"):
        fairness.demographic_parity_difference(Y_TRUE, Y_PRED, GROUP[:9])
    with pytest.raises(ValueError, match=r"Group\(s\) \['c'\] have no samples \(groups present: \['a', 'b'\]\)"):
        fairness.GroupMetrics({"accuracy": fairness.accuracy}, Y_TRUE, Y_PRED, GROUP, groups=["a", "b", "c"])
