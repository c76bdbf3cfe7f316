"""Image helpers with Keras's names: load_img, img_to_array, array_to_img, save_img, and a grid of
images with predicted and true labels."""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np


def load_img(path: str | os.PathLike, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "bilinear") -> Any:
    """A PIL image from a file, converted to `color_mode` and resized to `target_size` (height, width)."""
    from PIL import Image

    modes = {"rgb": "RGB", "grayscale": "L", "rgba": "RGBA"}
    if color_mode not in modes:
        raise ValueError(f"color_mode must be one of {list(modes)}; got {color_mode!r}.")
    with Image.open(path) as image:
        image = image.convert(modes[color_mode])
        if target_size is not None:
            filters = {"bilinear": Image.BILINEAR, "nearest": Image.NEAREST, "bicubic": Image.BICUBIC}
            image = image.resize((target_size[1], target_size[0]), filters[interpolation])
        return image.copy()


def img_to_array(image: Any, dtype: str = "float32") -> np.ndarray:
    """A PIL image as an array `(height, width, channels)` (grayscale keeps a channels axis)."""
    array = np.asarray(image, dtype=dtype)
    return array[..., None] if array.ndim == 2 else array


def array_to_img(array: Any, scale: bool = True) -> Any:
    """An array `(height, width[, channels])` as a PIL image; `scale` maps its range to 0-255."""
    from PIL import Image

    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if scale:
        low, high = float(array.min()), float(array.max())
        array = (array - low) / (high - low) * 255 if high > low else np.zeros_like(array)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def save_img(path: str | os.PathLike, array: Any, scale: bool = True) -> None:
    """Saves an image array to a file (the format follows the extension)."""
    array_to_img(array, scale=scale).save(path)


def save_image_grid(images: np.ndarray, path: str | os.PathLike, labels: Sequence[int] | None = None,
                    predictions: Sequence[int] | None = None, class_names: Sequence[str] | None = None,
                    columns: int = 8) -> str:
    """A PNG grid of images titled "predicted (true)"; wrong predictions in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(images)
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.8 * rows), squeeze=False)
    name = (lambda i: class_names[int(i)]) if class_names is not None else str
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index >= count:
            continue
        image = np.asarray(images[index], dtype=np.float32)
        image = (image - image.min()) / max(float(image.max() - image.min()), 1e-8)
        axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray" if image.shape[-1] == 1 else None)
        title, colour = "", "black"
        if predictions is not None:
            title = name(predictions[index])
            if labels is not None:
                title += f"\n({name(labels[index])})"
                colour = "black" if int(predictions[index]) == int(labels[index]) else "red"
        elif labels is not None:
            title = name(labels[index])
        axis.set_title(title, fontsize=7, color=colour)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return str(path)
