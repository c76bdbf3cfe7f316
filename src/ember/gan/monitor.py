"""GANMonitor: a PNG grid of images from fixed noise every few epochs, to watch a GAN learn."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from ember.callbacks.base import Callback
from ember.utils.image import save_image_grid


class GANMonitor(Callback):
    """Saves `num_images` generated images as one PNG every `every` epochs, from the same noise each time.

    Args:
        filepath: where to write; `{epoch}` is filled in (1-based), e.g. "gan/epoch_{epoch:03d}.png".
        num_images: images in the grid; columns: images per row.
        every: epochs between grids; seed: seeds the fixed noise.
        labels: for a ConditionalGAN, the class of each image (default: 0, 1, 2, ... repeating).
    `saved` lists the files written.
    """

    primary_only = True  # writes files or prints: rank 0 only under DataParallel

    def __init__(self, filepath: str | os.PathLike = "gan_epoch_{epoch:03d}.png", num_images: int = 64,
                 every: int = 1, seed: int = 0, labels: Any = None, columns: int = 8) -> None:
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer; got {every!r}.")
        self.filepath, self.num_images, self.every, self.columns = os.fspath(filepath), num_images, every, columns
        self.seed, self.labels = seed, labels
        self.saved: list[str] = []

    def on_train_begin(self, logs=None):
        generator = torch.Generator().manual_seed(self.seed)
        self._noise = torch.randn(self.num_images, self.model.latent_dim, generator=generator)
        if self.model.num_classes and self.labels is None:
            self.labels = np.arange(self.num_images) % self.model.num_classes

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        images = self.model.generate(noise=self._noise, labels=self.labels)
        path = self.filepath.format(epoch=epoch + 1)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        labels = None if self.labels is None else [int(label) for label in np.asarray(self.labels).reshape(-1)]
        self.saved.append(save_image_grid(images, path, labels=labels, columns=self.columns))
