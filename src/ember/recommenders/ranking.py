"""Implicit-feedback ranking: leave-one-out splits, negative sampling, and the NCF protocol's
hit rate and nDCG at k (each held-out item ranked against sampled items the user never touched).

    >>> train, test = leave_one_out(pairs, timestamps)
    >>> x, y = with_negatives(train, num_items, negatives_per_positive=4, seed=0)
    >>> model.fit(x, y, epochs=10)
    >>> evaluate_ranking(model, test, known=pairs, num_negatives=99, k=10)
    {'hit_rate@10': 0.67, 'ndcg@10': 0.40}
"""

from __future__ import annotations

from typing import Any

import numpy as np


def hit_rate_at_k(ranks: Any, k: int = 10) -> float:
    """The share of held-out items ranked in the top `k` (`ranks` 0-based: 0 is first)."""
    ranks = np.asarray(ranks)
    return float(np.mean(ranks < k)) if len(ranks) else 0.0


def ndcg_at_k(ranks: Any, k: int = 10) -> float:
    """Normalized discounted cumulative gain with one relevant item each: `1 / log2(rank + 2)`
    inside the top `k`, 0 outside, averaged."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if not len(ranks):
        return 0.0
    return float(np.mean(np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)))


def leave_one_out(pairs: Any, timestamps: Any = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`(train, test)`: each user's latest interaction (by `timestamps`, else a random one) is the
    test pair; users with a single interaction stay in training only. Both `(n, 2)` int64."""
    pairs = _pairs(pairs, "pairs")
    order = np.random.default_rng(seed).permutation(len(pairs))
    if timestamps is not None:
        timestamps = np.asarray(timestamps)
        if len(timestamps) != len(pairs):
            raise ValueError(f"timestamps must have one value per pair: {len(pairs)} pairs, {len(timestamps)} times.")
        order = order[np.argsort(timestamps[order], kind="stable")]
    last = {}
    counts = np.bincount(pairs[:, 0])
    for index in order:  # the latest (or the last of a random order) wins
        last[int(pairs[index, 0])] = index
    held_out = np.array(sorted(index for user, index in last.items() if counts[user] > 1), dtype=np.int64)
    keep = np.ones(len(pairs), dtype=bool)
    keep[held_out] = False
    return pairs[keep], pairs[held_out]


def with_negatives(positives: Any, num_items: int, negatives_per_positive: int = 4,
                   known: Any = None, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Training data for implicit feedback: every positive pair (label 1) and, per positive,
    `negatives_per_positive` items of the same user drawn from those it never touched (label 0).
    `known`: all pairs to treat as touched (the positives by default). Returns `(x (n, 2), y (n, 1))`."""
    positives = _pairs(positives, "positives")
    touched = _touched(positives if known is None else _pairs(known, "known"))
    rng = np.random.default_rng(seed)
    users = np.repeat(positives[:, 0], negatives_per_positive)
    items = _draw_untouched(users, num_items, touched, rng)
    x = np.concatenate([positives, np.stack([users, items], axis=1)])
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(users))]).astype(np.float32)[:, None]
    return x, y


def evaluate_ranking(model: Any, test: Any, known: Any, num_negatives: int = 99, k: int = 10,
                     seed: int = 0) -> dict[str, float]:
    """The NCF protocol: each test pair's item is scored with `num_negatives` items its user never
    touched (`known`: every pair of the data, train and test); its rank among them gives
    `hit_rate@k` and `ndcg@k`. Ties count against the held-out item (a constant model scores 0)."""
    test = _pairs(test, "test")
    touched = _touched(_pairs(known, "known"))
    rng = np.random.default_rng(seed)
    users = np.repeat(test[:, 0], num_negatives)
    negatives = _draw_untouched(users, model.num_items, touched, rng).reshape(len(test), num_negatives)
    candidates = np.concatenate([test[:, 1:], negatives], axis=1)  # (tests, 1 + num_negatives)
    scores = model.score(np.repeat(test[:, 0], 1 + num_negatives), candidates.reshape(-1))
    scores = scores.reshape(len(test), 1 + num_negatives)
    ranks = (scores[:, 1:] >= scores[:, :1]).sum(axis=1)
    return {f"hit_rate@{k}": hit_rate_at_k(ranks, k), f"ndcg@{k}": ndcg_at_k(ranks, k)}


def _pairs(values: Any, argument: str) -> np.ndarray:
    pairs = np.asarray(values)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{argument} must be (n, 2) [user, item] ids; got shape {pairs.shape}.")
    return pairs.astype(np.int64)


def _touched(pairs: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, pairs.tolist()))


def _draw_untouched(users: np.ndarray, num_items: int, touched: set, rng: np.random.Generator) -> np.ndarray:
    """An item per entry of `users` that the user never touched, uniformly (redrawn until so)."""
    items = rng.integers(0, num_items, len(users))
    clash = np.array([(u, i) in touched for u, i in zip(users.tolist(), items.tolist())], dtype=bool)
    for attempt in range(1000):
        if not clash.any():
            return items
        items[clash] = rng.integers(0, num_items, int(clash.sum()))
        clash[clash] = [(u, i) in touched for u, i in zip(users[clash].tolist(), items[clash].tolist())]
    raise ValueError("Could not draw items the users never touched: some users touched (nearly) every item.")
