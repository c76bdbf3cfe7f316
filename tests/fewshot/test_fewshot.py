"""Few-shot learning: episodes (disjoint support and query, seeded, bad sizes named), prototypes
and MAML's second-order meta-gradient against hand computations, learning new classes from one
example, adapt, save and load."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
from ember import fewshot, layers


def _clusters(classes=30, per_class=20, features=8, seed=0):
    """Gaussian clusters, one per class: few-shot learnable from a single example."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, features))
    y = np.repeat(np.arange(classes), per_class)
    return (centres[y] + rng.normal(0, 0.5, (len(y), features))).astype("float32"), y


def test_episodes_are_disjoint_seeded_and_relabelled():
    x, y = _clusters()
    sampler = fewshot.EpisodeSampler(x, y, n_way=5, k_shot=2, num_queries=3, num_episodes=50, seed=7)
    for index in range(len(sampler)):
        classes, support, query = sampler.indices(index)
        assert len(set(classes.tolist())) == 5 and not set(support.ravel()) & set(query.ravel())
        assert all(set(y[rows]) == {c} for rows, c in zip(support, classes))
    (support_x, onehot, query_x), query_y = sampler[3]
    assert support_x.shape == (10, 8) and onehot.shape == (10, 5) and query_x.shape == (15, 8)
    assert onehot.argmax(1).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4] and query_y.tolist() == sorted([0, 1, 2, 3, 4] * 3)
    again = fewshot.EpisodeSampler(x, y, n_way=5, k_shot=2, num_queries=3, num_episodes=50, seed=7)[3]
    np.testing.assert_array_equal(again[0][0], support_x)
    with pytest.raises(ValueError, match="k_shot \\+ num_queries = 25 samples per class, but class 0 has only 20"):
        fewshot.EpisodeSampler(x, y, k_shot=5, num_queries=20)
    with pytest.raises(ValueError, match="n_way=40 needs at least 40 classes"):
        fewshot.EpisodeSampler(x, y, n_way=40)


def test_prototypes_are_class_means_and_queries_score_by_squared_distance():
    learner = fewshot.PrototypicalNetwork(layers.Identity())
    support = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    onehot = F.one_hot(torch.tensor([0, 0, 1]), 2).float()
    query = torch.tensor([[1.0, 1.0]])
    log_probabilities = learner.query_log_probabilities(support, onehot, query, training=False)
    distances = torch.tensor([[0.0 + 1.0, 1.0 + 9.0]])  # to prototypes (1, 0) and (0, 4)
    torch.testing.assert_close(log_probabilities, F.log_softmax(-distances, dim=-1))


def test_a_prototypical_network_learns_new_classes_from_one_example(tmp_path):
    x, y = _clusters(classes=40)
    train, test = y < 30, y >= 30  # the test classes are never seen in training
    encoder = ember.Sequential([layers.Input((8,)), layers.Dense(32, activation="relu"), layers.Dense(16)])
    learner = fewshot.PrototypicalNetwork(encoder)
    learner.compile(ember.optimizers.Adam(1e-2))
    history = learner.fit(fewshot.EpisodeSampler(x[train], y[train], n_way=10, k_shot=1, num_queries=5,
                                                 num_episodes=30, seed=0), epochs=2, verbose=0).history
    assert set(history) == {"loss", "accuracy"} and learner.make_step().kind == "custom"
    results = learner.evaluate(fewshot.EpisodeSampler(x[test], y[test], n_way=5, k_shot=1, num_queries=10,
                                                      num_episodes=40, seed=1))
    assert results["accuracy"] > 0.8 and 0 <= results["accuracy_ci95"] < 0.1 and results["episodes"] == 40
    rows = np.flatnonzero(test)
    classifier = learner.adapt(x[rows[::20]], np.arange(10))  # one example of each new class
    predictions = classifier.predict(x[rows], verbose=0).argmax(axis=1)
    assert np.mean(predictions == y[rows] - 30) > 0.8
    learner.save(tmp_path / "protonet.ember")
    loaded = ember.load_model(tmp_path / "protonet.ember")
    np.testing.assert_allclose(loaded.encoder.predict(x[:5], verbose=0), encoder.predict(x[:5], verbose=0), rtol=1e-6)


