"""PNG pictures of what an autoencoder learned: inputs over their reconstructions, the 2-D codes
coloured by class, and the decoder's outputs over a grid of 2-D codes (keras.io's VAE figures)."""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _as_picture(image: np.ndarray) -> np.ndarray:
    """`(height, width)` or `(height, width, 3)` for imshow; flat vectors of a square size are
    folded into squares (an MLP's 784 values become 28 x 28)."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 1:
        side = int(round(np.sqrt(image.size)))
        if side * side != image.size:
            raise ValueError(f"Cannot draw a flat vector of {image.size} values as a square image; reshape the "
                             "inputs to (height, width[, channels]).")
        image = image.reshape(side, side)
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def plot_pairs(inputs: np.ndarray, reconstructions: np.ndarray, path: str | os.PathLike) -> str:
    """Inputs in the top row, their reconstructions below; returns the path."""
    plt = _pyplot()
    count = len(inputs)
    figure, axes = plt.subplots(2, count, figsize=(1.3 * count, 2.8), squeeze=False)
    for column in range(count):
        for row, image in enumerate((inputs[column], reconstructions[column])):
            axes[row, column].imshow(_as_picture(image), cmap="gray")
            axes[row, column].axis("off")
    axes[0, 0].set_title("input", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction", fontsize=8, loc="left")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return str(path)


def plot_codes(codes: np.ndarray, labels: np.ndarray, path: str | os.PathLike) -> str:
    """A scatter of 2-D codes `(samples, 2)` coloured by label; returns the path."""
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"plot_latent_space draws 2-D codes; the encoder gives shape {codes.shape[1:]}. Use "
                         "latent_dim=2 (or project the codes, e.g. with sklearn's PCA, and plot them yourself).")
    if len(labels) != len(codes):
        raise ValueError(f"labels must have one value per sample: {len(codes)} samples, {len(labels)} labels.")
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 6))
    points = axis.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=3)
    figure.colorbar(points, ax=axis)
    return _save_latent_figure(plt, figure, axis, path)


def plot_decoded_grid(decode: Callable[[np.ndarray], np.ndarray], size: int, scale: float,
                      path: str | os.PathLike) -> str:
    """The decoder's outputs for a `size` x `size` grid of codes in [-scale, scale]^2, z[1] upwards."""
    grid_x = np.linspace(-scale, scale, size)
    grid_y = np.linspace(-scale, scale, size)[::-1]
    codes = np.array([[x, y] for y in grid_y for x in grid_x], dtype=np.float32)
    images = [_as_picture(image) for image in decode(codes)]
    height, width = images[0].shape[:2]
    canvas = np.zeros((size * height, size * width) + images[0].shape[2:], dtype=np.float32)
    for index, image in enumerate(images):
        row, column = divmod(index, size)
        canvas[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 8))
    axis.imshow(canvas, cmap="Greys_r", extent=(-scale, scale, -scale, scale))
    return _save_latent_figure(plt, figure, axis, path)


def _save_latent_figure(plt: Any, figure: Any, axis: Any, path: str | os.PathLike) -> str:
    """Labels the latent axes, writes the PNG, closes the figure; returns the path."""
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return str(path)
