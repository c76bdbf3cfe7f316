"""Few-shot episodes: `n_way` classes drawn at random, `k_shot` labelled support samples and
`num_queries` query samples of each, never the same sample twice in one episode.

An `EpisodeSampler` is a batch sequence for `fit`/`evaluate` (Keras's `PyDataset` style): item
`i` is one episode `((support_x, support_onehot, query_x), query_y)` with
`support_x (n_way * k_shot, ...)`, `support_onehot (n_way * k_shot, n_way)` float32,
`query_x (n_way * num_queries, ...)` and `query_y (n_way * num_queries,)` int64 in [0, n_way).
Episode `i` depends only on `(seed, i)`, so an evaluation set of episodes is fixed by its seed.

    >>> episodes = EpisodeSampler(x, y, n_way=5, k_shot=1, num_queries=15, num_episodes=600, seed=0)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


class EpisodeSampler:
    """Episodes from `(x, y)` arrays; see the module docstring.

    Args:
        x: samples `(N, ...)`; y: their integer classes `(N,)`.
        n_way, k_shot, num_queries: classes per episode, support and query samples per class.
        num_episodes: episodes per pass (the `len()` that `fit` takes as steps per epoch).
        seed: fixes every episode; None draws new ones on every pass.
    """

    def __init__(self, x: Any, y: Any, n_way: int = 5, k_shot: int = 1, num_queries: int = 15,
                 num_episodes: int = 100, seed: int | None = None) -> None:
        self.x, self.y = np.asarray(x), np.asarray(y).reshape(-1)
        if len(self.x) != len(self.y):
            raise ValueError(f"x and y must have one label per sample: {len(self.x)} samples, {len(self.y)} labels.")
        for name, value in (("n_way", n_way), ("k_shot", k_shot), ("num_queries", num_queries),
                            ("num_episodes", num_episodes)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        self.n_way, self.k_shot, self.num_queries = int(n_way), int(k_shot), int(num_queries)
        self.num_episodes, self.seed = int(num_episodes), seed
        self.classes = np.unique(self.y)
        if len(self.classes) < n_way:
            raise ValueError(f"n_way={n_way} needs at least {n_way} classes; the data has {len(self.classes)}.")
        self.members = {c: np.flatnonzero(self.y == c) for c in self.classes.tolist()}
        needed = self.k_shot + self.num_queries
        short = [(c, len(rows)) for c, rows in self.members.items() if len(rows) < needed]
        if short:
            c, count = short[0]
            raise ValueError(f"k_shot + num_queries = {needed} samples per class, but class {c} has only {count}"
                             f"{f' (and {len(short) - 1} more classes too few)' if len(short) > 1 else ''}. "
                             "Lower k_shot or num_queries, or drop the small classes.")
        self._fresh = np.random.default_rng()

    def __len__(self) -> int:
        return self.num_episodes

    def indices(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(classes (n_way,), support rows (n_way, k_shot), query rows (n_way, num_queries))` of episode `index`."""
        rng = np.random.default_rng([self.seed, index]) if self.seed is not None else self._fresh
        classes = rng.choice(self.classes, self.n_way, replace=False)
        drawn = np.stack([rng.choice(self.members[int(c)], self.k_shot + self.num_queries, replace=False)
                          for c in classes])
        return classes, drawn[:, :self.k_shot], drawn[:, self.k_shot:]

    def __getitem__(self, index: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
        if not 0 <= index < self.num_episodes:
            raise IndexError(f"episode {index} of {self.num_episodes}")
        _, support, query = self.indices(index)
        support_labels = np.repeat(np.arange(self.n_way), self.k_shot)
        onehot = np.eye(self.n_way, dtype=np.float32)[support_labels]
        query_labels = np.repeat(np.arange(self.n_way), self.num_queries).astype(np.int64)
        return (self.x[support.reshape(-1)], onehot, self.x[query.reshape(-1)]), query_labels

    @classmethod
    def from_folder(cls, path: str | os.PathLike, image_size: tuple[int, int] | None = None,
                    color_mode: str = "grayscale", **options: Any) -> "EpisodeSampler":
        """Episodes from a folder (or .tar/.tar.gz) of class folders of images, scaled to [0, 1]."""
        from ember.data.image import image_folder

        images, labels, _ = image_folder(path, image_size=image_size, color_mode=color_mode)
        return cls(images.astype(np.float32) / 255.0, labels, **options)


def mean_and_confidence(values: Any) -> tuple[float, float]:
    """The mean of per-episode values and the half-width of its 95% confidence interval
    (1.96 standard errors), as the few-shot papers report them."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float(values.mean()) if len(values) else float("nan"), float("nan")
    return float(values.mean()), float(1.96 * values.std(ddof=1) / np.sqrt(len(values)))
