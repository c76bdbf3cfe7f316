"""`pad_sequences`: lists of token ids of different lengths -> one (samples, maxlen) array."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def pad_sequences(sequences: Sequence[Sequence[Any]], maxlen: int | None = None, dtype: str = "int32",
                  padding: str = "pre", truncating: str = "pre", value: float = 0.0) -> np.ndarray:
    """Pads (or cuts) every sequence to `maxlen` (default: the longest), as Keras does.

    Args:
        padding: "pre" puts the padding before the sequence, "post" after it.
        truncating: "pre" drops values from the start of long sequences, "post" from the end.
        value: the padding value.
    Returns: an array `(len(sequences), maxlen)`.
    """
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding and truncating must be 'pre' or 'post'; got {padding!r}, {truncating!r}.")
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences needs a list of sequences.")
    lengths = []
    for index, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError(f"pad_sequences: sequence {index} is {sequence!r}, not a list of values.")
        lengths.append(len(sequence))
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    sample_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    result = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence) or maxlen == 0:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if padding == "post":
            result[index, :len(kept)] = kept
        else:
            result[index, maxlen - len(kept):] = kept
    return result
