"""IMDB movie reviews (Maas et al. 2011): 25,000 training and 25,000 test reviews, positive or negative.

Read from the original `aclImdb` folder layout inside a .tar.gz (the labelled archive in
`EMBER_DATA_DIR/imdb/`, or the official `aclImdb_v1.tar.gz`, downloaded and checked). Reviews are
tokenized (lower case, `<br />` removed, words of letters, digits and apostrophes) and words are
ranked by frequency in the training set, as Keras's `imdb` module presents them. The tokenized
form is cached as plain arrays (`.npz`, no pickle) next to the archive's cache.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np

from ember.datasets._files import DatasetFileError, cache_dir, locate

LABELLED = ("aclImdb_labelled.tar.gz", "76c7c327bc1f6fb96c859b0d179dede4643bb2d51a60bb35868291c2d470d80e")
OFFICIAL = ("aclImdb_v1.tar.gz", "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
            "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_PATH = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
CACHE_VERSION = 1


def tokenize(text: str) -> list[str]:
    """Lower-cased words of a review, HTML line breaks removed."""
    return _WORD.findall(text.lower().replace("<br />", " "))


def _archive() -> Path:
    try:
        return locate("imdb", LABELLED[0], [], LABELLED[1])
    except DatasetFileError:
        return locate("imdb", OFFICIAL[0], [OFFICIAL[2]], OFFICIAL[1])


def load_text(seed: int | None = 113) -> tuple[tuple[list[str], np.ndarray], tuple[list[str], np.ndarray]]:
    """`(train_texts, train_labels), (test_texts, test_labels)`: raw review strings, labels 1 = positive.

    Each split is shuffled with `seed` (as `load_data` does), so that `validation_split`, which
    takes the last samples, sees both classes; `seed=None` keeps the archive's order (by label, id).
    """
    splits: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    with tarfile.open(_archive()) as archive:
        for member in archive:
            match = _PATH.search(member.name)
            if member.isfile() and match:
                split, sentiment, review_id, _ = match.groups()
                text = archive.extractfile(member).read().decode("utf-8", errors="replace")
                splits[split].append((sentiment == "pos", int(review_id), text))
    result = []
    for split in ("train", "test"):
        rows = sorted(splits[split])
        if len(rows) != 25000:
            raise DatasetFileError(f"The IMDB archive's {split} split has {len(rows)} labelled reviews; "
                                   "expected 25000.")
        if seed is not None:
            rows = [rows[i] for i in np.random.RandomState(seed).permutation(len(rows))]
        result.append(([text for _, _, text in rows], np.array([int(label) for label, _, _ in rows])))
    return result[0], result[1]


def _tokenized() -> dict:
    """Word ranks and every review as rank ids (1 = most frequent training word), cached."""
    cache = cache_dir() / "imdb" / f"tokens_v{CACHE_VERSION}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        arrays["words"] = json.loads(str(arrays["words"]))
        return arrays
    (train_texts, train_labels), (test_texts, test_labels) = load_text(seed=None)
    train_tokens = [tokenize(t) for t in train_texts]
    test_tokens = [tokenize(t) for t in test_texts]
    counts = Counter(word for tokens in train_tokens for word in tokens)
    words = [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    rank = {word: index + 1 for index, word in enumerate(words)}
    unknown = len(words) + 1  # test words never seen in training
    arrays = {"words": words}
    for split, tokens, labels in (("train", train_tokens, train_labels), ("test", test_tokens, test_labels)):
        arrays[f"{split}_ids"] = np.array([rank.get(w, unknown) for t in tokens for w in t], dtype=np.int32)
        arrays[f"{split}_lengths"] = np.array([len(t) for t in tokens], dtype=np.int64)
        arrays[f"{split}_labels"] = labels
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **{k: (json.dumps(v) if k == "words" else v) for k, v in arrays.items()})
    return arrays


def get_word_index() -> dict[str, int]:
    """word -> frequency rank (1 = most frequent). In `load_data`'s ids a word is rank + index_from."""
    return {word: index + 1 for index, word in enumerate(_tokenized()["words"])}


def load_data(path: str | None = None, num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None,
              seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2,
              index_from: int = 3) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)` with Keras's arguments and conventions.

    Each review is a list of ids: `start_char`, then each word's frequency rank plus `index_from`;
    words ranked `num_words` or beyond (or below `skip_top`) become `oov_char` (or are dropped when
    it is None). `maxlen` drops longer reviews. Both splits are shuffled with `seed`.
    Returns object arrays of lists (pad them with `pad_sequences`) and int64 labels.
    """
    data = _tokenized()
    result = []
    for split in ("train", "test"):
        offsets = np.concatenate([[0], np.cumsum(data[f"{split}_lengths"])])
        ids = data[f"{split}_ids"].astype(np.int64) + index_from
        sequences = [ids[offsets[i]:offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]
        labels = data[f"{split}_labels"].astype(np.int64)
        order = np.random.RandomState(seed).permutation(len(sequences))
        sequences, labels = [sequences[i] for i in order], labels[order]
        if start_char is not None:
            sequences = [[start_char] + s for s in sequences]
        if maxlen:
            kept = [i for i, s in enumerate(sequences) if len(s) < maxlen]
            sequences, labels = [sequences[i] for i in kept], labels[kept]
        result.append((sequences, labels))
    limit = num_words or max(max(s) for part, _ in result for s in part if s)
    output = []
    for sequences, labels in result:
        if oov_char is not None:
            sequences = [[w if skip_top <= w < limit else oov_char for w in s] for s in sequences]
        else:
            sequences = [[w for w in s if skip_top <= w < limit] for s in sequences]
        array = np.empty(len(sequences), dtype=object)
        array[:] = sequences
        output.append((array, labels))
    return output[0], output[1]
