"""Pima Indians diabetes: 768 patients, 8 clinical features, whether diabetes followed (binary)."""

from __future__ import annotations

from ember.datasets import tabular


def load_data(test_split: float = 0.2, seed: int = 0) -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: float32 features (n, 8), int64 labels (n,), stratified split."""
    return tabular.split(*tabular.load("pima-indians-diabetes"), test_split=test_split, seed=seed)
