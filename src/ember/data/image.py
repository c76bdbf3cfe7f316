"""Images from disk: a folder (or .tar/.tar.gz archive) with one sub-folder per class.

`image_folder` decodes with Pillow on several threads and caches the decoded arrays (`.npz`, no
pickle), so a second call is fast. Nothing in an image file is executed.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


class ImageFileError(ValueError):
    """An image file could not be decoded."""


def _collect(path: Path) -> list[tuple[str, str, bytes | Path]]:
    """(class name, file name, bytes or path) for every image, from a folder or an archive."""
    if path.is_dir():
        return [(file.parent.name, file.name, file) for file in sorted(path.glob("*/*"))
                if file.suffix.lower() in IMAGE_SUFFIXES]
    if path.is_file() and tarfile.is_tarfile(path):
        items = []
        with tarfile.open(path) as archive:
            for member in archive:
                parts = Path(member.name).parts
                if member.isfile() and len(parts) >= 2 and Path(member.name).suffix.lower() in IMAGE_SUFFIXES:
                    items.append((parts[-2], parts[-1], archive.extractfile(member).read()))
        return items
    raise FileNotFoundError(f"{path} is neither a folder of class folders nor a .tar/.tar.gz archive of one.")


def _decode(source: bytes | Path, image_size: tuple[int, int] | None, color_mode: str) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        image = image.convert({"rgb": "RGB", "grayscale": "L", "rgba": "RGBA"}[color_mode])
        if image_size is not None and image.size != (image_size[1], image_size[0]):
            image = image.resize((image_size[1], image_size[0]), Image.BILINEAR)
        array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def image_folder(path: str | os.PathLike, image_size: tuple[int, int] | None = None, color_mode: str = "rgb",
                 on_error: str = "raise", cache: bool = True,
                 workers: int | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`(images, labels, class_names)` from a folder, or a .tar/.tar.gz, with one folder per class.

    Args:
        image_size: (height, width) to resize to; None keeps the size (all images must share it).
        color_mode: "rgb", "grayscale" or "rgba".
        on_error: "raise" (default) or "skip" a corrupt or truncated image (skips are warned about, by path).
        cache: keep the decoded arrays under `~/.ember/datasets/images/` for the next call.
    Returns uint8 images `(N, height, width, channels)`, int64 labels in sorted class-name order, and
    the class names.
    """
    path = Path(path)
    if color_mode not in ("rgb", "grayscale", "rgba"):
        raise ValueError(f"color_mode must be 'rgb', 'grayscale' or 'rgba'; got {color_mode!r}.")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}.")
    cache_file = _cache_file(path, image_size, color_mode) if cache else None
    if cache_file is not None and cache_file.exists():
        with np.load(cache_file, allow_pickle=False) as data:
            return data["images"], data["labels"], [str(name) for name in data["class_names"]]
    items = sorted(_collect(path), key=lambda item: (item[0], item[1]))
    if not items:
        raise FileNotFoundError(f"No images found in {path} (expected class folders of .jpg/.png files).")
    class_names = sorted({class_name for class_name, _, _ in items})

    def decode(item: tuple[str, str, Any]) -> np.ndarray | None:
        class_name, name, source = item
        try:
            return _decode(source, image_size, color_mode)
        except Exception as error:  # Pillow raises many kinds for damaged files
            if on_error == "raise":
                raise ImageFileError(f"Cannot decode image {path / class_name / name}: {error}. Pass "
                                     "on_error='skip' to leave damaged images out.") from None
            warnings.warn(f"Skipping damaged image {path / class_name / name}: {error}", RuntimeWarning, stacklevel=3)
            return None

    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        decoded = list(pool.map(decode, items, chunksize=256))
    kept = [(array, class_names.index(item[0])) for array, item in zip(decoded, items) if array is not None]
    shapes = {array.shape for array, _ in kept}
    if len(shapes) > 1:
        raise ValueError(f"Images in {path} have different sizes ({sorted(shapes)[:4]}...); pass image_size=(h, w).")
    images = np.stack([array for array, _ in kept])
    labels = np.array([label for _, label in kept], dtype=np.int64)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_suffix(".tmp.npz")
        np.savez(temporary, images=images, labels=labels, class_names=np.array(class_names))
        os.replace(temporary, cache_file)
    return images, labels, class_names


def _cache_file(path: Path, image_size: Any, color_mode: str) -> Path:
    from ember.datasets._files import cache_dir  # datasets reads images through this module

    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{image_size}|{color_mode}"
    return cache_dir() / "images" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"


class ImageDataset:
    """Batches `(images, labels)` of float32 images and labels, with `class_names` (Keras's form)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None, class_names: list[str], batch_size: int | None,
                 shuffle: bool, seed: int | None) -> None:
        self.images, self.labels, self.class_names = images, labels, class_names
        self.batch_size = batch_size or len(images)
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)

    def __len__(self) -> int:
        return (len(self.images) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        order = self.rng.permutation(len(self.images)) if self.shuffle else np.arange(len(self.images))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self.images[rows].astype(np.float32)
            yield batch if self.labels is None else (batch, self.labels[rows])


def image_dataset_from_directory(directory: str | os.PathLike, labels: str | None = "inferred",
                                 label_mode: str | None = "int", class_names: list[str] | None = None,
                                 color_mode: str = "rgb", batch_size: int | None = 32,
                                 image_size: tuple[int, int] = (256, 256), shuffle: bool = True,
                                 seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, **kwargs: Any) -> Any:
    """Keras's batched dataset of a class-folder directory (or archive), for `fit`.

    label_mode: "int", "categorical" (one-hot), "binary" (two classes, float) or None (images only).
    With `validation_split`, `subset` is "training", "validation" or "both" (a pair of datasets);
    the files are shuffled with `seed` first and the validation part is the last fraction.
    """
    images, integer_labels, names = image_folder(directory, image_size=tuple(image_size), color_mode=color_mode)
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
        return ImageDataset(images, encoded, names, batch_size, shuffle, seed)
    if subset not in ("training", "validation", "both") or seed is None and shuffle:
        raise ValueError("With validation_split, pass subset='training', 'validation' or 'both', and a seed so "
                         "that both subsets come from the same shuffle.")
    order = np.random.default_rng(seed).permutation(len(images))
    cut = len(order) - int(len(order) * validation_split)
    parts = {"training": order[:cut], "validation": order[cut:]}
    made = {name: ImageDataset(images[rows], None if encoded is None else encoded[rows], names, batch_size,
                               shuffle and name == "training", seed) for name, rows in parts.items()}
    return (made["training"], made["validation"]) if subset == "both" else made[subset]
