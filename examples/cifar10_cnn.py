"""The tutorials' CIFAR-10 CNN: Conv2D 32 -> MaxPooling -> Conv2D 64 -> MaxPooling -> Flatten ->
Dense 64 -> Dense 10 softmax, adam, categorical cross-entropy on one-hot labels, 10 epochs.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/cifar10_cnn.py
The shared CIFAR-10 copy is re-encoded as JPEG, which costs a little accuracy against the original.
Saves `cifar10_predictions.png`: test images with predicted and true labels.
"""

from __future__ import annotations

import time

import ember
from ember import layers
from ember.utils import save_image_grid, to_categorical


def main(epochs: int = 10, verbose: int | str = "auto", grid_path: str | None = "cifar10_predictions.png") -> float:
    ember.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = ember.datasets.cifar10.load_data()
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    model = ember.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, to_categorical(y_train, 10), epochs=epochs, batch_size=32,
              validation_data=(x_test, to_categorical(y_test, 10)), verbose=verbose)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    print(f"CIFAR-10 CNN: test accuracy {accuracy:.4f} after {epochs} epochs ({seconds:.0f} s of training)")
    if grid_path:
        predicted = model.predict(x_test[:32], verbose=0).argmax(1)
        save_image_grid(x_test[:32], grid_path, labels=y_test[:32, 0], predictions=predicted,
                        class_names=ember.datasets.cifar10.CLASS_NAMES)
    return accuracy


if __name__ == "__main__":
    main()