@pytest.mark.parametrize("first_order", [False, True])
def test_the_maml_meta_gradient_equals_autograd_through_the_unrolled_inner_loop(first_order):
    torch.manual_seed(0)
    model = ember.Sequential([layers.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(3)])
    model(torch.zeros(1, 4))
    learner = fewshot.MAML(model, inner_learning_rate=0.5, inner_steps=2, first_order=first_order)
    support_x, query_x = torch.randn(6, 4), torch.randn(9, 4)
    support_y, query_y = torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0, 1, 2] * 3)
    onehot = F.one_hot(support_y, 3).float()
    loss = F.nll_loss(learner.query_log_probabilities(support_x, onehot, query_x, training=True), query_y)
    ours = torch.autograd.grad(loss, list(model.parameters()))

    w1, b1, w2, b2 = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
    forward = lambda x, w1, b1, w2, b2: torch.tanh(x @ w1 + b1) @ w2 + b2  # kernels stored (in, out)
    weights = [w1, b1, w2, b2]
    for _ in range(2):
        inner = F.cross_entropy(forward(support_x, *weights), support_y)
        gradients = torch.autograd.grad(inner, weights, create_graph=not first_order)
        weights = [w - 0.5 * g for w, g in zip(weights, gradients)]
    expected = torch.autograd.grad(F.cross_entropy(forward(query_x, *weights), query_y), [w1, b1, w2, b2])
    for got, want in zip(ours, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_maml_learns_new_classes_adapts_and_saves(tmp_path):
    x, y = _clusters(classes=40, features=4)
    model = ember.Sequential([layers.Input((4,)), layers.Dense(32, activation="relu"), layers.Dense(5)])
    learner = fewshot.MAML(model, inner_learning_rate=0.5, inner_steps=3, meta_batch_size=2)
    learner.compile(ember.optimizers.Adam(3e-3))
    before = learner.evaluate(fewshot.EpisodeSampler(x[y >= 30], y[y >= 30], 5, 1, 10, num_episodes=20, seed=1))
    learner.fit(fewshot.EpisodeSampler(x[y < 30], y[y < 30], 5, 1, 10, num_episodes=60, seed=0), epochs=2, verbose=0)
    after = learner.evaluate(fewshot.EpisodeSampler(x[y >= 30], y[y >= 30], 5, 1, 10, num_episodes=20, seed=1))
    assert after["loss"] < before["loss"] and after["accuracy"] > 0.8  # the adapted queries, before and after
    rows = np.flatnonzero(y >= 30)[:100]
    classes = np.unique(y[rows])
    support = np.array([rows[y[rows] == c][0] for c in classes])
    adapted = learner.adapt(x[support], np.arange(5))
    assert np.mean(adapted.predict(x[rows], verbose=0).argmax(1) == y[rows] - 30) > 0.6
    assert all(torch.equal(a, b) is False for a, b in zip(adapted.parameters(), model.parameters()))
    learner.save(tmp_path / "maml.ember")
    loaded = ember.load_model(tmp_path / "maml.ember")
    assert type(loaded) is fewshot.MAML and loaded.inner_steps == 3 and loaded.meta_batch_size == 2
    np.testing.assert_allclose(loaded.model.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0), rtol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="inner_learning_rate must be > 0"):
        fewshot.MAML(layers.Dense(2), inner_learning_rate=0)
    with pytest.raises(ValueError, match="query cross-entropy"):
        fewshot.PrototypicalNetwork(layers.Dense(2)).compile("adam", loss="mse")
    with pytest.raises(ValueError, match="support_y must use every class id from 0 to n-1"):
        fewshot.PrototypicalNetwork(layers.Dense(2)).adapt(np.zeros((2, 3)), [0, 2])
