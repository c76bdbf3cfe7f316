"""Datasets read from canonical files (`EMBER_DATA_DIR`, the cache, or a checked download)."""

from ember.datasets import digits, mnist, tabular
from ember.datasets import pima_indians_diabetes

__all__ = ["mnist", "digits", "tabular", "pima_indians_diabetes"]
