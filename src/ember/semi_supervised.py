"""Semi-supervised learning as a training mode of ordinary classifiers: a few labeled samples plus
many unlabeled ones, through `fit(x, y, unlabeled_x=u, semi_supervised=FixMatch())`.

Each step takes a labeled batch (weakly augmented, as FixMatch does) and `unlabeled_ratio` times as
many unlabeled samples. The model's own prediction on a weakly augmented view of each unlabeled
sample becomes its pseudo-label where the model is confident (`threshold`); the cross-entropy of
the prediction on a strongly augmented view against it is added to the labeled loss, weighted by
`unlabeled_weight`.

- `FixMatch` (Sohn et al. 2020): weak = a random shift by whole pixels; strong = a random affine,
  contrast, then Cutout of up to half the side; threshold 0.95, ratio 7, weight 1.
- `PseudoLabel` (Lee 2013): no augmentation by default; the weight ramps up from 0 over
  `rampup_steps` steps, since early pseudo-labels are mostly wrong.

Augmentations run on the device on whole batches, each sample drawn afresh. Images are
channels-last `(batch, height, width, channels)`; give `weak=`/`strong=` callables
`(batch tensor, torch.Generator | None) -> batch tensor` for other data.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ember import losses
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


class SemiSupervisedMethod:
    """Pseudo-labels from a weak view, a loss on a strong view (see the module docstring).

    Args:
        threshold: the confidence (largest class probability) a pseudo-label needs to count.
        unlabeled_ratio: unlabeled samples per labeled sample in each step (mu in FixMatch).
        unlabeled_weight: the weight of the unlabeled loss (lambda_u).
        rampup_steps: the weight grows linearly from 0 over this many steps (0: at once).
        weak, strong: augmentations `(batch, generator) -> batch`.
        seed: seeds the augmentations and the order of the unlabeled samples.
    """

    def __init__(self, threshold: float, unlabeled_ratio: int, unlabeled_weight: float, rampup_steps: int,
                 weak: Augmentation, strong: Augmentation, seed: int | None = None) -> None:
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1) (a class probability); got {threshold!r}.")
        if not isinstance(unlabeled_ratio, int) or unlabeled_ratio < 1:
            raise ValueError(f"unlabeled_ratio must be a positive integer (7 in FixMatch); got {unlabeled_ratio!r}.")
        if unlabeled_weight < 0 or rampup_steps < 0:
            raise ValueError(f"unlabeled_weight and rampup_steps must be >= 0; got {unlabeled_weight!r} and "
                             f"{rampup_steps!r}.")
        self.threshold, self.unlabeled_ratio = float(threshold), unlabeled_ratio
        self.unlabeled_weight, self.rampup_steps = float(unlabeled_weight), int(rampup_steps)
        self.weak, self.strong, self.seed = weak, strong, seed

    def weight_at(self, step: int) -> float:
        """The unlabeled loss's weight at training step `step` (from 0)."""
        if self.rampup_steps == 0:
            return self.unlabeled_weight
        return self.unlabeled_weight * min(1.0, step / self.rampup_steps)


class FixMatch(SemiSupervisedMethod):
    """FixMatch (Sohn et al. 2020): confident pseudo-labels of weak views teach the strong views."""

    def __init__(self, threshold: float = 0.95, unlabeled_ratio: int = 7, unlabeled_weight: float = 1.0,
                 rampup_steps: int = 0, weak: Augmentation = weak_augment, strong: Augmentation = strong_augment,
                 seed: int | None = None) -> None:
        super().__init__(threshold, unlabeled_ratio, unlabeled_weight, rampup_steps, weak, strong, seed)


class PseudoLabel(SemiSupervisedMethod):
    """Pseudo-labelling (Lee 2013): the model's confident predictions on unlabeled samples become
    targets, with a weight that ramps up over `rampup_steps`."""

    def __init__(self, threshold: float = 0.95, unlabeled_ratio: int = 1, unlabeled_weight: float = 1.0,
                 rampup_steps: int = 1000, weak: Augmentation = identity, strong: Augmentation = identity,
                 seed: int | None = None) -> None:
        super().__init__(threshold, unlabeled_ratio, unlabeled_weight, rampup_steps, weak, strong, seed)


CLASSIFICATION_LOSSES = (losses.SparseCategoricalCrossentropy, losses.CategoricalCrossentropy)
METHODS = {"fixmatch": FixMatch, "pseudo_label": PseudoLabel}


def get(method: str | SemiSupervisedMethod | None) -> SemiSupervisedMethod:
    """A method object from a name ("fixmatch", "pseudo_label"), an instance, or None (FixMatch)."""
    if method is None:
        return FixMatch()
    if isinstance(method, SemiSupervisedMethod):
        return method
    if isinstance(method, str) and method.lower().replace("-", "_") in METHODS:
        return METHODS[method.lower().replace("-", "_")]()
    raise ValueError(f"semi_supervised must be one of {list(METHODS)} or a FixMatch/PseudoLabel object; "
                     f"got {method!r}.")


__all__ = ["FixMatch", "PseudoLabel", "SemiSupervisedMethod", "weak_augment", "strong_augment", "random_affine",
           "random_contrast", "random_translate", "cutout", "identity", "get"]
