"""The cost of EWC: one Permuted-MNIST experience (60,000 images, 1 epoch, batch 128, the MLP of
512 units) trained by plain `fit` against the same experience trained by `continual.train_stream`
with EWC's penalty active (the second experience of a two-experience stream), in one process,
alternated.
Also the cost of computing the Fisher (1,000 per-sample gradients) at an experience's end.

    EMBER_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/continual_ewc.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ember
from ember import continual, layers


def mlp() -> ember.Sequential:
    ember.utils.set_random_seed(0)
    return ember.Sequential([layers.Input((784,)), layers.Dense(512, activation="relu"),
                             layers.Dense(10, activation="softmax")])


def plain_fit(experience: continual.Experience) -> float:
    model = mlp()
    model.compile(ember.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(experience.x_train[:1280], experience.y_train[:1280], batch_size=128, verbose=0)  # warm-up
    started = time.perf_counter()
    model.fit(experience.x_train, experience.y_train, epochs=1, batch_size=128, verbose=0)
    return time.perf_counter() - started


class FitTimer(ember.callbacks.Callback):
    """The seconds of each `fit` (from its first to its last batch) that train_stream runs."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_train_begin(self, logs=None) -> None:
        self._started = time.perf_counter()

    def on_train_end(self, logs=None) -> None:
        self.seconds.append(time.perf_counter() - self._started)


def ewc_fit(stream: continual.Stream) -> tuple[float, float]:
    """(seconds of the second experience's fit with the penalty active, seconds of one Fisher), both
    as `train_stream` runs them (the first experience's fit warms up the same step)."""
    model, strategy, timer = mlp(), continual.EWC(1000.0), FitTimer()
    fisher_seconds = []
    after_experience = strategy.after_experience

    def timed_after_experience(*arguments):
        started = time.perf_counter()
        after_experience(*arguments)
        fisher_seconds.append(time.perf_counter() - started)

    strategy.after_experience = timed_after_experience
    continual.train_stream(model, stream, strategy, optimizer=ember.optimizers.Adam(1e-3), batch_size=128,
                           callbacks=[timer])
    return timer.seconds[1], fisher_seconds[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    stream = continual.permuted_mnist(2)
    plain, ewc, fisher = [], [], []
    for _ in range(arguments.rounds):
        plain.append(plain_fit(stream[1]))
        seconds, fisher_seconds = ewc_fit(stream)
        ewc.append(seconds)
        fisher.append(fisher_seconds)
    print(f"plain fit, one experience: {np.median(plain):.2f} s (median of {arguments.rounds}: {plain})")
    print(f"EWC fit, one experience:   {np.median(ewc):.2f} s ({ewc})")
    print(f"EWC / plain: {np.median(ewc) / np.median(plain):.2f}x; Fisher of 1,000 samples: {np.median(fisher):.2f} s")


if __name__ == "__main__":
    main()
