"""scikit-learn's bundled 8x8 handwritten digits (1,797 images), split 80/20 the same way every time."""

from __future__ import annotations

import numpy as np


def load_data(test_split: float = 0.2, seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray],
                                                                  tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (n, 8, 8) with values 0-16, int64 labels.

    Ships with scikit-learn, so it works offline on any machine.
    """
    from sklearn.datasets import load_digits

    if not 0 < test_split < 1:
        raise ValueError(f"test_split must be in (0, 1); got {test_split}.")
    digits = load_digits()
    images, labels = digits.images.astype(np.uint8), digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = len(labels) - int(round(len(labels) * test_split))
    train, test = order[:cut], order[cut:]
    return (images[train], labels[train]), (images[test], labels[test])
