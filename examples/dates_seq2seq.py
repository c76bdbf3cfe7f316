"""Sequence-to-sequence with the encoder-decoder `layers.Transformer`: dates written in words to ISO.

The example generates its own data (it says so: nothing is downloaded): random dates from 1900 to
2099 written as "march 5th, 1987", "5 march 1987" or "the 5th of march 1987", to be translated into
"1987-03-05". Characters are the tokens. Training uses teacher forcing; the test decodes greedily,
one character at a time, and reports exact-match accuracy on held-out dates.

Run: .venv/bin/python examples/dates_seq2seq.py
"""

from __future__ import annotations

import datetime

import numpy as np
import torch

import ember
from ember import layers

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
SOURCE_CHARACTERS = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789 ,"))
TARGET_CHARACTERS = list("0123456789-")
START, END = len(TARGET_CHARACTERS) + 1, len(TARGET_CHARACTERS) + 2  # 0 is padding
SOURCE_LENGTH, TARGET_LENGTH = 24, 11  # ISO dates are 10 characters, plus the end token


def ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def make_dates(count: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    start = datetime.date(1900, 1, 1).toordinal()
    sources, targets = [], []
    for offset in rng.integers(0, 200 * 365, size=count):
        date = datetime.date.fromordinal(int(start + offset))
        month = MONTHS[date.month - 1]
        style = rng.integers(3)
        text = (f"{month} {ordinal(date.day)}, {date.year}" if style == 0 else
                f"{date.day} {month} {date.year}" if style == 1 else f"the {ordinal(date.day)} of {month} {date.year}")
        sources.append(text)
        targets.append(date.isoformat())
    return sources, targets


def encode_sources(texts: list[str]) -> np.ndarray:
    ids = np.zeros((len(texts), SOURCE_LENGTH), dtype=np.int64)
    for row, text in enumerate(texts):
        for column, character in enumerate(text[:SOURCE_LENGTH]):
            ids[row, column] = SOURCE_CHARACTERS.index(character) + 1
    return ids


def encode_targets(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(decoder inputs: START + text, decoder targets: text + END)."""
    ids = np.array([[TARGET_CHARACTERS.index(c) + 1 for c in text] for text in texts], dtype=np.int64)
    starts, ends = np.full((len(texts), 1), START), np.full((len(texts), 1), END)
    return np.concatenate([starts, ids], axis=1), np.concatenate([ids, ends], axis=1)


def build_model() -> ember.Model:
    source, target = ember.Input((SOURCE_LENGTH,), dtype="int64"), ember.Input((None,), dtype="int64")
    encoded = layers.Embedding(len(SOURCE_CHARACTERS) + 1, 64)(source)
    decoded = layers.Embedding(END + 1, 64)(target)
    hidden = layers.Transformer(num_heads=4, d_model=64, num_layers=2, intermediate_dim=128)([encoded, decoded])
    model = ember.Model([source, target], layers.Dense(END + 1)(hidden))
    model.compile(ember.optimizers.Adam(1e-3), ember.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def translate(model: ember.Model, sources: np.ndarray) -> list[str]:
    """Greedy decoding: each step feeds back the most likely character so far."""
    decoded = np.full((len(sources), 1), START, dtype=np.int64)
    for _ in range(TARGET_LENGTH - 1):
        logits = model.predict([sources, decoded], batch_size=256, verbose=0)
        decoded = np.concatenate([decoded, logits[:, -1].argmax(-1)[:, None]], axis=1)
    return ["".join(TARGET_CHARACTERS[i - 1] if 1 <= i <= len(TARGET_CHARACTERS) else "" for i in row[1:])
            for row in decoded]


def main(train_size: int = 12_000, epochs: int = 12, verbose: int | str = "auto") -> float:
    ember.utils.set_random_seed(0)
    torch.manual_seed(0)
    train_text, train_iso = make_dates(train_size, seed=1)
    test_text, test_iso = make_dates(1000, seed=2)
    decoder_in, decoder_out = encode_targets(train_iso)
    model = build_model()
    model.fit([encode_sources(train_text), decoder_in], decoder_out, epochs=epochs, batch_size=64, verbose=verbose)
    predictions = translate(model, encode_sources(test_text))
    accuracy = float(np.mean([p == t for p, t in zip(predictions, test_iso)]))
    for text, predicted in list(zip(test_text, predictions))[:5]:
        print(f"{text!r:>32} -> {predicted}")
    print(f"exact-match accuracy on 1,000 held-out dates: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
