"""Datasets read from canonical files (`EMBER_DATA_DIR`, the cache, or a checked download)."""

from ember.datasets import digits, imdb, mnist, tabular, timeseries
from ember.datasets import pima_indians_diabetes

__all__ = ["mnist", "digits", "imdb", "tabular", "timeseries", "pima_indians_diabetes"]
