"""On a CUDA GPU: the graphed step (`jit_compile="auto"`) against the eager one (`False`), for real.

    device run: bash benchmarks/run_gpu.sh check     # carry: .whl, .data (see gpu_prepare.sh)

CI has no GPU; its tests check the graphed step's logic through a CPU emulation of CUDA graphs
(tests/training/test_graphed_step.py). This script checks the real thing on a subset of MNIST and
CIFAR-10: with the same seed both paths must give the same loss and accuracy history, evaluation
and predicted classes, within what floating-point rounding explains (Adam turns rounding-level
differences in near-zero gradients into learning-rate-sized steps, so weights drift apart while
losses agree), the graphs must really have been replayed (no fallback notice), and it prints the
time per epoch of each. Exits 1 when a check fails.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import torch

import ember
from ember import callbacks, layers, optimizers
from ember.training import graphs

REPLAYS = {"count": 0}
_replay = graphs.CudaGraph.replay


def _counted_replay(self) -> None:
    REPLAYS["count"] += 1
    _replay(self)


graphs.CudaGraph.replay = _counted_replay


def mnist_mlp(jit_compile, optimizer):
    model = ember.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                              layers.BatchNormalization(), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile)
    return model


def cifar_cnn(jit_compile, optimizer):
    model = ember.Sequential([layers.Input((32, 32, 3)), layers.Conv2D(32, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
                              layers.Flatten(), layers.Dense(64, activation="relu"), layers.Dense(10)])
    model.compile(optimizer=optimizer, metrics=["accuracy"], jit_compile=jit_compile,
                  loss=ember.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def imdb_lstm(jit_compile, optimizer):
    model = ember.Sequential([layers.Input((200,), dtype="int64"), layers.Embedding(10_000, 64),
                              layers.LSTM(64), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"], jit_compile=jit_compile,
                  precision="mixed_bfloat16")
    return model


def data(name: str, samples: int):
    if name == "imdb":
        from ember.preprocessing.sequence import pad_sequences

        (x, y), _ = ember.datasets.imdb.load_data(num_words=10_000)
        return pad_sequences(x[:samples], maxlen=200).astype("int64"), y[:samples].astype("float32")
    if name == "mnist":
        (x, y), _ = ember.datasets.mnist.load_data()
        x = x.reshape(len(x), 784).astype("float32") / 255
    else:
        (x, y), _ = ember.datasets.cifar10.load_data()
        x, y = x.astype("float32") / 255, y.reshape(-1)
    return x[:samples], y[:samples].astype("int64")


CASES = {
    "mnist mlp + batch norm, adam": ("mnist", mnist_mlp, lambda: "adam", list),
    "mnist mlp, sgd momentum, lr halved each epoch": (
        "mnist", mnist_mlp, lambda: optimizers.SGD(0.05, momentum=0.9),
        lambda: [callbacks.LearningRateScheduler(lambda epoch, rate: rate * 0.5)]),
    "mnist mlp, rmsprop (its update runs after each replay)": ("mnist", mnist_mlp, lambda: "rmsprop", list),
    "mnist mlp, adam with a schedule": (
        "mnist", mnist_mlp, lambda: optimizers.Adam(optimizers.schedules.ExponentialDecay(1e-3, 50, 0.5)), list),
    "cifar cnn, sgd momentum": ("cifar", cifar_cnn, lambda: optimizers.SGD(0.01, momentum=0.9), list),
    "imdb lstm (cuDNN) in bfloat16, sgd momentum": (
        "imdb", imdb_lstm, lambda: optimizers.SGD(0.05, momentum=0.9), list),
}


def _classes(predictions: np.ndarray) -> np.ndarray:
    return predictions.argmax(-1) if predictions.shape[-1] > 1 else predictions[..., 0] > 0.5


def _close(key: str, graphed, eager) -> bool:
    if "accuracy" in key:
        return np.allclose(graphed, eager, atol=0.02)
    return np.allclose(graphed, eager, rtol=1e-2)


def run(jit_compile, dataset, build, optimizer, hooks, x, y):
    ember.utils.set_random_seed(0)
    model = build(jit_compile, optimizer())
    ember.utils.set_random_seed(1)
    started = time.perf_counter()
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=hooks()).history
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - started) / 3
    return model, history, seconds


def main() -> int:
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; nothing to check.")
        return 0
    failures = 0
    for name, (dataset, build, optimizer, hooks) in CASES.items():
        x, y = data(dataset, {"mnist": 6000, "cifar": 4000, "imdb": 2000}[dataset])
        eager, eager_history, eager_seconds = run(False, dataset, build, optimizer, hooks, x, y)
        before = REPLAYS["count"]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            graphed, graphed_history, graphed_seconds = run("auto", dataset, build, optimizer, hooks, x, y)
        replays = REPLAYS["count"] - before
        notices = [str(w.message) for w in caught if "CUDA graphs" in str(w.message)]
        problems = [f"notice: {notice}" for notice in notices]
        if graphed.make_step().kind != "graphed":
            problems.append(f"the step is {graphed.make_step().kind!r}, not 'graphed'")
        if replays < 2 * (len(x) // 32):
            problems.append(f"only {replays} replays")
        for key in eager_history:
            if not _close(key, graphed_history[key], eager_history[key]):
                problems.append(f"{key}: graphed {graphed_history[key]} vs eager {eager_history[key]}")
        eager_classes, graphed_classes = (_classes(model.predict(x, verbose=0)) for model in (eager, graphed))
        agreement = np.mean(eager_classes == graphed_classes)
        if agreement < 0.98:
            problems.append(f"predicted classes agree on {agreement:.1%} of samples")
        evaluations = eager.evaluate(x, y, verbose=0), graphed.evaluate(x, y, verbose=0)
        if not all(_close(key, *pair) for key, pair in zip(("loss", "accuracy"), zip(*evaluations))):
            problems.append(f"evaluate: graphed {evaluations[1]} vs eager {evaluations[0]}")
        status = "ok" if not problems else "FAILED"
        print(f"{status:6} {name}: {replays} replays; epoch {graphed_seconds * 1000:.0f} ms graphed vs "
              f"{eager_seconds * 1000:.0f} ms eager ({eager_seconds / graphed_seconds:.2f}x); "
              f"final loss {graphed_history['loss'][-1]:.4f} vs {eager_history['loss'][-1]:.4f}")
        for problem in problems:
            print(f"       {problem}")
        failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
