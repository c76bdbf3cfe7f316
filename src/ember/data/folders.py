"""Class-folder datasets, shared by images and audio: finding the files of a folder of class
folders (or a .tar/.tar.gz of one), encoding their labels Keras's ways, and the batched
`FolderDataset` with its validation split."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import numpy as np


def class_folder_items(path: Path, suffixes: tuple[str, ...]) -> list[tuple[str, str, bytes | Path]]:
    """(class name, file name, bytes or path) for every file with one of `suffixes`, from a folder
    of class folders or an archive of one, sorted by class then file name."""
    if path.is_dir():
        items = [(file.parent.name, file.name, file) for file in sorted(path.glob("*/*"))
                 if file.suffix.lower() in suffixes]
    elif path.is_file() and tarfile.is_tarfile(path):
        items = []
        with tarfile.open(path) as archive:
            for member in archive:
                parts = Path(member.name).parts
                if member.isfile() and len(parts) >= 2 and Path(member.name).suffix.lower() in suffixes:
                    items.append((parts[-2], parts[-1], archive.extractfile(member).read()))
    else:
        raise FileNotFoundError(f"{path} is neither a folder of class folders nor a .tar/.tar.gz archive of one.")
    return sorted(items, key=lambda item: (item[0], item[1]))


class FolderDataset:
    """Batches `(samples, labels)` of float32 samples and labels, with `class_names` (Keras's form)."""

    def __init__(self, samples: np.ndarray, labels: np.ndarray | None, class_names: list[str], batch_size: int | None,
                 shuffle: bool, seed: int | None) -> None:
        self.samples, self.labels, self.class_names = samples, labels, class_names
        self.batch_size = batch_size or len(samples)
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)

    @property
    def images(self) -> np.ndarray:
        return self.samples

    def __len__(self) -> int:
        return (len(self.samples) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        order = self.rng.permutation(len(self.samples)) if self.shuffle else np.arange(len(self.samples))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self.samples[rows].astype(np.float32)
            yield batch if self.labels is None else (batch, self.labels[rows])


def folder_dataset(samples: np.ndarray, integer_labels: np.ndarray, names: list[str], labels: str | None,
                   label_mode: str | None, class_names: list[str] | None, batch_size: int | None, shuffle: bool,
                   seed: int | None, validation_split: float | None, subset: str | None) -> Any:
    """The `*_dataset_from_directory` result: labels encoded by `label_mode` ("int", "categorical",
    "binary", None), split into subsets when `validation_split` is given."""
    if class_names is not None:
        if sorted(class_names) != sorted(names):
            raise ValueError(f"class_names {class_names} do not match the folders {names}.")
        integer_labels = np.array([class_names.index(names[i]) for i in integer_labels])
        names = list(class_names)
    if label_mode not in ("int", "categorical", "binary", None) or labels not in ("inferred", None):
        raise ValueError("label_mode must be 'int', 'categorical', 'binary' or None, and labels 'inferred' or None.")
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes; found {len(names)}: {names}.")
    encoded: np.ndarray | None = {
        "int": integer_labels, "binary": integer_labels.astype(np.float32),
        "categorical": np.eye(len(names), dtype=np.float32)[integer_labels], None: None}[label_mode if labels else None]
    if validation_split is None:
        return FolderDataset(samples, encoded, names, batch_size, shuffle, seed)
    if subset not in ("training", "validation", "both") or seed is None and shuffle:
        raise ValueError("With validation_split, pass subset='training', 'validation' or 'both', and a seed so "
                         "that both subsets come from the same shuffle.")
    order = np.random.default_rng(seed).permutation(len(samples))
    cut = len(order) - int(len(order) * validation_split)
    parts = {"training": order[:cut], "validation": order[cut:]}
    made = {name: FolderDataset(samples[rows], None if encoded is None else encoded[rows], names, batch_size,
                                shuffle and name == "training", seed) for name, rows in parts.items()}
    return (made["training"], made["validation"]) if subset == "both" else made[subset]
