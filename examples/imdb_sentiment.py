"""The tutorials' sentiment models on IMDB reviews: Tokenizer + pad_sequences + Embedding + an RNN.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/imdb_sentiment.py [simple_rnn|lstm|bilstm]

The reviews are raw text (`ember.datasets.imdb.load_text()`); the Tokenizer keeps the 10,000 most
frequent words, `pad_sequences` cuts or pads each review to its last 200 words, and
`Embedding(mask_zero=True)` tells the recurrent layer which steps are padding.
"""

from __future__ import annotations

import sys
import time

import ember
from ember import layers
from ember.preprocessing.sequence import pad_sequences
from ember.preprocessing.text import Tokenizer

VOCABULARY, LENGTH = 10_000, 200


def recurrent_layers(kind: str) -> list:
    """The recurrent part of each model (the bidirectional one is Keras's IMDB example: two stacked layers)."""
    return {"simple_rnn": lambda: [layers.SimpleRNN(32)],
            "lstm": lambda: [layers.LSTM(64)],
            "bilstm": lambda: [layers.Bidirectional(layers.LSTM(64, return_sequences=True)),
                               layers.Bidirectional(layers.LSTM(64))]}[kind]()


def main(kind: str = "lstm", epochs: int = 3, verbose: int | str = "auto") -> float:
    ember.utils.set_random_seed(1)
    (train_texts, y_train), (test_texts, y_test) = ember.datasets.imdb.load_text()
    tokenizer = Tokenizer(num_words=VOCABULARY, oov_token="<unk>")
    tokenizer.fit_on_texts(train_texts)
    x_train = pad_sequences(tokenizer.texts_to_sequences(train_texts), maxlen=LENGTH)
    x_test = pad_sequences(tokenizer.texts_to_sequences(test_texts), maxlen=LENGTH)

    model = ember.Sequential([
        layers.Embedding(VOCABULARY, 128 if kind == "bilstm" else 64, mask_zero=True),
        *recurrent_layers(kind),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_split=0.1, verbose=verbose,
              callbacks=[ember.callbacks.EarlyStopping(monitor="val_accuracy", patience=1,
                                                       restore_best_weights=True)])
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"IMDB {kind}: test accuracy {accuracy:.4f} (loss {loss:.4f}), {seconds:.0f} s of training")
    return accuracy


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["lstm"]))
