"""SpecAugment's masks (Park et al. 2019): FrequencyMasking and TimeMasking set random bands of a
spectrogram to a constant, per example, on the device, while training only (identity in
inference). Defaults fit MelSpectrogram's `(batch, num_mel_bins, frames)` layout.
"""

from __future__ import annotations

from typing import Any

import torch

from ember._validation import require_positive_int
from ember.layers.augmentation import _RandomLayer


class _Masking(_RandomLayer):
    """`num_masks` bands per example along `axis`, each of a width drawn from [0, max_width]."""

    def __init__(self, max_width: int, num_masks: int, axis: int, mask_value: float | str, seed: int | None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.max_width = require_positive_int(self._width_argument, max_width, layer=self)
        self.num_masks = require_positive_int("num_masks", num_masks, layer=self)
        if axis == 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': axis 0 is the batch; give the "
                             f"{'frequency' if 'freq' in self._width_argument else 'time'} axis.")
        if not (isinstance(mask_value, (int, float)) or mask_value == "mean"):
            raise ValueError(f"{type(self).__name__} '{self.name}': mask_value must be a number or 'mean'; got "
                             f"{mask_value!r}.")
        self.axis, self.mask_value = axis, mask_value

    _width_argument = "max_width"

    def band_mask(self, batch: int, size: int, device: torch.device) -> torch.Tensor:
        """`(batch, size)`, True inside any of each example's bands."""
        generator = self.generator(device)
        widths = (torch.rand(batch, self.num_masks, generator=generator, device=device)
                  * (min(self.max_width, size) + 1)).floor()
        starts = (torch.rand(batch, self.num_masks, generator=generator, device=device) * (size - widths + 1)).floor()
        positions = torch.arange(size, device=device)[None, None, :]
        inside = (positions >= starts[..., None]) & (positions < (starts + widths)[..., None])
        return inside.any(dim=1)

    def augment(self, inputs: torch.Tensor) -> torch.Tensor:
        axis = self.axis % inputs.ndim
        mask = self.band_mask(inputs.shape[0], inputs.shape[axis], inputs.device)
        mask = mask.reshape((inputs.shape[0],) + tuple(inputs.shape[axis] if i == axis else 1
                                                       for i in range(1, inputs.ndim)))
        fill = inputs.mean(dim=tuple(range(1, inputs.ndim)), keepdim=True) if self.mask_value == "mean" \
            else torch.tensor(float(self.mask_value), dtype=inputs.dtype, device=inputs.device)
        return torch.where(mask, fill, inputs)


class FrequencyMasking(_Masking):
    """Masks up to `num_masks` bands of at most `freq_mask_param` frequency bins per example.

    Args: freq_mask_param (widest band), num_masks (1), axis (1: MelSpectrogram's mel axis; -1 for
        STFTSpectrogram's channels-last output), mask_value (0.0, or "mean": the example's mean),
        seed.
    Input shape: any `(batch, ...)`; output: the same.
    """

    _width_argument = "freq_mask_param"

    def __init__(self, freq_mask_param: int, num_masks: int = 1, axis: int = 1, mask_value: float | str = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(freq_mask_param, num_masks, axis, mask_value, seed, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "freq_mask_param": self.max_width, "num_masks": self.num_masks,
                "axis": self.axis, "mask_value": self.mask_value}


class TimeMasking(_Masking):
    """Masks up to `num_masks` spans of at most `time_mask_param` frames per example.

    Args: time_mask_param (longest span), num_masks (1), axis (2: MelSpectrogram's frame axis; 1
        for STFTSpectrogram's output), mask_value (0.0 or "mean"), seed.
    """

    _width_argument = "time_mask_param"

    def __init__(self, time_mask_param: int, num_masks: int = 1, axis: int = 2, mask_value: float | str = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(time_mask_param, num_masks, axis, mask_value, seed, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "time_mask_param": self.max_width, "num_masks": self.num_masks,
                "axis": self.axis, "mask_value": self.mask_value}
