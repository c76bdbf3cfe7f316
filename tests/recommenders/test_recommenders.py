"""Collaborative filtering: a planted low-rank rating matrix recovered by matrix factorization,
NCF's three variants learning implicit feedback, ranking metrics on hand-made ranks, the
leave-one-out split and negative sampling, recommend() leaving out seen items, bad ids named."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import recommenders


def _planted(users=60, items=80, rank=3, density=0.5, seed=0):
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(users, rank)) @ rng.normal(size=(items, rank)).T + 3.0
    pairs = np.argwhere(rng.random((users, items)) < density)
    return pairs, matrix[pairs[:, 0], pairs[:, 1]].astype("float32"), matrix


def test_matrix_factorization_recovers_a_planted_low_rank_matrix(tmp_path):
    pairs, ratings, matrix = _planted()
    order = np.random.default_rng(1).permutation(len(pairs))
    train, test = order[:int(0.8 * len(order))], order[int(0.8 * len(order)):]
    model = recommenders.MatrixFactorization(60, 80, embedding_dim=8, l2=1e-3, rating_mean=float(ratings[train].mean()))
    model.compile(ember.optimizers.Adam(0.02), loss="mse", metrics=["root_mean_squared_error"])
    model.fit(pairs[train], ratings[train], epochs=40, batch_size=128, verbose=0)
    rmse = model.evaluate(pairs[test], ratings[test], verbose=0, return_dict=True)["root_mean_squared_error"]
    assert rmse < 0.1 * ratings.std()  # held-out cells of the planted matrix, from 80% of the others
    unseen = np.argwhere(np.ones((60, 80), bool))[:50]
    np.testing.assert_allclose(model.score(unseen[:, 0], unseen[:, 1]), matrix[unseen[:, 0], unseen[:, 1]], atol=0.5)
    model.save(tmp_path / "mf.ember")
    loaded = ember.load_model(tmp_path / "mf.ember")
    assert type(loaded) is recommenders.MatrixFactorization and loaded.l2 == 1e-3
    np.testing.assert_allclose(loaded.predict(pairs[test], verbose=0), model.predict(pairs[test], verbose=0), rtol=1e-6)


def test_the_l2_penalty_is_added_while_training_only():
    model = recommenders.MatrixFactorization(3, 4, embedding_dim=2, l2=0.5)
    model.compile("sgd", loss="mse")
    pairs, ratings = np.array([[0, 1], [2, 3]]), np.array([1.0, 2.0], dtype="float32")
    evaluated = model.evaluate(pairs, ratings, verbose=0)
    scores = model.predict(pairs, verbose=0)[:, 0]
    assert evaluated == pytest.approx(float(np.mean((scores - ratings) ** 2)), rel=1e-5)
    train_loss = model.test_on_batch(pairs, ratings)  # inference mode: no penalty
    assert train_loss == pytest.approx(evaluated, rel=1e-5)
    p = model.user_factors.get_weights()[0][[0, 2]]
    q = model.item_factors.get_weights()[0][[1, 3]]
    model.train()
    model(ember.ops.convert_to_tensor(pairs))
    penalty = float(sum(loss.detach() for loss in model.losses))
    assert penalty == pytest.approx(0.5 * float(np.mean((p ** 2).sum(1) + (q ** 2).sum(1))), rel=1e-5)


@pytest.mark.parametrize("variant", ["gmf", "mlp", "neumf"])
def test_ncf_learns_implicit_feedback_better_than_chance(variant):
    rng = np.random.default_rng(2)
    users, items, groups = 30, 40, 4  # each user likes the items of its group
    pairs = np.array([(u, i) for u in range(users) for i in range(items) if u % groups == i % groups
                      and rng.random() < 0.6])
    train, test = recommenders.leave_one_out(pairs, seed=0)
    x, y = recommenders.with_negatives(train, items, negatives_per_positive=4, seed=0)
    model = recommenders.NeuralCollaborativeFiltering(users, items, variant=variant, embedding_dim=8,
                                                      mlp_units=(16, 8))
    model.compile(ember.optimizers.Adam(0.02), loss=ember.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x, y, epochs=30, batch_size=128, verbose=0)
    results = recommenders.evaluate_ranking(model, test, known=pairs, num_negatives=20, k=5)
    assert results["hit_rate@5"] > 0.5 and results["ndcg@5"] > 0.3  # chance: 5/21 = 0.24 (measured: 0.6 to 0.97)


def test_ranking_metrics_on_hand_made_ranks():
    ranks = [0, 1, 9, 10, 50]
    assert recommenders.hit_rate_at_k(ranks, 10) == pytest.approx(3 / 5)
    expected = (1 / np.log2(2) + 1 / np.log2(3) + 1 / np.log2(11)) / 5
    assert recommenders.ndcg_at_k(ranks, 10) == pytest.approx(expected)
    assert recommenders.hit_rate_at_k([], 10) == 0.0


class _Constant:
    num_items = 30

    def score(self, users, items):
        return np.zeros(len(users))


def test_ties_count_against_the_held_out_item():
    results = recommenders.evaluate_ranking(_Constant(), np.array([[0, 1], [1, 2]]), known=np.array([[0, 1], [1, 2]]),
                                            num_negatives=10, k=10)
    assert results == {"hit_rate@10": 0.0, "ndcg@10": 0.0}


def test_leave_one_out_holds_out_each_users_latest_and_negatives_avoid_touched_items():
    pairs = np.array([[0, 1], [0, 2], [0, 3], [1, 4], [2, 5], [2, 6]])
    times = np.array([5, 9, 1, 3, 2, 1])
    train, test = recommenders.leave_one_out(pairs, times)
    assert test.tolist() == [[0, 2], [2, 5]]  # user 1 has one interaction: kept for training
    assert sorted(map(tuple, train.tolist())) == [(0, 1), (0, 3), (1, 4), (2, 6)]
    x, y = recommenders.with_negatives(pairs, num_items=8, negatives_per_positive=3, seed=0)
    assert x.shape == (24, 2) and y[:6].tolist() == [[1.0]] * 6 and y[6:].sum() == 0
    touched = set(map(tuple, pairs.tolist()))
    assert not any(tuple(pair) in touched for pair in x[6:].tolist())
    assert np.array_equal(np.sort(x[6:, 0]), np.sort(np.repeat(pairs[:, 0], 3)))


def test_recommend_leaves_out_seen_items_and_ranks_by_score():
    pairs, ratings, _ = _planted(users=10, items=20)
    model = recommenders.MatrixFactorization(10, 20, embedding_dim=4)
    model.compile("adam", loss="mse")
    model.fit(pairs, ratings, epochs=2, verbose=0)
    seen = set(pairs[pairs[:, 0] == 3, 1].tolist())
    best = model.recommend(3, k=5, exclude=pairs)
    assert len(best) == 5 and not seen & set(best.tolist())
    scores = model.score(np.full(20, 3), np.arange(20))
    unseen = [item for item in np.argsort(-scores, kind="stable") if item not in seen]
    assert best.tolist() == unseen[:5]
    everything = np.array([[3, item] for item in range(20)])
    assert model.recommend(3, k=5, exclude=everything).tolist() == []


def test_bad_ids_and_arguments_are_named():
    model = recommenders.MatrixFactorization(5, 7)
    model.compile("adam", loss="mse")
    with pytest.raises(ValueError, match=r"item ids must lie in \[0, 7\) \(num_items=7\); got ids from 0 to 9"):
        model.fit(np.array([[0, 0], [1, 9]]), np.ones(2, "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"user ids must lie in \[0, 5\)"):
        model.predict(np.array([[-1, 0]]), verbose=0)
    with pytest.raises(ValueError, match=r"takes \(batch, 2\) ids"):
        model.predict(np.array([[0, 1, 2]]), verbose=0)
    with pytest.raises(ValueError, match="variant must be one of"):
        recommenders.NeuralCollaborativeFiltering(5, 7, variant="deep")
    with pytest.raises(ValueError, match="num_users must be a positive integer"):
        recommenders.MatrixFactorization(0, 7)
