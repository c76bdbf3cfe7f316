"""MovieLens 100K (GroupLens; Harper & Konstan 2015): 100,000 ratings (1-5) by 943 users of 1,682
movies, from the canonical `ml-100k.zip` in `EMBER_DATA_DIR/movielens`, the cache, or GroupLens's
site (checked against the MD5 GroupLens publishes beside the file).

MovieLens's terms forbid redistributing it, so ember ships no copy: download `ml-100k.zip` from
https://grouplens.org/datasets/movielens/100k/ into `~/.ember/datasets/movielens/` (or let
`load_data` fetch it when online).

`load_data("100k")` returns `(x_train, y_train), (x_test, y_test)`: `x` as `(n, 2)` int64
[user, item] ids counted from 0 (the file's ids minus 1) and `y` float32 ratings; `fold=1..5`
takes the canonical `u{fold}.base` / `u{fold}.test` split (each rating is in exactly one test
fold), `fold=None` all ratings as training data with an empty test set. `movie_titles()` names
the items; `NUM_USERS`, `NUM_ITEMS` size the embeddings.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from ember.datasets._files import locate

URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ARCHIVE = "ml-100k.zip"
ARCHIVE_MD5 = "md5:0e33842e24a9c977be4e0107933c0723"  # GroupLens's ml-100k.zip.md5
NUM_USERS, NUM_ITEMS = 943, 1682


def _archive() -> zipfile.ZipFile:
    return zipfile.ZipFile(locate("movielens", ARCHIVE, [URL], ARCHIVE_MD5))


def _ratings(archive: zipfile.ZipFile, member: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(pairs (n, 2) int64 from 0, ratings (n,) float32, timestamps (n,) int64)` of a u.data-format file."""
    table = np.loadtxt(io.BytesIO(archive.read(f"ml-100k/{member}")), dtype=np.int64, delimiter="\t", ndmin=2)
    if table.shape[1] != 4:
        raise ValueError(f"ml-100k/{member}: expected 4 tab-separated columns (user, item, rating, timestamp); "
                         f"got {table.shape[1]}.")
    return table[:, :2] - 1, table[:, 2].astype(np.float32), table[:, 3]


def load_data(variant: str = "100k", fold: int | None = 1, return_timestamps: bool = False) -> tuple:
    """`(x_train, y_train), (x_test, y_test)` (and timestamps after each with
    `return_timestamps=True`); see the module docstring."""
    if variant != "100k":
        raise ValueError(f"Only MovieLens '100k' is supported; got {variant!r}.")
    if fold is not None and fold not in (1, 2, 3, 4, 5):
        raise ValueError(f"fold must be 1-5 (the canonical u1-u5 splits) or None (all ratings); got {fold!r}.")
    with _archive() as archive:
        if fold is None:
            train = _ratings(archive, "u.data")
            test = (np.zeros((0, 2), np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64))
        else:
            train, test = _ratings(archive, f"u{fold}.base"), _ratings(archive, f"u{fold}.test")
    keep = 3 if return_timestamps else 2
    return train[:keep], test[:keep]


def movie_titles() -> list[str]:
    """The 1,682 movie titles, indexed by item id (from 0)."""
    with _archive() as archive:
        lines = archive.read("ml-100k/u.item").decode("latin-1").splitlines()
    return [line.split("|")[1] for line in lines if line]
