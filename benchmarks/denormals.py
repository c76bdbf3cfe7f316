"""Denormal flushing on the CPU: `fit` with ember's default (flushed) against PyTorch's IEEE default,
in one process, alternated, on two inputs: ordinary values, and the same values scaled by 1e-39 so
that the first layer's products and activations are denormal floats (what a GAN's fading
gradients or Adam's decaying moments produce after a while).

    .venv/bin/python benchmarks/denormals.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ember
from ember import layers


def seconds_per_epoch(x: np.ndarray, y: np.ndarray, flush: bool) -> float:
    ember.config.set_flush_denormals(flush)
    ember.utils.set_random_seed(0)
    model = ember.Sequential([layers.Input((784,)), layers.Dense(256, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:320], y[:320], epochs=1, verbose=0)  # warm-up
    started = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((6400, 784), dtype=np.float32)
    y = rng.integers(0, 10, 6400)
    for name, inputs in (("ordinary values", x), ("denormal activations", x * np.float32(1e-39))):
        times = {True: [], False: []}
        for _ in range(args.rounds):
            for flush in times:
                times[flush].append(seconds_per_epoch(inputs, y, flush))
        flushed, ieee = min(times[True]), min(times[False])
        print(f"{name:22s} flushed {6400 / flushed:9.0f} samples/s   IEEE {6400 / ieee:9.0f} samples/s"
              f"   flushed/IEEE speed {ieee / flushed:5.2f}x")


if __name__ == "__main__":
    main()
