"""TextVectorization: strings -> token ids or bag-of-words vectors, with a vocabulary from `adapt`.

A preprocessing layer: call it on a list (or array) of strings before the model, or inside a
`tf.data`-free pipeline; it returns a tensor.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Sequence

import numpy as np
import torch

from ember._validation import require_choice
from ember.layers.base import Layer

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
PAD, OOV = "", "[UNK]"


class TextVectorization(Layer):
    """Standardizes, splits and indexes text.

    Args:
        max_tokens: the vocabulary's size, padding and "[UNK]" included (None: no limit).
        standardize: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation", None, or a callable.
        split: "whitespace" (default), "character", None, or a callable.
        output_mode: "int" (ids; 0 = padding, 1 = unknown), "multi_hot", "count" or "tf_idf".
        output_sequence_length: with "int", pad or cut every text to this many ids (at the end).
        vocabulary: a list of tokens to use instead of calling `adapt`.
    """

    def __init__(self, max_tokens: int | None = None, standardize: Any = "lower_and_strip_punctuation",
                 split: Any = "whitespace", ngrams: int | None = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if ngrams is not None:
            raise ValueError("TextVectorization: ngrams are not supported; pass ngrams=None.")
        self.output_mode = require_choice("output_mode", output_mode, ("int", "multi_hot", "count", "tf_idf"), self)
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 2):
            raise ValueError(f"TextVectorization: max_tokens must be an integer of at least 2; got {max_tokens!r}.")
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.output_sequence_length, self.pad_to_max_tokens = output_sequence_length, pad_to_max_tokens
        self._vocabulary: list[str] = []
        self._index: dict[str, int] = {}
        self._idf: np.ndarray | None = None
        self.built = True
        if vocabulary is not None:
            self.set_vocabulary(list(vocabulary))

    # ------------------------------------------------------------ text to tokens
    def _standardize(self, text: str) -> str:
        if callable(self.standardize):
            return self.standardize(text)
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.lower()
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = _PUNCTUATION.sub("", text)
        return text

    def _split(self, text: str) -> list[str]:
        if callable(self.split):
            return list(self.split(text))
        if self.split == "character":
            return list(text)
        if self.split is None:
            return [text]
        return text.split()

    def tokens(self, text: str) -> list[str]:
        return self._split(self._standardize(text))

    # ---------------------------------------------------------------- vocabulary
    def adapt(self, data: Sequence[str], batch_size: int | None = None, steps: int | None = None) -> None:
        """Builds the vocabulary (most frequent tokens first) and, for "tf_idf", the idf weights."""
        texts = _as_texts(data)
        counts, documents = Counter(), Counter()
        for text in texts:
            tokens = self.tokens(text)
            counts.update(tokens)
            documents.update(set(tokens))
        reserved = [PAD, OOV] if self.output_mode == "int" else [OOV]
        room = None if self.max_tokens is None else self.max_tokens - len(reserved)
        ranked = [t for t, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if t not in reserved]
        self.set_vocabulary(reserved + ranked[:room])
        if self.output_mode == "tf_idf":
            idf = [math.log(1 + len(texts) / (1 + documents.get(token, 0))) for token in self._vocabulary]
            self._idf = np.array(idf, dtype=np.float32)

    def set_vocabulary(self, vocabulary: list[str], idf_weights: Sequence[float] | None = None) -> None:
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("TextVectorization: the vocabulary has repeated tokens.")
        self._vocabulary = list(vocabulary)
        self._index = {token: index for index, token in enumerate(self._vocabulary)}
        if idf_weights is not None:
            self._idf = np.asarray(idf_weights, dtype=np.float32)

    def get_vocabulary(self) -> list[str]:
        return list(self._vocabulary)

    def vocabulary_size(self) -> int:
        return len(self._vocabulary)

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        if not self._vocabulary:
            raise ValueError(f"TextVectorization '{self.name}' has no vocabulary: call adapt(texts) first.")
        texts = _as_texts(inputs)
        unknown = self._index.get(OOV, 1)
        ids = [[self._index.get(token, unknown) for token in self.tokens(text)] for text in texts]
        if self.output_mode == "int":
            length = self.output_sequence_length or max((len(row) for row in ids), default=0)
            matrix = np.zeros((len(ids), length), dtype=np.int64)
            for row, values in enumerate(ids):
                values = values[:length]
                matrix[row, :len(values)] = values
            return torch.from_numpy(matrix)
        width = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else len(self._vocabulary)
        matrix = np.zeros((len(ids), width), dtype=np.float32)
        for row, values in enumerate(ids):
            for index, count in Counter(values).items():
                matrix[row, index] = 1.0 if self.output_mode == "multi_hot" else count
        if self.output_mode == "tf_idf":
            if self._idf is None:
                raise ValueError("TextVectorization: tf_idf needs idf weights; call adapt() first.")
            matrix[:, :len(self._idf)] *= self._idf
        return torch.from_numpy(matrix)

    def get_config(self) -> dict[str, Any]:
        for argument in ("standardize", "split"):
            if callable(getattr(self, argument)):
                raise TypeError(f"TextVectorization with a callable {argument} cannot be saved to a file.")
        return {**super().get_config(), "max_tokens": self.max_tokens, "standardize": self.standardize,
                "split": self.split, "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": self.get_vocabulary()}


def _as_texts(data: Any) -> list[str]:
    if isinstance(data, str):
        raise TypeError("TextVectorization takes a list of texts; got one string. Wrap it: [text].")
    texts = [t.decode() if isinstance(t, bytes) else t for t in np.asarray(data, dtype=object).reshape(-1)]
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("TextVectorization takes strings.")
    return texts
