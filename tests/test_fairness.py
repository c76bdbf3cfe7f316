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


def test_metrics_agree_with_fairlearn_on_random_predictions():
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(1)
    y, y_pred = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    group = rng.choice(["x", "y", "z"], 500)
    for ours, theirs in [(fairness.demographic_parity_difference, fairlearn_metrics.demographic_parity_difference),
                         (fairness.demographic_parity_ratio, fairlearn_metrics.demographic_parity_ratio),
                         (fairness.equalized_odds_difference, fairlearn_metrics.equalized_odds_difference)]:
        assert ours(y, y_pred, group) == pytest.approx(theirs(y, y_pred, sensitive_features=group), abs=1e-12)
    frame = fairlearn_metrics.MetricFrame(metrics={"tpr": fairlearn_metrics.true_positive_rate}, y_true=y,
                                          y_pred=y_pred, sensitive_features=group)
    ours = fairness.GroupMetrics({"tpr": fairness.true_positive_rate}, y, y_pred, group)
    assert ours.by_group["tpr"] == pytest.approx(frame.by_group["tpr"].to_dict(), abs=1e-12)


def test_reweighing_makes_labels_independent_of_the_group():
    weights = fairness.reweighing_weights(Y_TRUE, GROUP)
    # group a: P(a)=0.4, P(y=1)=0.5, P(a, 1)=0.2 -> 1.0; group b: P(b, 1)=0.3 -> 0.6*0.5/0.3 = 1.0 as well,
    # so take a skewed table: b's labels 1 1 1 1 1 0
    y = np.array([1, 1, 0, 0, 1, 1, 1, 1, 1, 0])
    weights = fairness.reweighing_weights(y, GROUP)
    assert weights[0] == pytest.approx(0.4 * 0.7 / 0.2) and weights[4] == pytest.approx(0.6 * 0.7 / 0.5)
    assert weights.sum() == pytest.approx(len(y))
    for group in "ab":
        members = GROUP == group
        assert np.sum(weights[members] * y[members]) / np.sum(weights[members]) == pytest.approx(0.7)


def test_group_gap_and_the_penalty_targets():
    import torch
    probability = torch.tensor([0.9, 0.8, 0.2, 0.1, 0.5], requires_grad=True)
    groups = torch.tensor([0, 0, 1, 1, 2])
    assert fairness.group_gap(probability, groups, 3).item() == pytest.approx(0.85 - 0.15)
    among = torch.tensor([1, 0, 1, 0, 0])
    assert fairness.group_gap(probability, groups, 3, among=among).item() == pytest.approx(0.9 - 0.2)
    assert fairness.group_gap(probability, torch.zeros(5, dtype=torch.long), 3).item() == 0.0
    fairness.group_gap(probability, groups, 3).backward()
    assert probability.grad.abs().sum() > 0
    packed = fairness.pack_targets(Y_TRUE, GROUP)
    assert packed.shape == (10, 2) and packed[:4, 1].tolist() == [0] * 4 and packed[4:, 1].tolist() == [1] * 6
    penalty = fairness.FairnessPenalty("binary_crossentropy", strength=3.0)
    y_pred = torch.full((10, 1), 0.5)
    assert penalty(torch.tensor(packed), y_pred).item() == pytest.approx(np.log(2), rel=1e-5)
    with pytest.raises(ValueError, match=r"targets \(samples, 2\).*pack_targets"):
        penalty.validate_targets(torch.tensor(Y_TRUE), (None, 1))
    with pytest.raises(ValueError, match="strength must be >= 0"):
        fairness.FairnessPenalty(strength=-1.0)


