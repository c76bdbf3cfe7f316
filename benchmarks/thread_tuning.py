"""The CPU thread tuner against a fixed thread count, in one process (so that the process-to-process
spread of a shared machine does not decide): blocks of 1,040 MNIST-MLP training steps on a fixed
batch, tuned and at torch's thread count, alternated.

    .venv/bin/python benchmarks/thread_tuning.py [--blocks 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import ember
from ember import layers
from ember.training.threads import HOLD_STEPS, PROBE_STEPS, ThreadTuner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=8)
    args = parser.parse_args()
    ember.config.set_thread_tuning(False)  # the blocks below drive the tuner themselves
    model = ember.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((320, 784), dtype=np.float32), rng.integers(0, 10, 320), epochs=1, verbose=0)
    step = model.make_step()
    assert step.kind == "hand_derived", step.kind
    batch = (torch.rand(32, 784), torch.randint(0, 10, (32,)), None)
    steps = HOLD_STEPS + PROBE_STEPS
    results: dict[str, list[float]] = {"tuned": [], "fixed": []}
    for _ in range(args.blocks):
        for mode in results:
            tuner = ThreadTuner() if mode == "tuned" else None
            model.reset_metrics()
            started = time.perf_counter()
            for _ in range(steps):
                if tuner is not None:
                    tuner.tick()
                step.train(batch)
            results[mode].append((time.perf_counter() - started) / steps * 1e6)
            if tuner is not None:
                tuner.finish()
    for mode, times in results.items():
        print(f"{mode}: µs per step by block {' '.join(f'{t:.0f}' for t in times)}; mean {np.mean(times):.0f}")


if __name__ == "__main__":
    main()
