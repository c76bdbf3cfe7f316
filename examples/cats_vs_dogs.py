"""A binary image classifier in the shape of the tutorials' tumour detector (Conv2D -> pooling ->
Dense -> sigmoid, binary cross-entropy), on CIFAR-10's cats (0) against dogs (1), with precision,
recall and AUC. Training images are augmented on the device (flips, small shifts).

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/cats_vs_dogs.py
"""

from __future__ import annotations

import numpy as np

import ember
from ember import layers

CAT, DOG = 3, 5


def two_classes(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isin(labels[:, 0], [CAT, DOG])
    return images[keep].astype("float32"), (labels[keep, 0] == DOG).astype("float32")


def main(epochs: int = 15, verbose: int | str = "auto") -> dict:
    ember.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = ember.datasets.cifar10.load_data()
    x_train, y_train = two_classes(x_train, y_train)
    x_test, y_test = two_classes(x_test, y_test)
    model = ember.Sequential([
        layers.Input((32, 32, 3)),
        layers.Rescaling(1 / 255),
        layers.RandomFlip("horizontal", seed=0),
        layers.RandomTranslation(0.1, 0.1, seed=0),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(128, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(64, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["accuracy", ember.metrics.Precision(), ember.metrics.Recall(), ember.metrics.AUC()])
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_split=0.1, verbose=verbose,
              callbacks=[ember.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=3,
                                                       restore_best_weights=True)])
    results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print("cats vs dogs: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return results


if __name__ == "__main__":
    main()
