"""Position information for sequence models: learned PositionEmbedding, SinePositionEncoding,
RotaryEmbedding and TokenAndPositionEmbedding (KerasHub's names and arguments).

During step-by-step decoding (`ember.generate`) they number new steps from the cache's offset.
"""

from __future__ import annotations

from typing import Any

import torch

from ember import initializers
from ember._validation import require_positive_int
from ember.layers import kv_cache, shapes
from ember.layers.base import Layer, Shape
from ember.layers.embedding import Embedding


def _check_length(layer: Layer, steps: int, limit: int) -> None:
    if steps > limit:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' handles sequences of at most sequence_length="
                         f"{limit} steps; got a sequence of {steps}. Cut the inputs (pad_sequences(maxlen={limit})) "
                         "or build the layer with a larger sequence_length.")


class PositionEmbedding(Layer):
    """A learned vector per position: `(batch, steps, features)` -> the same shape (add it to the input)."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, sequence_length: int, initializer: Any = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sequence_length = require_positive_int("sequence_length", sequence_length, self)
        self.initializer = initializers.get(initializer)

    def build(self, input_shape: Shape) -> None:
        if input_shape[1] is not None:
            _check_length(self, input_shape[1], self.sequence_length)
        self.position_embeddings = self.add_weight("embeddings", (self.sequence_length, input_shape[-1]),
                                                   self.initializer)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.shape[1] == shapes.UNKNOWN_PLACEHOLDER and shapes.is_shape_inference((inputs,)):
            return inputs  # a variable length is checked when real data arrives
        start = kv_cache.offset()
        _check_length(self, start + inputs.shape[1], self.sequence_length)
        return self.position_embeddings[start:start + inputs.shape[1]].expand_as(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": initializers.serialize(self.initializer)}


class SinePositionEncoding(Layer):
    """The fixed sinusoidal position encoding of "Attention is all you need" (nothing to learn)."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, max_wavelength: float = 10000.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_wavelength = float(max_wavelength)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        steps, features, start = inputs.shape[1], inputs.shape[2], kv_cache.offset()
        positions = torch.arange(start, start + steps, device=inputs.device, dtype=torch.float32)[:, None]
        rates = self.max_wavelength ** (-(torch.arange(features, device=inputs.device) // 2 * 2) / features)
        angles = positions * rates[None, :]
        encoding = torch.where(torch.arange(features, device=inputs.device) % 2 == 0, angles.sin(), angles.cos())
        return encoding.to(inputs.dtype).expand_as(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


class RotaryEmbedding(Layer):
    """Rotary position embedding (RoPE, Su et al. 2021): rotates feature pairs by position-dependent angles.

    Args:
        max_wavelength: the longest wavelength of the rotations.
        scaling_factor: divides the positions (values above 1 stretch the context).
        sequence_axis, feature_axis: where the steps and the (even-sized) features are.
    Call: `layer(inputs, start_index=0)`; output shape = input shape, e.g. `(batch, steps, heads, dim)`.
    Features are rotated as halves (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin), KerasHub's
    convention. Apply it to queries and keys: `MultiHeadAttention(..., rotary_embedding=True)` does.
    """

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, max_wavelength: float = 10000.0, scaling_factor: float = 1.0, sequence_axis: int = 1,
                 feature_axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if scaling_factor <= 0:
            raise ValueError(f"RotaryEmbedding '{self.name}': scaling_factor must be positive; got {scaling_factor}.")
        self.max_wavelength, self.scaling_factor = float(max_wavelength), float(scaling_factor)
        self.sequence_axis, self.feature_axis = sequence_axis, feature_axis

    def forward(self, inputs: torch.Tensor, start_index: int = 0) -> torch.Tensor:
        x = inputs.movedim((self.sequence_axis, self.feature_axis), (1, -1))
        steps, features = x.shape[1], x.shape[-1]
        if features % 2:
            raise ValueError(f"RotaryEmbedding '{self.name}' rotates feature pairs; the feature axis has odd size "
                             f"{features}.")
        exponents = torch.arange(0, features, 2, device=x.device, dtype=torch.float32) / features
        inverse_frequency = 1.0 / (self.max_wavelength ** exponents)
        positions = torch.arange(start_index, start_index + steps, device=x.device, dtype=torch.float32)
        angles = torch.outer(positions / self.scaling_factor, inverse_frequency)  # (steps, features / 2)
        angles = torch.cat([angles, angles], dim=-1).reshape(1, steps, *([1] * (x.ndim - 3)), features)
        first, second = x.chunk(2, dim=-1)
        rotated = x * angles.cos().to(x.dtype) + torch.cat([-second, first], dim=-1) * angles.sin().to(x.dtype)
        return rotated.movedim((1, -1), (self.sequence_axis, self.feature_axis))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_wavelength": self.max_wavelength, "scaling_factor": self.scaling_factor,
                "sequence_axis": self.sequence_axis, "feature_axis": self.feature_axis}


class TokenAndPositionEmbedding(Layer):
    """Token embedding plus learned position embedding: ids `(batch, steps)` -> `(batch, steps, embedding_dim)`."""

    stepwise_decoding = True
    integer_inputs = True
    creates_mask = True

    def __init__(self, vocabulary_size: int, sequence_length: int, embedding_dim: int, mask_zero: bool = False,
                 embeddings_initializer: Any = "uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocabulary_size, self.sequence_length = vocabulary_size, sequence_length
        self.embedding_dim, self.mask_zero = embedding_dim, bool(mask_zero)
        self.token_embedding = Embedding(vocabulary_size, embedding_dim, embeddings_initializer=embeddings_initializer,
                                         mask_zero=mask_zero, name=f"{self.name}_tokens")
        self.position_embedding = PositionEmbedding(sequence_length, name=f"{self.name}_positions")
        self.creates_mask = self.mask_zero

    def build(self, input_shape: Shape) -> None:
        self.token_embedding.build_from_shapes(input_shape)
        self.position_embedding.build_from_shapes(tuple(input_shape) + (self.embedding_dim,))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        embedded = self.token_embedding(inputs)
        return embedded + self.position_embedding(embedded)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        return inputs != 0 if self.mask_zero else None

    def check_input_values(self, inputs: torch.Tensor) -> None:
        _check_length(self.position_embedding, inputs.shape[1], self.sequence_length)
        self.token_embedding.check_input_values(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length, "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero}
