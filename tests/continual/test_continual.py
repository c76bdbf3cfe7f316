"""Continual learning: the Fisher diagonal against a hand computation, the reservoir's uniform
keep probability, the forgetting measures on a hand-made matrix, strategies against forgetting on
a tiny stream, multi-head evaluation, resuming a stream, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
from ember import continual, layers


def test_the_fisher_diagonal_is_the_mean_squared_log_likelihood_gradient():
    model = ember.Sequential([layers.Input((3,)), layers.Dense(4, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    y = np.array([0, 1, 3, 3, 2])
    fisher = continual.fisher_diagonal(model, x, y)
    kernel, bias = [w.detach().clone().requires_grad_(True) for w in model.parameters()]
    expected = [torch.zeros_like(kernel), torch.zeros_like(bias)]
    for row, label in zip(torch.from_numpy(x), y):
        log_likelihood = F.log_softmax(row @ kernel + bias, dim=0)[label]
        for total, gradient in zip(expected, torch.autograd.grad(log_likelihood, [kernel, bias])):
            total += gradient.square() / len(x)
    for got, want in zip(fisher, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_the_reservoir_keeps_every_seen_sample_equally_likely():
    kept = np.zeros(60)
    trials = 600
    for seed in range(trials):
        replay = continual.Replay(buffer_size=12, seed=seed)
        for part in range(3):  # three experiences of 20 samples each
            ids = np.arange(20 * part, 20 * (part + 1))
            replay.add(ids[:, None].astype("float32"), ids)
        assert len(replay.buffer_y) == 12
        kept[replay.buffer_y] += 1
    probability = kept / trials  # 12 / 60 = 0.2 for each sample, whichever experience it came in
    assert np.abs(probability - 0.2).max() < 0.07 and abs(probability[:20].mean() - probability[40:].mean()) < 0.03


def test_a_class_balanced_buffer_gives_each_class_an_equal_share():
    replay = continual.Replay(buffer_size=12, policy="class_balanced")
    replay.add(np.zeros((30, 1)), np.repeat([0, 1], 15))
    assert np.bincount(replay.buffer_y).tolist() == [6, 6]
    replay.add(np.zeros((30, 1)), np.repeat([2, 3], 15))
    assert np.bincount(replay.buffer_y).tolist() == [3, 3, 3, 3]


def test_forgetting_and_backward_transfer_on_a_hand_made_matrix():
    matrix = np.array([[0.9, 0.1, 0.0], [0.6, 0.8, 0.1], [0.5, 0.7, 0.9]])
    results = continual.ContinualResults(matrix)
    assert results.average_accuracy == pytest.approx(0.7)
    assert results.forgetting == pytest.approx(((0.9 - 0.5) + (0.8 - 0.7)) / 2)
    assert results.backward_transfer == pytest.approx(((0.5 - 0.9) + (0.7 - 0.8)) / 2)
    assert continual.ContinualResults(np.array([[0.8]])).forgetting == 0.0


def _tiny_stream(scenario="class"):
    """Two experiences of two classes on nearly one input distribution: the sign of the first
    feature tells 0 from 1 where the second is near +0.3, and 2 from 3 where it is near -0.3."""
    rng = np.random.default_rng(0)
    experience = rng.integers(0, 2, 800)
    first = rng.normal(0, 1, 800)
    x = np.stack([first, np.where(experience == 0, 0.3, -0.3) + rng.normal(0, 0.1, 800)], axis=1).astype("float32")
    y = 2 * experience + (first > 0)
    return continual.Stream.from_arrays(x[:600], y[:600], x[600:], y[600:], [[0, 1], [2, 3]], scenario)


def _domain_stream():
    """Two classes, told by the sign of the first feature, then (a new domain) of the second."""
    rng = np.random.default_rng(0)
    experiences = []
    for task_id in range(2):
        signal, noise = rng.normal(0, 1, 800), rng.normal(0, 0.1, 800)
        x = np.stack([signal, noise] if task_id == 0 else [noise, signal], axis=1).astype("float32")
        y = (signal > 0).astype(np.int64)
        experiences.append(continual.Experience(x[:600], y[:600], x[600:], y[600:], (0, 1), task_id))
    return continual.Stream(experiences, "domain", 2)


def _classifier(inputs=2, classes=4):
    ember.utils.set_random_seed(0)
    return ember.Sequential([layers.Input((inputs,)), layers.Dense(16, activation="relu"),
                             layers.Dense(classes, activation="softmax")])


def _options(**more):
    return dict(optimizer=ember.optimizers.Adam(1e-2), epochs=20, batch_size=32, **more)


def test_replay_keeps_the_classes_that_naive_fine_tuning_forgets(tmp_path):
    naive = continual.train_stream(_classifier(), _tiny_stream(), continual.Naive(), **_options())
    assert naive.accuracy_matrix[0, 0] > 0.95 and naive.forgetting > 0.9  # measured 0.99: the old classes go
    replay = continual.train_stream(_classifier(), _tiny_stream(), continual.Replay(100), **_options())
    assert replay.average_accuracy > 0.95 and replay.forgetting < 0.05  # measured 0.995 and 0.0
    assert replay.plot(tmp_path / "matrix.png") and (tmp_path / "matrix.png").stat().st_size > 0


@pytest.mark.parametrize("mode", ["separate", "online"])
def test_ewc_holds_the_first_domain_where_naive_fine_tuning_lets_it_go(mode):
    naive = continual.train_stream(_classifier(classes=2), _domain_stream(), continual.Naive(), **_options())
    ewc = continual.train_stream(_classifier(classes=2), _domain_stream(), continual.EWC(100.0, mode=mode), **_options())
    assert ewc.accuracy_matrix[1, 0] > naive.accuracy_matrix[1, 0] + 0.1  # measured 0.91 against 0.73
    assert ewc.accuracy_matrix[1, 1] > 0.95


def test_a_task_incremental_stream_is_scored_among_each_tasks_classes():
    stream = _tiny_stream("task")
    results = continual.train_stream(_classifier(), stream, continual.Naive(), **_options())
    assert results.average_accuracy > 0.9  # multi-head: telling 0 from 1 and 2 from 3 survives
    assert results.accuracy_matrix[1, 0] > 0.9


def test_a_stream_resumes_at_an_experience_with_the_strategys_state():
    stream = _tiny_stream()
    options = dict(optimizer="sgd", epochs=2, batch_size=600, shuffle=False)
    whole = continual.train_stream(_classifier(), stream, continual.EWC(10.0), **options)
    model, strategy = _classifier(), continual.EWC(10.0)
    first = continual.train_stream(model, continual.Stream(stream.experiences[:1], "class", 4), strategy, **options)
    resumed_strategy = continual.EWC(10.0)
    resumed_strategy.load_state(strategy.state())
    matrix = np.zeros((2, 2))
    matrix[0, :1] = first.accuracy_matrix[0]
    resumed = continual.train_stream(model, stream, resumed_strategy, start=1, accuracy_matrix=matrix, **options)
    np.testing.assert_allclose(resumed.accuracy_matrix[1], whole.accuracy_matrix[1], atol=1e-6)


def test_bad_input_is_named():
    stream = _tiny_stream()
    small_head = ember.Sequential([layers.Input((2,)), layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match=r"holds classes \[2, 3\], but the model's head has 3 outputs"):
        continual.train_stream(small_head, continual.Stream(stream.experiences[1:], "class", 4), epochs=1)
    with pytest.raises(ValueError, match=r"inputs of shape \(2,\), but the model takes \(5,\)"):
        continual.train_stream(_classifier(inputs=5), stream, epochs=1)
    with pytest.raises(ValueError, match="buffer_size must be a positive integer"):
        continual.Replay(0)
    with pytest.raises(ValueError, match="EWC strength must be a number >= 0"):
        continual.EWC(-1.0)
    with pytest.raises(ValueError, match="Each class may appear in one experience only"):
        continual.Stream.from_arrays(np.zeros((4, 1)), [0, 1, 0, 1], np.zeros((4, 1)), [0, 1, 0, 1], [[0, 1], [1]])
