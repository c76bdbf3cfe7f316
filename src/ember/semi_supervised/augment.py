"""FixMatch's on-device image augmentations, each `(batch, generator) -> batch` on channels-last
images `(batch, height, width, channels)`, every sample drawn afresh: the weak view (a shift by
whole pixels), the strong view (affine, contrast, Cutout), and their parts.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from ember.image_windows import crop_windows

Augmentation = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]


def _uniform(count: int, low: float, high: float, like: torch.Tensor,
             generator: torch.Generator | None) -> torch.Tensor:
    return low + (high - low) * torch.rand(count, device=like.device, dtype=like.dtype, generator=generator)


def random_affine(images: torch.Tensor, generator: torch.Generator | None = None, rotation: float = 0.0,
                  shift: float = 0.125, shear: float = 0.0, zoom: float = 0.0) -> torch.Tensor:
    """Each image moved by its own random affine map, filled with zeros outside: `rotation` (degrees),
    `shift` (fraction of the size), `shear` and `zoom` (fractions), each drawn from +-its value.
    `images`: `(batch, height, width, channels)`; returns the same shape."""
    _require_images(images)
    count = len(images)
    angle = _uniform(count, -rotation, rotation, images, generator) * math.pi / 180
    scale = 1.0 + _uniform(count, -zoom, zoom, images, generator)
    slant = _uniform(count, -shear, shear, images, generator)
    moves = _uniform(2 * count, -2 * shift, 2 * shift, images, generator).reshape(count, 2)  # grid spans [-1, 1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + slant, moves[:, 0]], dim=1),
                         torch.stack([sin, cos, moves[:, 1]], dim=1)], dim=1)  # (batch, 2, 3)
    planar = images.permute(0, 3, 1, 2)  # (batch, channels, height, width)
    grid = F.affine_grid(theta, list(planar.shape), align_corners=False)
    return F.grid_sample(planar, grid, padding_mode="zeros", align_corners=False).permute(0, 2, 3, 1)


def random_contrast(images: torch.Tensor, generator: torch.Generator | None = None,
                    factor: float = 0.5) -> torch.Tensor:
    """Each image's contrast scaled by a factor in [1 - factor, 1 + factor] about its mean."""
    _require_images(images)
    scales = _uniform(len(images), 1 - factor, 1 + factor, images, generator).reshape(-1, 1, 1, 1)
    means = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - means) * scales + means


def cutout(images: torch.Tensor, generator: torch.Generator | None = None, size: float = 0.5,
           random_size: bool = False) -> torch.Tensor:
    """Each image with one square of side `size` x its height set to zero, at a random centre
    (DeVries & Taylor 2017; the square may overhang the border). With `random_size`, each image's
    side is drawn from [0, `size`] x its height instead, as in FixMatch's RandAugment."""
    _require_images(images)
    count, height, width = images.shape[:3]
    if random_size:
        sides = (torch.rand(count, device=images.device, generator=generator) * size * height).round()
    else:
        sides = torch.full((count,), float(max(1, int(round(size * height)))), device=images.device)
    centres = torch.rand(count, 2, device=images.device, generator=generator) * torch.tensor(
        [height, width], device=images.device)
    sides = sides[:, None, None]
    rows = torch.arange(height, device=images.device)[None, :, None]
    columns = torch.arange(width, device=images.device)[None, None, :]
    top, left = centres[:, 0, None, None] - sides / 2, centres[:, 1, None, None] - sides / 2
    inside = (rows >= top) & (rows < top + sides) & (columns >= left) & (columns < left + sides)
    return images.masked_fill(inside[..., None], 0.0)


def random_translate(images: torch.Tensor, generator: torch.Generator | None = None,
                     shift: float = 0.125) -> torch.Tensor:
    """Each image moved by its own whole number of pixels, up to `shift` x its size each way, filled
    with zeros (pad-and-crop: no interpolation, so the pixels stay as sharp as in inference).
    `images`: `(batch, height, width, channels)`; returns the same shape."""
    _require_images(images)
    count, height, width = images.shape[:3]
    pad_rows, pad_columns = int(round(shift * height)), int(round(shift * width))
    padded = F.pad(images, (0, 0, pad_columns, pad_columns, pad_rows, pad_rows))
    draw = lambda pad: torch.randint(0, 2 * pad + 1, (count,), device=images.device, generator=generator)
    tops, lefts = draw(pad_rows), draw(pad_columns)
    return crop_windows(padded, tops, lefts, height, width)


def weak_augment(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """FixMatch's weak view: a random shift of up to 12.5% each way, in whole pixels (no flip:
    digits and text are not mirror-symmetric; add a `layers.RandomFlip` yourself for natural images)."""
    return random_translate(images, generator, shift=0.125)


def strong_augment(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """FixMatch's strong view, RandAugment-like: rotation (+-30 degrees), shear (+-0.3), zoom
    (+-0.2) and shift (+-0.2), contrast (+-0.5), then Cutout of up to half the side."""
    moved = random_affine(images, generator, rotation=30.0, shift=0.2, shear=0.3, zoom=0.2)
    return cutout(random_contrast(moved, generator, 0.5), generator, 0.5, random_size=True)


def identity(inputs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """No augmentation."""
    return inputs


def _require_images(images: torch.Tensor) -> None:
    if images.ndim != 4:
        raise ValueError(f"The built-in augmentations take channels-last images (batch, height, width, channels); "
                         f"got shape {tuple(images.shape)}. For other data pass weak= and strong= functions "
                         "(batch, generator) -> batch, or use PseudoLabel (no augmentation).")


__all__ = ["Augmentation", "weak_augment", "strong_augment", "random_affine", "random_contrast", "random_translate",
           "cutout", "identity"]
