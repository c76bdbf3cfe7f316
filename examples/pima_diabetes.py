"""The tutorials' 8-feature binary classifier on the Pima Indians diabetes data:
Dense(64, relu) -> Dense(32, relu) -> Dense(1, sigmoid), binary cross-entropy.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/pima_diabetes.py
"""

from __future__ import annotations

import ember
from ember import layers


def main(epochs: int = 100, verbose: int | str = 0) -> float:
    ember.utils.set_random_seed(7)
    (x_train, y_train), (x_test, y_test) = ember.datasets.pima_indians_diabetes.load_data(test_split=0.2, seed=7)
    # standardize with the training set's statistics
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-7
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    model = ember.Sequential([
        layers.Dense(64, activation="relu", input_shape=(8,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["accuracy", ember.metrics.Precision(), ember.metrics.Recall(), ember.metrics.AUC()])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=verbose,
              callbacks=[ember.callbacks.EarlyStopping(monitor="val_loss", patience=15,
                                                       restore_best_weights=True)])
    results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print("Pima diabetes test results: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return results["accuracy"]


if __name__ == "__main__":
    main()
