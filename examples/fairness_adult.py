"""Bias detection and mitigation on UCI Adult (income > 50K), by sex: a Dense classifier's
accuracy, demographic parity difference (DPD) and equalized odds difference (EOD) before and
after each of ember's mitigations, in one table:

- reweighing (Kamiran & Calders): sample weights making label and sex independent;
- a fairness penalty: the batch's gap in mean predicted probability between groups, added to the loss;
- group thresholds: per-sex decision thresholds chosen on a validation split for equal selection rates.

With Fairlearn installed (`pip install fairlearn`), each row's DPD/EOD is checked against
Fairlearn's own functions on the same predictions.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/fairness_adult.py [--epochs 5]
"""

from __future__ import annotations

import argparse

import numpy as np

import ember
from ember import fairness, layers
from ember.datasets import adult


def classifier(features: int, loss: object = "binary_crossentropy", metrics: object = ("accuracy",)) -> ember.Model:
    model = ember.Sequential([layers.Input((features,)), layers.Dense(64, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=ember.optimizers.Adam(1e-3), loss=loss, metrics=list(metrics))
    return model


def standardized(x_train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    return [(x - mean) / std for x in (x_train, *others)]


def row(name: str, y: np.ndarray, y_pred: np.ndarray, sex: np.ndarray) -> dict:
    return {"method": name, "accuracy": float(np.mean(y == y_pred)),
            "dpd": fairness.demographic_parity_difference(y, y_pred, sex),
            "eod": fairness.equalized_odds_difference(y, y_pred, sex),
            "selection": fairness.GroupMetrics({"s": fairness.selection_rate}, y, y_pred, sex).by_group["s"],
            "predictions": y_pred}


def fairlearn_check(rows: list[dict], y: np.ndarray, sex: np.ndarray) -> str:
    try:
        from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    except ImportError:
        return "(Fairlearn not installed: pip install fairlearn to check these values against it)"
    gaps = [max(abs(r["dpd"] - demographic_parity_difference(y, r["predictions"], sensitive_features=sex)),
                abs(r["eod"] - equalized_odds_difference(y, r["predictions"], sensitive_features=sex)))
            for r in rows]
    return f"largest |ember - Fairlearn| over the table's DPD and EOD values: {max(gaps):.2e}"


def main(epochs: int = 5, seed: int = 0) -> list[dict]:
    ember.utils.set_random_seed(seed)
    (x_train, y_train, s_train), (x_test, y_test, s_test) = adult.load_data()
    x_train, x_test = standardized(x_train, x_test)
    sex_train, sex_test = s_train["sex"], s_test["sex"]
    validation = np.random.default_rng(seed).random(len(y_train)) < 0.2  # for the group thresholds
    fit = dict(epochs=epochs, batch_size=256, verbose=0)
    rows = []

    baseline = classifier(x_train.shape[1])
    baseline.fit(x_train[~validation], y_train[~validation], **fit)
    scores_test = baseline.predict(x_test, verbose=0).reshape(-1)
    rows.append(row("baseline", y_test, (scores_test >= 0.5).astype(int), sex_test))

    weights = fairness.reweighing_weights(y_train[~validation], sex_train[~validation])
    reweighed = classifier(x_train.shape[1])
    reweighed.fit(x_train[~validation], y_train[~validation], sample_weight=weights, **fit)
    rows.append(row("reweighing", y_test, fairness.predicted_labels(reweighed.predict(x_test, verbose=0)), sex_test))

    penalized = classifier(x_train.shape[1], loss=fairness.FairnessPenalty(strength=2.0),
                           metrics=[fairness.LabelsOnly("binary_accuracy")])
    penalized.fit(x_train[~validation], fairness.pack_targets(y_train[~validation], sex_train[~validation]), **fit)
    rows.append(row("fairness penalty (DP, 2.0)", y_test,
                    fairness.predicted_labels(penalized.predict(x_test, verbose=0)), sex_test))

    scores_validation = baseline.predict(x_train[validation], verbose=0).reshape(-1)
    thresholds = fairness.GroupThresholds("demographic_parity").fit(scores_validation, y_train[validation],
                                                                    sex_train[validation])
    rows.append(row("group thresholds (DP)", y_test, thresholds.predict(scores_test, sex_test), sex_test))

    print(f"UCI Adult test set ({len(y_test)} people), sensitive feature: sex; {epochs} epochs, seed {seed}")
    print(f"{'method':28s} {'accuracy':>8s} {'DPD':>7s} {'EOD':>7s}   selection rate by sex")
    for r in rows:
        selection = ", ".join(f"{group} {rate:.3f}" for group, rate in r["selection"].items())
        print(f"{r['method']:28s} {r['accuracy']:8.4f} {r['dpd']:7.4f} {r['eod']:7.4f}   {selection}")
    print(fairlearn_check(rows, y_test, sex_test))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    main(arguments.epochs, arguments.seed)
