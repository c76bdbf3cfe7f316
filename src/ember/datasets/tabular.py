"""Small tabular datasets from the UCI repository, as headerless CSV with the label last:
Pima Indians diabetes (768 x 8), Sonar (208 x 60), Ionosphere (351 x 34)."""

from __future__ import annotations

import csv

import numpy as np

from ember.datasets._files import locate

BASE_URL = "https://raw.githubusercontent.com/jbrownlee/Datasets/master/"
FILES = {
    "pima-indians-diabetes": "6bfe5d0f379d17a0e0819b996407e3c09bf80febd4287f2ed212190dfff154af",
    "sonar": "3079c09b5d2789a0f96aff82c28e5164fafe2495c5f8da96c6c256c1bd25763f",
    "ionosphere": "fd6dd7864b55d56dac0a1e6e24af9ccc35bf2555ac79af8ab9f3d1daa065ab83",
}


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """`(features, labels)`: float32 features (n, d) and int64 labels (n,); text labels map to 0, 1, ...
    in sorted order ("M"/"R" for sonar, "b"/"g" for ionosphere)."""
    if name not in FILES:
        raise ValueError(f"Unknown tabular dataset {name!r}; choose one of {sorted(FILES)}.")
    path = locate("tabular", f"{name}.csv", [f"{BASE_URL}{name}.csv"], FILES[name])
    with open(path, newline="") as file:
        rows = [row for row in csv.reader(file) if row]
    features = np.array([[float(v) for v in row[:-1]] for row in rows], dtype=np.float32)
    raw_labels = [row[-1].strip() for row in rows]
    try:
        labels = np.array([int(float(v)) for v in raw_labels], dtype=np.int64)
    except ValueError:  # text labels
        classes = sorted(set(raw_labels))
        labels = np.array([classes.index(v) for v in raw_labels], dtype=np.int64)
    return features, labels


def split(features: np.ndarray, labels: np.ndarray, test_split: float = 0.2, seed: int = 0) -> tuple:
    """A stratified train/test split: `(x_train, y_train), (x_test, y_test)`."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(features, labels, test_size=test_split,
                                                        random_state=seed, stratify=labels)
    return (x_train, y_train), (x_test, y_test)
