"""The tutorials' MNIST CNN: Conv2D 32 -> MaxPooling -> Conv2D 64 -> MaxPooling -> Flatten ->
Dropout -> Dense 10 softmax.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/mnist_cnn.py
"""

from __future__ import annotations

import ember
from ember import layers


def main(epochs: int = 3, verbose: int | str = "auto") -> float:
    ember.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    x_train, x_test = x_train[..., None].astype("float32") / 255.0, x_test[..., None].astype("float32") / 255.0
    model = ember.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_split=0.1, verbose=verbose)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"MNIST CNN: test accuracy {accuracy:.4f} after {epochs} epochs")
    return accuracy


if __name__ == "__main__":
    main()
