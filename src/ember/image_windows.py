"""Per-image windows of a channels-last batch, each at its own offset (random crops and shifts)."""

from __future__ import annotations

import torch


def crop_windows(images: torch.Tensor, tops: torch.Tensor, lefts: torch.Tensor, height: int,
                 width: int) -> torch.Tensor:
    """`(batch, height, width, channels)` windows of `images` `(batch, rows, cols, channels)`, image i's
    starting at row `tops[i]` and column `lefts[i]` (long tensors of shape `(batch,)`)."""
    batch, _, cols, channels = images.shape
    row_index = (tops[:, None] + torch.arange(height, device=images.device))[:, :, None, None]
    rows = images.gather(1, row_index.expand(batch, height, cols, channels))
    col_index = (lefts[:, None] + torch.arange(width, device=images.device))[:, None, :, None]
    return rows.gather(2, col_index.expand(batch, height, width, channels))
