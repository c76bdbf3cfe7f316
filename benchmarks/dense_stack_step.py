"""ember's hand-derived dense-stack step against its autograd step, in one process on a fixed batch
of 32 (alternating blocks, so that a shared machine's slow spells hit both alike), for the MNIST MLP
with and without batch normalization.

    .venv/bin/python benchmarks/dense_stack_step.py [--blocks 6] [--steps 300]
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
import torch

import ember
from ember import layers
from ember.training.autograd_step import EagerStep

MODELS = {
    "784-128-10": lambda: [layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")],
    "784-128(no bias)-BN-relu-10": lambda: [layers.Dense(128, use_bias=False), layers.BatchNormalization(),
                                            layers.Activation("relu"), layers.Dense(10, activation="softmax")],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    ember.config.set_thread_tuning(False)  # both paths at torch's thread count
    rng = np.random.default_rng(0)
    batch = (torch.rand(32, 784), torch.randint(0, 10, (32,)), None)
    for name, make_layers in MODELS.items():
        model = ember.Sequential([layers.Input((784,)), *make_layers()])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(rng.random((320, 784), dtype=np.float32), rng.integers(0, 10, 320), epochs=1, verbose=0)
        step = model.make_step()
        assert step.kind == "hand_derived", name
        paths = {"hand-derived": step.train, "autograd": functools.partial(EagerStep.train, step)}
        times: dict[str, list[float]] = {path: [] for path in paths}
        for _ in range(args.blocks):
            for path, step in paths.items():
                model.reset_metrics()
                started = time.perf_counter()
                for _ in range(args.steps):
                    step(batch)
                times[path].append((time.perf_counter() - started) / args.steps * 1e6)
        best = {path: min(values) for path, values in times.items()}
        print(f"{name}: hand-derived {best['hand-derived']:.0f} µs, autograd {best['autograd']:.0f} µs per step "
              f"(best of {args.blocks} blocks): {best['autograd'] / best['hand-derived']:.2f}x")


if __name__ == "__main__":
    main()
