"""The CPU thread tuner: picks the count whose steps are fastest, measures again later, gives the
user's count back; the dense-stack step's results do not depend on the count it picks."""

from __future__ import annotations

import numpy as np
import torch

import ember
from ember import config, layers
from ember.training.threads import ThreadTuner, candidates


class _FakeMachine:
    """A clock whose steps take `cost[threads]` seconds, and the thread setting it reads."""

    def __init__(self, cost: dict[int, float], threads: int) -> None:
        self.cost, self.threads, self.now, self.switches = cost, threads, 0.0, 0

    def clock(self) -> float:
        return self.now

    def set_threads(self, count: int) -> None:
        self.threads, self.switches = count, self.switches + 1

    def run(self, tuner: ThreadTuner, steps: int) -> None:
        for _ in range(steps):
            tuner.tick()
            self.now += self.cost[self.threads]


def _tuner(machine: _FakeMachine, hold_steps: int = 100) -> ThreadTuner:
    return ThreadTuner(probe_steps=4, hold_steps=hold_steps, clock=machine.clock,
                       get_threads=lambda: machine.threads, set_threads=machine.set_threads)


def test_candidates_halve_down_to_one():
    assert candidates(1) == [1] and candidates(2) == [2, 1] and candidates(16) == [16, 8, 4, 2]
    assert candidates(6) == [6, 3, 1]


def test_it_keeps_the_fastest_count_and_measures_again_after_a_while():
    machine = _FakeMachine({2: 1.0, 1: 0.6}, threads=2)
    tuner = _tuner(machine)
    machine.run(tuner, 20)
    assert tuner.choice == 1 and machine.threads == 1
    machine.cost = {2: 0.5, 1: 0.6}  # the machine got quiet
    machine.run(tuner, 100 + 20)
    assert tuner.choice == 2 and machine.threads == 2
    tuner.finish()
    assert machine.threads == 2


def test_finish_gives_the_users_count_back_and_one_thread_is_left_alone():
    machine = _FakeMachine({4: 1.0, 2: 0.5, 1: 0.7}, threads=4)
    tuner = _tuner(machine)
    machine.run(tuner, 30)
    assert tuner.choice == 2 and machine.threads == 2
    tuner.finish()
    assert machine.threads == 4
    single = _FakeMachine({1: 1.0}, threads=1)
    tuner = _tuner(single)
    single.run(tuner, 500)
    assert single.switches == 0 and tuner.choice is None


def _fit_mlp(threads: int | None):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 20)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    ember.utils.set_random_seed(0)
    model = ember.Sequential([layers.Input((20,)), layers.Dense(32, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0).history
        assert torch.get_num_threads() == (threads or before)  # given back after fit
    finally:
        torch.set_num_threads(before)
    return history, model.get_weights()


def test_fit_gives_the_thread_count_back_and_the_results_do_not_depend_on_it():
    tuned_history, tuned_weights = _fit_mlp(None)
    config.set_thread_tuning(False)
    try:
        one_history, one_weights = _fit_mlp(1)
    finally:
        config.set_thread_tuning(True)
    assert tuned_history == one_history
    for tuned, single in zip(tuned_weights, one_weights):
        np.testing.assert_array_equal(tuned, single)
