"""The tutorials' MNIST ANN: Dense(128, relu) -> Dense(10, softmax), adam, 10 epochs.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/mnist_mlp.py
"""

from __future__ import annotations

import ember
from ember import layers


def main(epochs: int = 10, verbose: int | str = "auto") -> float:
    ember.utils.set_random_seed(42)
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0

    model = ember.Sequential([
        layers.Dense(128, activation="relu", input_shape=(784,)),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"MNIST MLP test accuracy: {accuracy:.4f} (loss {loss:.4f})")
    return accuracy


if __name__ == "__main__":
    main()
