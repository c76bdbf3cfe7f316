"""Hyperparameter search on Optuna: `GridSearch`, `RandomSearch`, `BayesianSearch`, `Hyperband`.

    def build_model(hp):
        model = ember.Sequential([layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"), ...])
        model.compile(ember.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")), ...)
        return model

    search = ember.tune.RandomSearch(build_model, objective="val_accuracy", max_trials=10, seed=0)
    search.search(x, y, epochs=5, validation_split=0.2)
    search.results_summary()
    best_model = search.get_best_models(1)[0]
"""

from ember.tune.hyperparameters import HyperParameters, SearchSpaceError
from ember.tune.search import BayesianSearch, GridSearch, Hyperband, PruningCallback, RandomSearch, Search

__all__ = ["HyperParameters", "SearchSpaceError", "Search", "GridSearch", "RandomSearch", "BayesianSearch",
           "Hyperband", "PruningCallback"]
