"""Images from disk: a folder (or .tar/.tar.gz archive) with one sub-folder per class.

`image_folder` decodes with Pillow on several threads and caches the decoded arrays (`.npz`, no
pickle), so a second call is fast. Nothing in an image file is executed.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ember.data.folders import FolderDataset, class_folder_items, folder_dataset

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


class ImageFileError(ValueError):
    """An image file could not be decoded."""


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
    items = class_folder_items(path, IMAGE_SUFFIXES)
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


ImageDataset = FolderDataset  # the name earlier releases exported


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
    return folder_dataset(images, integer_labels, names, labels, label_mode, class_names, batch_size, shuffle, seed,
                          validation_split, subset)
