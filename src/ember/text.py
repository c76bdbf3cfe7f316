"""Text preprocessing the tutorials use: the classic Keras `Tokenizer` and `pad_sequences`.

`Tokenizer` behaves like `keras.preprocessing.text.Tokenizer` (the Keras 2 class that sentiment
tutorials build on): the same word order, indices, out-of-vocabulary handling and matrix modes.
It saves to JSON (`to_json` / `tokenizer_from_json`), never to pickle.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from typing import Any, Iterable, Sequence

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text: str, filters: str = DEFAULT_FILTERS, lower: bool = True, split: str = " ") -> list[str]:
    """Splits a text into words after lower-casing it and replacing `filters` characters by `split`."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({character: split for character in filters}))
    return [word for word in text.split(split) if word]


class Tokenizer:
    """Maps words to integer ids by frequency (1 = most frequent; 0 is left for padding).

    Args:
        num_words: keep only the `num_words - 1` most frequent words when converting texts.
        filters: characters removed from texts. lower: lower-case texts first. split: word separator.
        char_level: treat every character as a token.
        oov_token: a token (given id 1) that stands for words not in the vocabulary.
    """

    def __init__(self, num_words: int | None = None, filters: str = DEFAULT_FILTERS, lower: bool = True,
                 split: str = " ", char_level: bool = False, oov_token: str | None = None,
                 document_count: int = 0, **kwargs: Any) -> None:
        if kwargs.pop("analyzer", None) is not None or kwargs:
            raise TypeError(f"Tokenizer() got unsupported arguments {sorted(kwargs) or ['analyzer']}.")
        if num_words is not None and (not isinstance(num_words, int) or num_words < 1):
            raise ValueError(f"Tokenizer: num_words must be a positive integer or None; got {num_words!r}.")
        self.num_words, self.filters, self.lower, self.split = num_words, filters, lower, split
        self.char_level, self.oov_token, self.document_count = char_level, oov_token, document_count
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def _words(self, text: str | list[str]) -> list[str]:
        if self.char_level or isinstance(text, list):
            if self.lower:
                return [t.lower() for t in text] if isinstance(text, list) else list(text.lower())
            return list(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str | list[str]]) -> None:
        """Counts the words of `texts` and (re)builds `word_index`, most frequent first."""
        if isinstance(texts, str):
            raise TypeError("fit_on_texts needs a list of texts; got one string. Wrap it: fit_on_texts([text]).")
        for text in texts:
            self.document_count += 1
            words = self._words(text)
            for word in words:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(words):
                self.word_docs[word] += 1
        ordered = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # stable: ties keep order
        vocabulary = ([self.oov_token] if self.oov_token is not None else []) + [w for w, _ in ordered]
        self.word_index = {word: index for index, word in enumerate(vocabulary, start=1)}
        self.index_word = {index: word for word, index in self.word_index.items()}
        self.index_docs = defaultdict(int, {self.word_index[w]: c for w, c in self.word_docs.items()})

    def fit_on_sequences(self, sequences: Iterable[list[int]]) -> None:
        """Counts, per id, how many sequences hold it (used by the "tfidf" matrix mode)."""
        for sequence in sequences:
            self.document_count += 1
            for index in set(sequence):
                self.index_docs[index] += 1

    def _oov_index(self) -> int | None:
        return self.word_index.get(self.oov_token) if self.oov_token is not None else None

    def texts_to_sequences(self, texts: Iterable[str | list[str]]) -> list[list[int]]:
        """Each text as a list of word ids; unknown (or too rare) words become the oov id or are dropped."""
        if isinstance(texts, str):
            raise TypeError("texts_to_sequences needs a list of texts; got one string.")
        oov = self._oov_index()
        sequences = []
        for text in texts:
            ids = []
            for word in self._words(text):
                index = self.word_index.get(word)
                if index is not None and not (self.num_words and index >= self.num_words):
                    ids.append(index)
                elif oov is not None:
                    ids.append(oov)
            sequences.append(ids)
        return sequences

    def sequences_to_texts(self, sequences: Iterable[list[int]]) -> list[str]:
        """The reverse of `texts_to_sequences` (words joined by spaces)."""
        oov = self._oov_index()
        texts = []
        for sequence in sequences:
            words = []
            for index in sequence:
                word = self.index_word.get(int(index))
                if word is not None and not (self.num_words and index >= self.num_words):
                    words.append(word)
                elif oov is not None:
                    words.append(self.index_word[oov])
            texts.append(" ".join(words))
        return texts

    def texts_to_matrix(self, texts: Iterable[str], mode: str = "binary") -> np.ndarray:
        """A (texts, num_words) matrix in mode "binary", "count", "tfidf" or "freq"."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode)

    def sequences_to_matrix(self, sequences: list[list[int]], mode: str = "binary") -> np.ndarray:
        if mode not in ("binary", "count", "tfidf", "freq"):
            raise ValueError(f"mode must be 'binary', 'count', 'tfidf' or 'freq'; got {mode!r}.")
        width = self.num_words or (len(self.word_index) + 1)
        if not width or width == 1 and not self.word_index:
            raise ValueError("The Tokenizer has no vocabulary: call fit_on_texts first or set num_words.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("mode='tfidf' needs document counts: call fit_on_texts or fit_on_sequences first.")
        matrix = np.zeros((len(sequences), width))
        for row, sequence in enumerate(sequences):
            counts: dict[int, int] = defaultdict(int)
            for index in sequence:
                if index < width:
                    counts[index] += 1
            for index, count in counts.items():
                if mode == "count":
                    matrix[row, index] = count
                elif mode == "freq":
                    matrix[row, index] = count / len(sequence)
                elif mode == "binary":
                    matrix[row, index] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(index, 0)))
                    matrix[row, index] = (1 + np.log(count)) * idf
        return matrix

    def get_config(self) -> dict[str, Any]:
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs: Any) -> str:
        """The tokenizer (settings and vocabulary) as a JSON string."""
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """Rebuilds a Tokenizer from `Tokenizer.to_json()` (plain data; nothing is executed)."""
    try:
        document = json.loads(json_string)
        config = dict(document["config"])
        tables = {key: json.loads(config.pop(key)) for key in
                  ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"Not a Tokenizer JSON document ({error}).") from None
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(tables["word_counts"])
    tokenizer.word_docs = defaultdict(int, tables["word_docs"])
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in tables["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in tables["index_word"].items()}
    tokenizer.word_index = dict(tables["word_index"])
    return tokenizer


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


__all__ = ["Tokenizer", "tokenizer_from_json", "text_to_word_sequence", "pad_sequences"]
