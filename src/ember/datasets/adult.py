"""UCI Adult census income (Becker & Kohavi 1996), for fairness work: the canonical `adult.data`
(32,561 rows) and `adult.test` (16,281 rows) from the cache, `EMBER_DATA_DIR/tabular`, or the UCI
mirror (checked by sha256).

`load_data()` returns `(x_train, y_train, sensitive_train), (x_test, y_test, sensitive_test)`:
float32 features (the 6 numeric columns, then one-hot columns of the 8 categorical ones, categories
taken from the training file; `feature_names()` names them), int64 labels (1: income >50K), and
the sensitive attributes as a dict of string arrays (`"sex"`, `"race"`), which are also among the
features. Missing values ("?") are a category of their own.
"""

from __future__ import annotations

import csv

import numpy as np

from ember.datasets._files import locate

BASE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
FILES = {"adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
         "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"}
COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
           "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country"]
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = [c for c in COLUMNS if c not in NUMERIC]
SENSITIVE = ("sex", "race")


def _rows(name: str) -> list[list[str]]:
    path = locate("tabular", name, [BASE_URL + name], FILES[name])
    with open(path, newline="") as file:
        rows = [[value.strip() for value in row] for row in csv.reader(file)]
    return [row for row in rows if len(row) == len(COLUMNS) + 1]  # drops adult.test's "|1x3" line and blanks


def _categories(rows: list[list[str]]) -> dict[str, list[str]]:
    return {column: sorted({row[COLUMNS.index(column)] for row in rows}) for column in CATEGORICAL}


def _encode(rows: list[list[str]], categories: dict[str, list[str]]) -> tuple:
    numeric = np.array([[float(row[COLUMNS.index(c)]) for c in NUMERIC] for row in rows], dtype=np.float32)
    blocks = [numeric]
    for column in CATEGORICAL:
        index = {value: i for i, value in enumerate(categories[column])}
        one_hot = np.zeros((len(rows), len(index)), dtype=np.float32)
        for r, row in enumerate(rows):
            position = index.get(row[COLUMNS.index(column)])
            if position is not None:  # a category the training file lacks stays all zeros
                one_hot[r, position] = 1.0
        blocks.append(one_hot)
    labels = np.array([1 if row[-1].rstrip(".") == ">50K" else 0 for row in rows], dtype=np.int64)
    sensitive = {column: np.array([row[COLUMNS.index(column)] for row in rows]) for column in SENSITIVE}
    return np.concatenate(blocks, axis=1), labels, sensitive


def load_data() -> tuple[tuple, tuple]:
    """`(x_train, y_train, sensitive_train), (x_test, y_test, sensitive_test)`; see the module docstring."""
    train, test = _rows("adult.data"), _rows("adult.test")
    categories = _categories(train)
    return _encode(train, categories), _encode(test, categories)


def feature_names() -> list[str]:
    """The names of `load_data`'s feature columns: numeric ones, then "column=category"."""
    categories = _categories(_rows("adult.data"))
    return NUMERIC + [f"{column}={value}" for column in CATEGORICAL for value in categories[column]]
