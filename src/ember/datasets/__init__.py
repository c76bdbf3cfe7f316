"""Datasets read from canonical files (`EMBER_DATA_DIR`, the cache, or a checked download)."""

from ember.datasets import adult, cifar10, digits, fashion_mnist, imdb, mnist, tabular, timeseries
from ember.datasets import movielens, omniglot, pima_indians_diabetes, spoken_digits

__all__ = ["adult", "cifar10", "fashion_mnist", "mnist", "digits", "imdb", "tabular", "timeseries", "pima_indians_diabetes",
           "spoken_digits", "movielens", "omniglot"]