def _biased_problem(samples=2000, seed=0):
    """A feature that tracks the group, and labels that follow it: an unconstrained model selects
    group 1 far more often."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, samples)
    x = np.stack([rng.normal(group * 1.5, 1.0), rng.normal(0, 1, samples)], axis=1).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, samples) > 0.75).astype(np.int64)
    return x, y, group


def _fitted(loss, y, x, **fit):
    import ember
    model = ember.Sequential([ember.layers.Input((2,)), ember.layers.Dense(1, activation="sigmoid")])
    model.compile(ember.optimizers.Adam(0.05), loss=loss)
    model.fit(x, y, epochs=8, batch_size=200, verbose=0, **fit)
    return fairness.predicted_labels(model.predict(x, verbose=0))


def test_each_mitigation_narrows_the_selection_gap():
    x, y, group = _biased_problem()
    plain = fairness.demographic_parity_difference(y, _fitted("binary_crossentropy", y, x), group)
    penalized = _fitted(fairness.FairnessPenalty(strength=5.0), fairness.pack_targets(y, group), x)
    reweighed = _fitted("binary_crossentropy", y, x, sample_weight=fairness.reweighing_weights(y, group))
    assert plain > 0.4
    assert fairness.demographic_parity_difference(y, penalized, group) < plain / 2
    assert fairness.demographic_parity_difference(y, reweighed, group) < plain


def test_group_thresholds_equalize_selection_and_true_positive_rates():
    x, y, group = _biased_problem(4000)
    scores = x[:, 0] + 0.5 * x[:, 1]
    parity = fairness.GroupThresholds("demographic_parity").fit(scores, y, group)
    y_pred = parity.predict(scores, group)
    assert fairness.demographic_parity_difference(y, y_pred, group) < 0.01
    assert set(parity.thresholds_) == {0, 1} and 0 < parity.rate_ < 1
    opportunity = fairness.GroupThresholds("equal_opportunity").fit(scores, y, group)
    assert fairness.equal_opportunity_difference(y, opportunity.predict(scores, group), group) < 0.01
    # the best accuracy under the constraint is at least that of any single shared rate on the grid
    assert np.mean(y_pred == y) >= 0.7
    with pytest.raises(ValueError, match=r"Group\(s\) \[7\] were not seen by fit"):
        parity.predict(scores[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="must be one of"):
        fairness.GroupThresholds("equalized_odds")


def test_monitor_logs_criteria_and_evaluate_reports_groups():
    import ember
    x, y, group = _biased_problem(600)
    model = ember.Sequential([ember.layers.Input((2,)), ember.layers.Dense(1, activation="sigmoid")])
    model.compile(ember.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[fairness.FairnessMonitor(x, y, group)])
    assert len(history.history["val_demographic_parity_difference"]) == 2
    y_pred = fairness.predicted_labels(model.predict(x, verbose=0))
    assert history.history["val_equalized_odds_difference"][-1] == pytest.approx(
        fairness.equalized_odds_difference(y, y_pred, group))
    grouped = model.evaluate(x, y, sensitive_features=np.where(group == 1, "one", "zero"))
    assert grouped.by_group["accuracy"]["one"] == pytest.approx(
        model.evaluate(x[group == 1], y[group == 1], verbose=0, return_dict=True)["accuracy"])
    assert grouped.overall["accuracy"] == pytest.approx(np.mean(y_pred == y))
    assert grouped.difference()["accuracy"] >= 0
    with pytest.raises(ValueError, match="one value per sample: 600 samples, got 3"):
        model.evaluate(x, y, sensitive_features=[0, 1, 0])


def test_a_model_trained_with_the_penalty_saves_and_loads_compiled(tmp_path):
    import ember
    x, y, group = _biased_problem(300)
    model = ember.Sequential([ember.layers.Input((2,)), ember.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", loss=fairness.FairnessPenalty(strength=2.0, constraint="equalized_odds"),
                  metrics=[fairness.LabelsOnly("binary_accuracy")])
    targets = fairness.pack_targets(y, group)
    model.fit(x, targets, epochs=1, verbose=0)
    model.save(tmp_path / "fair.keras")
    loaded = ember.saving.load_model(tmp_path / "fair.keras")
    assert loaded._settings.loss.constraint == "equalized_odds" and loaded._settings.loss.strength == 2.0
    assert loaded.evaluate(x, targets, verbose=0) == pytest.approx(model.evaluate(x, targets, verbose=0))
