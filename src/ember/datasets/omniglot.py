"""Omniglot (Lake, Salakhutdinov & Tenenbaum 2015): handwritten characters of 50 alphabets, 20
drawers each, for few-shot learning.

`load_data(split)` returns `(images, labels, character_names)`: float32 images `(N, size, size, 1)`
in [0, 1] with the ink as 1 (the 105 x 105 originals have black strokes on white; they are
inverted and resized with area averaging, as the few-shot papers use them at 28 x 28), int64
character ids, and "Alphabet/characterNN" names. `rotations=True` adds each character turned by
90, 180 and 270 degrees as three new characters (the papers' way of growing the class count).

Splits: "background_small1" (5 alphabets, 136 characters), "background_small2" (5 alphabets, 156
characters), both in `EMBER_DATA_DIR/omniglot`; "background" (30 alphabets, 964 characters) and
"evaluation" (20 alphabets, 659 characters) are downloaded from the dataset's repository when
online, checked by MD5. `one_shot_runs()` gives Lake et al.'s 20 runs of 20-way 1-shot
classification (their human error rate: 4.5%).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

import numpy as np

from ember.datasets._files import locate

_REPOSITORY = "https://github.com/brendenlake/omniglot/raw/master/python/"
ARCHIVES = {  # split: (file, checksum, url)
    "background_small1": ("images_background_small1.zip",
                          "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4",
                          _REPOSITORY + "images_background_small1.zip"),
    "background_small2": ("images_background_small2.zip",
                          "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f",
                          _REPOSITORY + "images_background_small2.zip"),
    "background": ("images_background.zip", "md5:68d2efa1b9178cc56df9314c21c6e718",
                   _REPOSITORY + "images_background.zip"),
    "evaluation": ("images_evaluation.zip", "md5:6b91aef0f799c5bb55b94e3f2daec811",
                   _REPOSITORY + "images_evaluation.zip"),
}
RUNS = ("all_runs.zip", "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325",
        _REPOSITORY + "one-shot-classification/all_runs.zip")
_CHARACTER_IMAGE = re.compile(r"([^/]+)/(character\d+)/[^/]+\.png$")


def _archive(entry: tuple[str, str, str]) -> zipfile.ZipFile:
    filename, checksum, url = entry
    return zipfile.ZipFile(locate("omniglot", filename, [url], checksum))


def decode(data: bytes, image_size: int) -> np.ndarray:
    """One PNG as float32 `(image_size, image_size)` in [0, 1], ink as 1."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        gray = image.convert("L")
        if gray.size != (image_size, image_size):
            gray = gray.resize((image_size, image_size), Image.BOX)
        return 1.0 - np.asarray(gray, dtype=np.float32) / 255.0


def load_data(split: str = "background_small1", image_size: int = 28,
              rotations: bool = False) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`(images (N, size, size, 1), labels (N,), character_names)`; see the module docstring."""
    if split not in ARCHIVES:
        raise ValueError(f"split must be one of {list(ARCHIVES)}; got {split!r}.")
    if not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer (28 in the few-shot papers); got {image_size!r}.")
    images, characters = [], []
    with _archive(ARCHIVES[split]) as archive:
        for name in sorted(archive.namelist()):
            match = _CHARACTER_IMAGE.search(name)
            if match:
                characters.append(f"{match.group(1)}/{match.group(2)}")
                images.append(decode(archive.read(name), image_size))
    names = sorted(set(characters))
    index = {name: i for i, name in enumerate(names)}
    x = np.stack(images)[..., None]
    y = np.array([index[name] for name in characters], dtype=np.int64)
    if rotations:
        x, y, names = with_rotations(x, y, names)
    return x, y, names


def with_rotations(images: np.ndarray, labels: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Each class again turned by 90, 180 and 270 degrees, as new classes (ids + k * classes)."""
    count = len(names)
    turned = [np.rot90(images, k, axes=(1, 2)) for k in range(4)]
    all_names = [f"{name}@{90 * k}" if k else name for k in range(4) for name in names]
    return np.concatenate(turned), np.concatenate([labels + k * count for k in range(4)]), all_names


def one_shot_runs(image_size: int = 28) -> list[dict[str, np.ndarray]]:
    """Lake et al.'s 20 runs: each `{"support": (20, s, s, 1), "support_labels": 0..19, "queries":
    (20, s, s, 1), "query_labels": (20,)}`, every query matching one support image's class."""
    runs = []
    with _archive(RUNS) as archive:
        for run in range(1, 21):
            folder = f"run{run:02d}"
            lines = archive.read(f"{folder}/class_labels.txt").decode().split()
            pairs = list(zip(lines[0::2], lines[1::2]))  # (test item, its training class)
            support_names = [f"{folder}/training/class{c:02d}.png" for c in range(1, 21)]
            support = np.stack([decode(archive.read(name), image_size) for name in support_names])[..., None]
            queries = np.stack([decode(archive.read(item), image_size) for item, _ in pairs])[..., None]
            labels = np.array([support_names.index(str(PurePosixPath(label))) for _, label in pairs], dtype=np.int64)
            runs.append({"support": support, "support_labels": np.arange(20, dtype=np.int64), "queries": queries,
                         "query_labels": labels})
    return runs
