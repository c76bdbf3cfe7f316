"""Tuning the tutorials' MNIST MLP (hidden units, dropout, learning rate) three ways:
grid search, random search and Bayesian optimisation (Optuna's TPE), each on the same budget.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/tune_mnist_mlp.py
Each search trains on 12,000 images for 3 epochs per trial, validates on 3,000 others, then the
best model of each search is scored on the 10,000 test images. Studies are SQLite files in
`ember_tuning/`: run it again and the finished searches are loaded, not rerun.
"""

from __future__ import annotations

import ember
from ember import layers, tune


def build_model(hp):
    model = ember.Sequential([
        layers.Dense(hp.Int("units", 64, 256, step=64), activation="relu", input_shape=(784,)),
        layers.Dropout(hp.Float("dropout", 0.0, 0.4, step=0.2)),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=ember.optimizers.Adam(hp.Choice("learning_rate", [3e-4, 1e-3, 3e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(directory: str = "ember_tuning", max_trials: int = 8) -> dict[str, tuple[dict, float]]:
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    train, validation = (x_train[:12000], y_train[:12000]), (x_train[-3000:], y_train[-3000:])

    strategies = {
        "grid": tune.GridSearch(build_model, objective="val_accuracy", max_trials=max_trials,
                                directory=directory, project_name="mnist_grid"),
        "random": tune.RandomSearch(build_model, objective="val_accuracy", max_trials=max_trials, seed=0,
                                    directory=directory, project_name="mnist_random"),
        "bayesian": tune.BayesianSearch(build_model, objective="val_accuracy", max_trials=max_trials, seed=0,
                                        num_initial_points=4, directory=directory, project_name="mnist_bayesian"),
    }
    results = {}
    for name, search in strategies.items():
        search.search(*train, epochs=3, validation_data=validation, batch_size=64)
        best = search.get_best_models(1)[0]
        accuracy = best.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
        results[name] = (search.best_hyperparameters().values, accuracy)
        print(f"{name:>8}: best {search.best_hyperparameters().values} -> test accuracy {accuracy:.4f}")
    return results


if __name__ == "__main__":
    main()
