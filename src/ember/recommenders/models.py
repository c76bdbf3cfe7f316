"""Collaborative-filtering models built from ember layers: biased matrix factorization (Koren
2009, Surprise's SVD) and neural collaborative filtering's GMF, MLP and NeuMF (He et al. 2017).

Every model takes `(batch, 2)` integer ids, the user in column 0 and the item in column 1, and
returns `(batch, 1)` scores: a rating for explicit feedback (loss "mse"), or a logit for
implicit feedback (loss `BinaryCrossentropy(from_logits=True)`, or `final_activation="sigmoid"`).

    >>> model = MatrixFactorization(num_users=943, num_items=1682, embedding_dim=64, l2=0.05,
    ...                             rating_mean=float(ratings.mean()))
    >>> model.compile("adam", loss="mse", metrics=["root_mean_squared_error"])
    >>> model.fit(pairs, ratings, epochs=20, batch_size=256)
    >>> model.recommend(user=0, k=10, exclude=pairs)      # the 10 best items the user has not rated
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ember.layers import Dense, Embedding, Layer
from ember.models.model import Model


class IdPairs(Layer):
    """The entry of a recommender: checks `(batch, 2)` [user, item] ids once when data enters."""

    integer_inputs = True

    def __init__(self, num_users: int, num_items: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_users, self.num_items = num_users, num_items

    def check_input_values(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != 2 or inputs.shape[1] != 2:
            raise ValueError(f"A recommender takes (batch, 2) ids, [user, item] per row; got shape "
                             f"{tuple(inputs.shape)}. Stack them: np.stack([users, items], axis=1).")
        if inputs.is_floating_point() and not torch.equal(inputs, inputs.round()):
            raise ValueError("A recommender takes integer user and item ids; got fractional values.")
        for column, what, count in ((0, "user", self.num_users), (1, "item", self.num_items)):
            ids = inputs[:, column]
            if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= count):
                raise ValueError(f"{what} ids must lie in [0, {count}) (num_{what}s={count}); got ids from "
                                 f"{int(ids.min())} to {int(ids.max())}. Raise num_{what}s to at least "
                                 f"{int(ids.max()) + 1}, or map the raw ids to 0..n-1 first.")

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ids = inputs.long()
        return ids[:, 0], ids[:, 1]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_users": self.num_users, "num_items": self.num_items}


class Recommender(Model):
    """What the collaborative-filtering models share: the id entry, `score` and `recommend`."""

    def __init__(self, num_users: int, num_items: int, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        for what, count in (("num_users", num_users), ("num_items", num_items)):
            if not isinstance(count, int) or count < 1:
                raise ValueError(f"{what} must be a positive integer (the largest id + 1); got {count!r}.")
        self.num_users, self.num_items = num_users, num_items
        self.ids = IdPairs(num_users, num_items)

    def input_float_types(self) -> Any:
        return False

    def entry_layers(self) -> list[tuple[Layer, int]]:
        return [(self.ids, 0)]

    def score(self, users: Any, items: Any, batch_size: int = 8192) -> np.ndarray:
        """Scores `(len(users),)` of each (user, item) pair, in inference mode."""
        pairs = np.stack([np.asarray(users).reshape(-1), np.asarray(items).reshape(-1)], axis=1)
        return self.predict(pairs, batch_size=batch_size, verbose=0).reshape(-1)

    def recommend(self, user: int, k: int = 10, exclude: Any = None) -> np.ndarray:
        """The `k` items with the highest scores for `user`, best first, leaving out the items that
        `exclude` pairs with this user (`(n, 2)` [user, item] ids, e.g. the training pairs)."""
        if not 0 <= int(user) < self.num_users:
            raise ValueError(f"user must be an id in [0, {self.num_users}); got {user!r}.")
        scores = self.score(np.full(self.num_items, int(user)), np.arange(self.num_items))
        if exclude is not None:
            exclude = np.asarray(exclude)
            scores[exclude[exclude[:, 0] == int(user), 1].astype(np.int64)] = -np.inf
        available = int(np.isfinite(scores).sum())
        best = np.argsort(-scores, kind="stable")[:min(k, available)]
        return best

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "num_users": self.num_users, "num_items": self.num_items}


class MatrixFactorization(Recommender):
    """Biased matrix factorization: `rating = mean + b_user + b_item + p_user . q_item`.

    Args:
        num_users, num_items: the number of ids (largest + 1).
        embedding_dim: size of the user and item factors.
        use_bias: learn the user and item biases.
        l2: weight of the penalty `l2 * (|p_u|^2 + |q_i|^2 + b_u^2 + b_i^2)` on each batch's
            rows, averaged over the batch (Surprise's SVD regularizes the same terms per rating).
        rating_mean: the starting global bias (the training ratings' mean for explicit feedback).
    Input: `(batch, 2)` [user, item] ids. Output: `(batch, 1)` scores.
    """

    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 32, use_bias: bool = True,
                 l2: float = 0.0, rating_mean: float = 0.0, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(num_users, num_items, name=name, **kwargs)
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0; got {l2!r}.")
        self.embedding_dim, self.use_bias, self.l2, self.rating_mean = embedding_dim, use_bias, float(l2), float(rating_mean)
        factors = {"embeddings_initializer": "random_normal"}
        self.user_factors = Embedding(num_users, embedding_dim, name="user_factors", **factors)
        self.item_factors = Embedding(num_items, embedding_dim, name="item_factors", **factors)
        if use_bias:
            self.user_bias = Embedding(num_users, 1, embeddings_initializer="zeros", name="user_bias")
            self.item_bias = Embedding(num_items, 1, embeddings_initializer="zeros", name="item_bias")
        self.global_bias = torch.nn.Parameter(torch.tensor([self.rating_mean]))
        build_all(self, {})

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        users, items = self.ids(inputs)
        p, q = self.user_factors(users), self.item_factors(items)  # (batch, embedding_dim)
        scores = (p * q).sum(dim=1, keepdim=True) + self.global_bias
        penalty = p.square().sum(dim=1) + q.square().sum(dim=1)
        if self.use_bias:
            b_user, b_item = self.user_bias(users), self.item_bias(items)  # (batch, 1)
            scores = scores + b_user + b_item
            penalty = penalty + b_user[:, 0].square() + b_item[:, 0].square()
        if self.l2 and self.training:
            self.add_loss(self.l2 * penalty.mean())
        return scores

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "embedding_dim": self.embedding_dim, "use_bias": self.use_bias,
                "l2": self.l2, "rating_mean": self.rating_mean}


class NeuralCollaborativeFiltering(Recommender):
    """NCF (He et al. 2017): GMF (an elementwise product of embeddings), an MLP over their
    concatenation, or NeuMF (both, with separate embeddings, joined before the output).

    Args:
        num_users, num_items: the number of ids (largest + 1).
        variant: "neumf", "gmf" or "mlp".
        embedding_dim: the GMF factors' size; the MLP's embeddings are `mlp_units[0] // 2` each.
        mlp_units: the MLP tower, e.g. (64, 32, 16) (the paper's 3 layers with 8 predictive factors: (32, 16, 8)).
        final_activation: None (logits, with `BinaryCrossentropy(from_logits=True)` or "mse") or "sigmoid".
    Input: `(batch, 2)` [user, item] ids. Output: `(batch, 1)`.
    """

    VARIANTS = ("neumf", "gmf", "mlp")

    def __init__(self, num_users: int, num_items: int, variant: str = "neumf", embedding_dim: int = 8,
                 mlp_units: tuple[int, ...] | list[int] = (64, 32, 16), final_activation: str | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(num_users, num_items, name=name, **kwargs)
        if variant not in self.VARIANTS:
            raise ValueError(f"variant must be one of {list(self.VARIANTS)}; got {variant!r}.")
        if variant != "gmf" and (not mlp_units or mlp_units[0] < 2):
            raise ValueError(f"mlp_units needs at least one layer of 2 or more units; got {mlp_units!r}.")
        self.variant, self.embedding_dim, self.mlp_units = variant, embedding_dim, [int(u) for u in mlp_units]
        self.final_activation = final_activation
        normal = "random_normal"
        if variant in ("gmf", "neumf"):
            self.gmf_user = Embedding(num_users, embedding_dim, embeddings_initializer=normal, name="gmf_user")
            self.gmf_item = Embedding(num_items, embedding_dim, embeddings_initializer=normal, name="gmf_item")
        if variant in ("mlp", "neumf"):
            half = self.mlp_units[0] // 2
            self.mlp_user = Embedding(num_users, half, embeddings_initializer=normal, name="mlp_user")
            self.mlp_item = Embedding(num_items, half, embeddings_initializer=normal, name="mlp_item")
            self.tower = torch.nn.ModuleList([Dense(units, activation="relu") for units in self.mlp_units[1:]])
        self.prediction = Dense(1, activation=final_activation, kernel_initializer="lecun_uniform")
        widths = self.mlp_units[:-1] if variant != "gmf" else []
        joined = (embedding_dim if variant != "mlp" else 0) + (self.mlp_units[-1] if variant != "gmf" else 0)
        build_all(self, {self.prediction: joined, **({} if variant == "gmf" else dict(zip(self.tower, widths)))})

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        users, items = self.ids(inputs)
        joined = []
        if self.variant in ("gmf", "neumf"):
            joined.append(self.gmf_user(users) * self.gmf_item(items))  # (batch, embedding_dim)
        if self.variant in ("mlp", "neumf"):
            hidden = torch.cat([self.mlp_user(users), self.mlp_item(items)], dim=1)  # (batch, mlp_units[0])
            for layer in self.tower:
                hidden = layer(hidden)
            joined.append(hidden)
        return self.prediction(torch.cat(joined, dim=1))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "variant": self.variant, "embedding_dim": self.embedding_dim,
                "mlp_units": self.mlp_units, "final_activation": self.final_activation}


def build_all(model: Recommender, dense_inputs: dict) -> None:
    """Creates every weight now (their sizes follow from the constructor's arguments), so that a
    saved model's weights load into a new one before any data flows: each Embedding, and each
    Dense for its known input width."""
    for layer in model.modules():
        if isinstance(layer, Embedding):
            layer.build_from_shapes((None,))
    for layer, width in dense_inputs.items():
        layer.build_from_shapes((None, width))


def as_pairs(users: Any, items: Any) -> np.ndarray:
    """`(n, 2)` int64 [user, item] ids from two id arrays."""
    users, items = np.asarray(users).reshape(-1), np.asarray(items).reshape(-1)
    if len(users) != len(items):
        raise ValueError(f"users and items must have one id per pair: {len(users)} users, {len(items)} items.")
    return np.stack([users, items], axis=1).astype(np.int64)
