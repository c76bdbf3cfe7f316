"""Speech recognition of spoken digits (Free Spoken Digit Dataset, 8 kHz): a small CNN on log-mel
features computed inside the model (MelSpectrogram on the device), with SpecAugment masks while
training. Reports test accuracy on the official split (recordings 0-4 of every speaker) and on a
speaker-held-out split (every recording of one speaker, never heard in training).

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/spoken_digits.py [--epochs 25]
"""

from __future__ import annotations

import argparse

import ember
from ember import layers
from ember.datasets import spoken_digits

SAMPLES = 8000  # 1 s at 8 kHz; recordings are cropped or zero-padded to it


def digit_classifier(decay_steps: int = 25 * 85) -> ember.Model:
    """The CNN on log-mel features; the learning rate follows a cosine from 3e-3 to 0 over `decay_steps`."""
    model = ember.Sequential([
        layers.Input((SAMPLES,)),
        layers.MelSpectrogram(fft_length=256, sequence_stride=128, sampling_rate=8000, num_mel_bins=40),
        layers.Reshape((40, 63, 1)),                    # 40 mel bins x 63 frames 16 ms apart, in dB
        layers.LayerNormalization(axis=[1, 2, 3]),      # each clip to zero mean, unit variance
        layers.FrequencyMasking(6, seed=0, axis=1),
        layers.TimeMasking(8, seed=1, axis=2),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=0.9),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=0.9),
        layers.MaxPooling2D(2),
        layers.Conv2D(96, 3, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=0.9),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    schedule = ember.optimizers.schedules.CosineDecay(3e-3, decay_steps)
    model.compile(optimizer=ember.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_and_test(split: str, epochs: int, seed: int, verbose: int = 0) -> float:
    ember.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = spoken_digits.load_data(split, sequence_length=SAMPLES)
    model = digit_classifier(decay_steps=epochs * -(-len(x_train) // 32))
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose,
              validation_data=(x_test, y_test) if verbose else None)
    return float(model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"])


def main(epochs: int = 25, seed: int = 0, splits: tuple[str, ...] = ("official", "speaker")) -> dict[str, float]:
    results = {}
    for split in splits:
        results[split] = train_and_test(split, epochs, seed)
        held_out = "recordings 0-4 of every speaker" if split == "official" else "speaker 'theo', never heard"
        print(f"{split:9s} split ({held_out}): test accuracy {results[split]:.4f}  ({epochs} epochs, seed {seed})")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    main(arguments.epochs, arguments.seed)
