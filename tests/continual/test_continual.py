"""Continual learning: the Fisher diagonal against a hand computation, the reservoir's uniform
keep probability, the forgetting measures on a hand-made matrix, EWC's and SI's gradient terms
against autograd and a hand-kept path integral, A-GEM's projection, strategies against forgetting
on a tiny stream, multi-head evaluation, resuming a stream (in memory and from a checkpoint file),
and bad input."""

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


@pytest.mark.parametrize("strategy", [lambda: continual.SynapticIntelligence(2.0), lambda: continual.AGEM(200, 64)],
                         ids=["si", "agem"])
def test_si_and_agem_hold_the_first_domain_where_naive_fine_tuning_lets_it_go(strategy):
    naive = continual.train_stream(_classifier(classes=2), _domain_stream(), continual.Naive(), **_options())
    kept = continual.train_stream(_classifier(classes=2), _domain_stream(), strategy(), **_options())
    assert kept.accuracy_matrix[1, 0] > naive.accuracy_matrix[1, 0] + 0.1
    assert kept.accuracy_matrix[1, 1] > 0.9


def _one_experience(stream):
    return stream.experiences[0], stream


def test_ewc_adds_the_gradient_of_its_penalty():
    model = _classifier()
    experience, stream = _one_experience(_tiny_stream())
    ewc = continual.EWC(3.0)
    ewc.after_experience(model, experience, stream)  # Fisher and anchor at these weights
    with torch.no_grad():
        for weight in model.parameters():
            weight.add_(0.1 * torch.randn_like(weight))
    optimizer = ember.optimizers.SGD(0.1)
    optimizer.build(model.parameters())
    ewc.before_experience(model, optimizer, experience, stream)
    weights = [w for w in model.parameters()]
    expected = torch.autograd.grad(ewc.penalty_value(model), weights)
    for weight in weights:
        weight.grad = torch.zeros_like(weight)
    optimizer.update_weights()  # the hook adds the pull before the update
    ewc.detach()
    for weight, gradient in zip(weights, expected):
        torch.testing.assert_close(weight.grad, gradient, rtol=1e-5, atol=1e-7)


def test_synaptic_intelligence_importance_is_the_path_integral_over_the_squared_change():
    ember.utils.set_random_seed(0)
    model = ember.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.build((None, 3))
    experience, stream = _one_experience(_tiny_stream())
    optimizer = ember.optimizers.SGD(0.05, momentum=0.9)
    optimizer.build(model.parameters())
    si = continual.SynapticIntelligence(strength=1.0, damping=0.5)
    si.before_experience(model, optimizer, experience, stream)
    weights = list(model.parameters())
    start = [w.detach().clone() for w in weights]
    path = [torch.zeros_like(w) for w in weights]
    x, y = torch.randn(8, 3), torch.randn(8, 2)
    for _ in range(5):
        loss = ((model(x) - y) ** 2).mean()
        gradients = torch.autograd.grad(loss, weights)
        before = [w.detach().clone() for w in weights]
        for weight, gradient in zip(weights, gradients):
            weight.grad = gradient.clone()
        optimizer.step()
        for total, gradient, weight, old in zip(path, gradients, weights, before):
            total -= gradient * (weight.detach() - old)
    si.after_experience(model, experience, stream)
    for importance, total, weight, first in zip(si.importance, path, weights, start):
        expected = (total / ((weight.detach() - first) ** 2 + 0.5)).clamp_min(0)
        torch.testing.assert_close(importance, expected, rtol=1e-5, atol=1e-7)
    assert all(torch.equal(a, w.detach()) for a, w in zip(si.anchor, weights))


def test_agem_projects_a_gradient_that_would_raise_the_memorys_loss_and_leaves_others():
    model = _classifier()
    stream = _tiny_stream()
    agem = continual.AGEM(patterns_per_experience=50, sample_size=50)
    agem.after_experience(model, stream.experiences[0], stream)
    assert agem.memory_x.shape == (50, 2) and set(agem.memory_y) <= {0, 1}
    optimizer = ember.optimizers.SGD(0.1)
    optimizer.build(model.parameters())
    agem.before_experience(model, optimizer, stream.experiences[1], stream)
    weights = list(model.parameters())
    loss = F.nll_loss(torch.log(model(torch.as_tensor(agem.memory_x))), torch.as_tensor(agem.memory_y).long())
    reference = torch.autograd.grad(loss, weights)
    flat_reference = torch.cat([r.flatten() for r in reference])
    for sign in (-1.0, 1.0):  # against the memory's gradient, then along it
        proposed = [sign * r + 0.3 * torch.randn_like(r) for r in reference]
        for weight, gradient in zip(weights, proposed):
            weight.grad = gradient.clone()
        agem.adjust_gradients(weights)
        adjusted = torch.cat([w.grad.flatten() for w in weights])
        flat = torch.cat([p.flatten() for p in proposed])
        if float(flat @ flat_reference) < 0:
            assert float(adjusted @ flat_reference) == pytest.approx(0.0, abs=1e-5)
            torch.testing.assert_close(adjusted, flat - (flat @ flat_reference) / (flat_reference @ flat_reference)
                                       * flat_reference)
        else:
            torch.testing.assert_close(adjusted, flat)
    agem.detach()


