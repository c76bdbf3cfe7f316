"""A character-level LSTM that writes like Tiny Shakespeare, sampled with a temperature.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/shakespeare_char_lstm.py

The text is cut into 100-character windows; the model reads each window and predicts, at every
position, the next character (an LSTM with return_sequences=True, then Dense over the last axis).
Generation feeds its own samples back, one character at a time; low temperatures pick likely
characters, high ones take more risks.
"""

from __future__ import annotations

import os

import numpy as np
import torch

import ember
from ember import layers

WINDOW = 100


def load_text() -> str:
    folder = os.environ.get("EMBER_DATA_DIR", "")
    path = os.path.join(folder, "tinyshakespeare", "input.txt")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Tiny Shakespeare not found at {path}; set EMBER_DATA_DIR to the datasets folder.")
    with open(path, encoding="utf-8") as file:
        return file.read()


def windows(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): consecutive windows of the text and the same windows shifted by one character."""
    count = (len(part) - 1) // WINDOW
    return part[:count * WINDOW].reshape(count, WINDOW), part[1:count * WINDOW + 1].reshape(count, WINDOW)


def generate(model: ember.Model, characters: list[str], prompt: str, length: int = 300,
             temperature: float = 0.8, seed: int = 0) -> str:
    """Continues `prompt` for `length` characters, sampling each from softmax(logits / temperature)."""
    index = {c: i for i, c in enumerate(characters)}
    ids = [index[c] for c in prompt]
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    with torch.no_grad():
        for _ in range(length):
            context = torch.tensor([ids[-WINDOW:]])
            logits = model(context)[0, -1] / max(temperature, 1e-6)
            ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)))
    return "".join(characters[i] for i in ids)


def main(epochs: int = 2, steps_per_epoch: int | None = 400, verbose: int | str = "auto") -> tuple[float, str]:
    ember.utils.set_random_seed(0)
    text = load_text()
    characters = sorted(set(text))
    encoded = np.searchsorted(characters, list(text)).astype(np.int64)
    cut = int(len(encoded) * 0.9)  # the usual 90/10 split of the text
    x_train, y_train = windows(encoded[:cut])
    x_val, y_val = windows(encoded[cut:])

    model = ember.Sequential([
        layers.Input((None,), dtype="int64"),
        layers.Embedding(len(characters), 64),
        layers.LSTM(256, return_sequences=True),
        layers.Dense(len(characters)),
    ])
    model.compile(optimizer=ember.optimizers.Adam(3e-3, clipnorm=1.0),
                  loss=ember.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, steps_per_epoch=steps_per_epoch,
              validation_data=(x_val, y_val), verbose=verbose)
    validation_loss = model.evaluate(x_val, y_val, verbose=0)
    print(f"validation loss {validation_loss:.3f} nats per character")
    for temperature in (0.5, 1.0):
        print(f"\n--- temperature {temperature} ---")
        print(generate(model, characters, "ROMEO:\n", length=300, temperature=temperature))
    return validation_loss, generate(model, characters, "ROMEO:\n", length=200, temperature=0.8)


if __name__ == "__main__":
    main()
