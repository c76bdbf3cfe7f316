"""Text classification on IMDB with a Transformer: TokenAndPositionEmbedding -> TransformerEncoder ->
GlobalAveragePooling1D -> Dense (the layout of Keras's "text classification with Transformer" example).

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/imdb_transformer.py
"""

from __future__ import annotations

import time

import ember
from ember import layers
from ember.preprocessing.sequence import pad_sequences

VOCABULARY, LENGTH = 20_000, 200


def main(epochs: int = 2, verbose: int | str = "auto") -> float:
    ember.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = ember.datasets.imdb.load_data(num_words=VOCABULARY)
    x_train, x_test = pad_sequences(x_train, maxlen=LENGTH), pad_sequences(x_test, maxlen=LENGTH)
    model = ember.Sequential([
        layers.Input((LENGTH,), dtype="int64"),
        layers.TokenAndPositionEmbedding(VOCABULARY, LENGTH, 32, mask_zero=True),
        layers.TransformerEncoder(intermediate_dim=32, num_heads=2, dropout=0.1),
        layers.GlobalAveragePooling1D(),
        layers.Dropout(0.1),
        layers.Dense(20, activation="relu"),
        layers.Dropout(0.1),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"IMDB Transformer: test accuracy {accuracy:.4f} after {epochs} epochs ({seconds:.0f} s of training)")
    return accuracy


if __name__ == "__main__":
    main()