def test_a_stopped_run_resumes_from_its_checkpoint_file_as_if_never_stopped(tmp_path):
    stream = _tiny_stream()
    options = dict(epochs=2, batch_size=100, shuffle=False)
    whole_model = _classifier()
    whole = continual.train_stream(whole_model, stream, continual.EWC(10.0), optimizer=ember.optimizers.Adam(1e-2),
                                   **options)

    class StopInSecondExperience(ember.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if self.model.optimizer.iterations > 0:
                raise KeyboardInterrupt

    path = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        continual.train_stream(_classifier(), stream, continual.EWC(10.0), optimizer=ember.optimizers.Adam(1e-2),
                               checkpoint=path, callbacks=[StopInSecondExperience()], **options)
    model = _classifier()  # a new process: fresh model, optimizer and strategy
    resumed = continual.train_stream(model, stream, continual.EWC(10.0), optimizer=ember.optimizers.Adam(1e-2),
                                     checkpoint=path, **options)
    np.testing.assert_allclose(resumed.accuracy_matrix, whole.accuracy_matrix, atol=1e-6)
    for mine, theirs in zip(model.parameters(), whole_model.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)
    assert len(resumed.history) == 2


def test_a_checkpoint_keeps_replay_and_agem_arrays_and_refuses_another_strategy(tmp_path):
    stream = _tiny_stream()
    path = tmp_path / "run.ckpt"
    replay = continual.Replay(30)
    continual.train_stream(_classifier(), continual.Stream(stream.experiences, "class", 4), replay, epochs=1,
                           checkpoint=path)
    restored = continual.Replay(30)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy")
    progress = continual.load_checkpoint(path, model, restored)
    assert progress.next_experience == 2 and progress.accuracy_matrix.shape == (2, 2)
    np.testing.assert_array_equal(restored.buffer_x, replay.buffer_x)
    np.testing.assert_array_equal(restored.buffer_y, replay.buffer_y)
    agem, again = continual.AGEM(10, 5), continual.AGEM(10, 5)
    agem.after_experience(model, stream.experiences[0], stream)
    tensors, document = ember.saving.split_tensors(agem.state(), "state")
    again.load_state(ember.saving.join_tensors(tensors, document))
    np.testing.assert_array_equal(again.memory_x, agem.memory_x)
    np.testing.assert_array_equal(again.memory_classes, agem.memory_classes)
    with pytest.raises(ValueError, match="written by a Replay run; this run's strategy is EWC"):
        continual.train_stream(_classifier(), stream, continual.EWC(1.0), epochs=1, checkpoint=path)


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
    with pytest.raises(ValueError, match="SynapticIntelligence strength must be a number >= 0"):
        continual.SynapticIntelligence(-0.5)
    with pytest.raises(ValueError, match="AGEM patterns_per_experience must be a positive integer"):
        continual.AGEM(0)
    with pytest.raises(ValueError, match=r"replay_share must be in \(0, 1\) or None"):
        continual.Replay(10, replay_share=1.0)


def test_a_replay_share_draws_stored_samples_again_until_they_make_that_share():
    stream = _tiny_stream()
    replay = continual.Replay(20, replay_share=0.5)
    replay.after_experience(None, stream.experiences[0], stream)
    x, targets = replay.training_data(None, stream.experiences[1], stream)
    new = len(stream.experiences[1].x_train)
    assert len(x) == 2 * new and set(np.unique(targets[new:, 0])) <= {0.0, 1.0}
    stored = {tuple(row) for row in replay.buffer_x}
    assert all(tuple(row) in stored for row in x[new:])
    with pytest.raises(ValueError, match="Each class may appear in one experience only"):
        continual.Stream.from_arrays(np.zeros((4, 1)), [0, 1, 0, 1], np.zeros((4, 1)), [0, 1, 0, 1], [[0, 1], [1]])
