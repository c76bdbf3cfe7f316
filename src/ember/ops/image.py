"""`keras.ops.image` where it is plain tensor math: resizing, grayscale, patches, cropping and
padding of `(batch, height, width, channels)` images (or one `(height, width, channels)` image)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember.layers.conv import pad_same
from ember.ops._convert import floating, tensor

_MODES = {"nearest": "nearest-exact", "bilinear": "bilinear", "bicubic": "bicubic", "area": "area"}


def _batched(images: Any, data_format: str | None) -> tuple[torch.Tensor, bool]:
    images = tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"Images are (batch, height, width, channels) or (height, width, channels); got shape "
                         f"{tuple(images.shape)}.")
    single = images.ndim == 3
    batch = images.unsqueeze(0) if single else images
    return (batch.movedim(-1, 1) if (data_format or "channels_last") == "channels_last" else batch), single


def _unbatched(images: torch.Tensor, single: bool, data_format: str | None) -> torch.Tensor:
    images = images.movedim(1, -1) if (data_format or "channels_last") == "channels_last" else images
    return images[0] if single else images


def resize(images: Any, size: tuple[int, int], interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, data_format: str | None = None) -> torch.Tensor:
    """Images resized to `size` = (height, width) with nearest, bilinear, bicubic or area
    interpolation; `crop_to_aspect_ratio` first crops the centre to the target's aspect ratio."""
    if interpolation not in _MODES:
        raise ValueError(f"ops.image.resize: unknown interpolation {interpolation!r}; expected one of {sorted(_MODES)}.")
    x, single = _batched(images, data_format)
    dtype = x.dtype
    if crop_to_aspect_ratio:
        height, width = x.shape[-2:]
        target = size[0] / size[1]
        crop_h, crop_w = (min(height, round(width * target)), min(width, round(height / target)))
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        x = x[..., top:top + crop_h, left:left + crop_w]
    mode = _MODES[interpolation]
    smooth = mode in ("bilinear", "bicubic")
    resized = F.interpolate(floating(x), size=tuple(size), mode=mode, align_corners=False if smooth else None,
                            antialias=antialias and smooth)
    return _unbatched(resized if dtype.is_floating_point else resized.round().to(dtype), single, data_format)


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Luma (0.2989 R + 0.5870 G + 0.1140 B) with one channel kept."""
    x, single = _batched(images, data_format)
    weights = torch.tensor([0.2989, 0.5870, 0.1140], dtype=floating(x).dtype, device=x.device).reshape(1, 3, 1, 1)
    gray = (floating(x) * weights).sum(dim=1, keepdim=True)
    return _unbatched(gray.to(x.dtype) if x.is_floating_point() else gray, single, data_format)


def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: int = 1, padding: str = "valid",
                    data_format: str | None = None) -> torch.Tensor:
    """Non-overlapping (or `strides`-spaced) patches: `(batch, rows, cols, size_h * size_w * channels)`."""
    x, single = _batched(images, data_format)
    size = (size, size) if isinstance(size, int) else tuple(size)
    strides = size if strides is None else ((strides, strides) if isinstance(strides, int) else tuple(strides))
    if padding == "same":
        x = pad_same(x, size, strides, (dilation_rate, dilation_rate))
    channels, height, width = x.shape[1:]
    patches = F.unfold(floating(x), size, dilation=dilation_rate, stride=strides)  # (batch, c*kh*kw, L)
    rows = (height - dilation_rate * (size[0] - 1) - 1) // strides[0] + 1
    cols = (width - dilation_rate * (size[1] - 1) - 1) // strides[1] + 1
    patches = patches.reshape(x.shape[0], channels, size[0] * size[1], rows, cols)
    patches = patches.permute(0, 3, 4, 2, 1).reshape(x.shape[0], rows, cols, -1).to(x.dtype)  # Keras: (kh, kw, c)
    return patches[0] if single else patches


def crop_images(images: Any, top_cropping: int = 0, left_cropping: int = 0, bottom_cropping: int | None = None,
                right_cropping: int | None = None, target_height: int | None = None, target_width: int | None = None,
                data_format: str | None = None) -> torch.Tensor:
    """The block of `target_height`×`target_width` (or what the croppings leave) at (top, left)."""
    x, single = _batched(images, data_format)
    height, width = x.shape[-2:]
    target_height = target_height if target_height is not None else height - top_cropping - (bottom_cropping or 0)
    target_width = target_width if target_width is not None else width - left_cropping - (right_cropping or 0)
    if top_cropping + target_height > height or left_cropping + target_width > width or min(target_height, target_width) <= 0:
        raise ValueError(f"ops.image.crop_images: a {target_height}×{target_width} crop at ({top_cropping}, "
                         f"{left_cropping}) does not fit images of {height}×{width}.")
    cropped = x[..., top_cropping:top_cropping + target_height, left_cropping:left_cropping + target_width]
    return _unbatched(cropped, single, data_format)


def pad_images(images: Any, top_padding: int = 0, left_padding: int = 0, bottom_padding: int | None = None,
               right_padding: int | None = None, target_height: int | None = None, target_width: int | None = None,
               data_format: str | None = None) -> torch.Tensor:
    """Images padded with zeros at (top, left) to `target_height`×`target_width` (or by the paddings)."""
    x, single = _batched(images, data_format)
    height, width = x.shape[-2:]
    bottom = bottom_padding if bottom_padding is not None else (target_height or height) - height - top_padding
    right = right_padding if right_padding is not None else (target_width or width) - width - left_padding
    if min(bottom, right, top_padding, left_padding) < 0:
        raise ValueError(f"ops.image.pad_images: images of {height}×{width} with top {top_padding} and left "
                         f"{left_padding} do not fit a target of {target_height}×{target_width}.")
    return _unbatched(F.pad(x, (left_padding, right, top_padding, bottom)), single, data_format)
