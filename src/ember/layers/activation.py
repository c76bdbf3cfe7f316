"""Activation layers with their own arguments: LeakyReLU, ReLU, ELU, PReLU and Softmax (Keras 3).

Output shape = input shape for all of them; `Activation("name")` in `core.py` covers the rest.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember import activations
from ember.layers.base import Layer, Shape


class LeakyReLU(Layer):
    """`x` where positive, `negative_slope * x` elsewhere (Keras 3 default 0.3; `alpha` is Keras 2's name)."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        negative_slope = kwargs.pop("alpha", negative_slope)
        super().__init__(**kwargs)
        if negative_slope < 0:
            raise ValueError(f"LeakyReLU '{self.name}': negative_slope must be >= 0; got {negative_slope}.")
        self.negative_slope = float(negative_slope)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ReLU(Layer):
    """`max(x, 0)` with Keras's options: capped at `max_value`, `negative_slope * (x - threshold)` below
    `threshold`."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0 or negative_slope < 0:
            raise ValueError(f"ReLU '{self.name}': max_value and negative_slope must be >= 0; got {max_value} and "
                             f"{negative_slope}.")
        self.max_value, self.negative_slope, self.threshold = max_value, float(negative_slope), float(threshold)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.negative_slope == 0 and self.threshold == 0:
            outputs = F.relu(inputs)
        else:
            outputs = torch.where(inputs >= self.threshold, inputs, self.negative_slope * (inputs - self.threshold))
        return outputs if self.max_value is None else outputs.clamp_max(self.max_value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class ELU(Layer):
    """`x` where positive, `alpha * (exp(x) - 1)` elsewhere."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.elu(inputs, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Leaky ReLU with a learned slope per feature (`alpha`, shaped like one sample, shared over
    `shared_axes` given as 1-based axes of the input, as in Keras)."""

    supports_masking = True

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None, alpha_constraint: Any = None,
                 shared_axes: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer, self.alpha_regularizer = alpha_initializer, alpha_regularizer
        self.alpha_constraint = alpha_constraint
        self.shared_axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes or [])

    def build(self, input_shape: Shape) -> None:
        shape = [1 if axis + 1 in self.shared_axes else size for axis, size in enumerate(input_shape[1:])]
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer, regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.where(inputs >= 0, inputs, self.alpha * inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shared_axes": self.shared_axes or None,
                "alpha_initializer": self.alpha_initializer if isinstance(self.alpha_initializer, str) else "zeros"}


class Softmax(Layer):
    """Softmax over `axis`; an optional boolean `mask` (True = keep) sends masked entries to zero."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None and mask.shape == inputs.shape:
            inputs = inputs.masked_fill(~mask.bool(), torch.finfo(inputs.dtype).min)
        return activations.softmax(inputs, axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}
