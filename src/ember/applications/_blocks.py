"""Pieces the mobile architectures share: channel rounding and Keras's asymmetric padding before
a strided depthwise convolution."""

from __future__ import annotations

from typing import Any


def make_divisible(value: float, divisor: int = 8, minimum: int | None = None) -> int:
    """`value` rounded to a multiple of `divisor`, never more than 10% below it (MobileNet's rule)."""
    minimum = minimum or divisor
    rounded = max(minimum, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def correct_pad(tensor: Any, kernel_size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) zero padding that makes a stride-2 "valid" convolution match
    TensorFlow's "same" output on even sizes (one pixel less at the top and left)."""
    height, width = tensor.shape[1:3]
    adjust = (1, 1) if height is None or width is None else (1 - height % 2, 1 - width % 2)
    half = kernel_size // 2
    return (half - adjust[0], half), (half - adjust[1], half)
