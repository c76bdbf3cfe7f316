"""IMDB LSTM (Embedding 10k x 128, LSTM 128, reviews cut to 200 ids, batch 32): ember `fit` against
plain PyTorch nn.LSTM loops and Keras 3.

    EMBER_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/imdb_lstm.py [--samples 5000]

Each runner trains one warm-up epoch over `--samples` training reviews, then `--epochs` timed ones,
and reports samples per second and test accuracy on 5,000 test reviews (no padding mask anywhere,
so every runner does the same work).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

VOCABULARY, LENGTH = 10_000, 200


def add_arguments(parser) -> None:
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--samples", type=int, default=5000)


def load(args):
    import ember
    from ember.preprocessing.sequence import pad_sequences

    (x, y), (x_test, y_test) = ember.datasets.imdb.load_data(num_words=VOCABULARY)
    prepare = lambda part: pad_sequences(part, maxlen=LENGTH).astype("int64")  # noqa: E731
    samples = args.samples
    return prepare(x[:samples]), y[:samples].astype("float32"), prepare(x_test[:5000]), y_test[:5000].astype("float32")


def ember_model():
    import ember
    from ember import layers

    model = ember.Sequential([layers.Input((LENGTH,), dtype="int64"), layers.Embedding(VOCABULARY, 128),
                              layers.LSTM(128), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def torch_model():
    import torch

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCABULARY, 128)
            self.lstm = torch.nn.LSTM(128, 128, batch_first=True)
            self.output = torch.nn.Linear(128, 1)

        def forward(self, ids):
            _, (hidden, _) = self.lstm(self.embedding(ids))
            return self.output(hidden[-1])

    return Classifier()


def keras_model():
    import keras

    model = keras.Sequential([keras.Input((LENGTH,), dtype="int32"), keras.layers.Embedding(VOCABULARY, 128),
                              keras.layers.LSTM(128), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


RUNNERS = harness.runners(load, ember_model, torch_model, keras_model)

if __name__ == "__main__":
    harness.main("imdb_lstm", sys.modules[__name__], "IMDB LSTM (Embedding 10k x 128, LSTM 128, length 200), batch 32")
