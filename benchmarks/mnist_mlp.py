"""MNIST MLP 784-128-10, adam, batch 32: ember `fit` against plain PyTorch loops and Keras 3.

    EMBER_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/mnist_mlp.py [--epochs 2] [--rounds 3]

Every runner trains one warm-up epoch, then `--epochs` timed epochs over the 60,000 training
images, and reports samples per second and test accuracy.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def add_arguments(parser) -> None:
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)


def load(args):
    import ember

    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    prepare = lambda x: x.reshape(len(x), 784).astype("float32") / 255  # noqa: E731
    return prepare(x_train), y_train.astype("int64"), prepare(x_test), y_test.astype("int64")


def ember_model(jit_compile="auto"):
    import ember
    from ember import layers

    model = ember.Sequential([layers.Dense(128, activation="relu", input_shape=(784,)),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile)
    return model


def torch_model():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def keras_model():
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


RUNNERS = harness.runners(load, ember_model, torch_model, keras_model)
# ember's autograd step (what jit_compile=False runs), to show what the hand-derived step gains
RUNNERS["ember-autograd"] = harness.fit_runner(load, lambda: ember_model(jit_compile=False))

if __name__ == "__main__":
    harness.main("mnist_mlp", sys.modules[__name__], "MNIST MLP 784-128-10, adam, batch 32")
