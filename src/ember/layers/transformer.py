"""Transformer building blocks: position embeddings and the encoder block (KerasHub's names)."""

from __future__ import annotations

from typing import Any

import torch

from ember import activations, initializers
from ember._validation import require_positive_int, require_rate
from ember.layers import shapes
from ember.layers.attention import MultiHeadAttention
from ember.layers.base import Layer, Shape
from ember.layers.core import Dense, Dropout
from ember.layers.embedding import Embedding
from ember.layers.normalization import LayerNormalization


def _check_length(layer: Layer, steps: int, limit: int) -> None:
    if steps > limit:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' handles sequences of at most sequence_length="
                         f"{limit} steps; got a sequence of {steps}. Cut the inputs (pad_sequences(maxlen={limit})) "
                         "or build the layer with a larger sequence_length.")


class PositionEmbedding(Layer):
    """A learned vector per position: `(batch, steps, features)` -> the same shape (add it to the input)."""

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
        _check_length(self, inputs.shape[1], self.sequence_length)
        return self.position_embeddings[:inputs.shape[1]].expand_as(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": initializers.serialize(self.initializer)}


class SinePositionEncoding(Layer):
    """The fixed sinusoidal position encoding of "Attention is all you need" (nothing to learn)."""

    supports_masking = True

    def __init__(self, max_wavelength: float = 10000.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_wavelength = float(max_wavelength)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        steps, features = inputs.shape[1], inputs.shape[2]
        positions = torch.arange(steps, device=inputs.device, dtype=torch.float32)[:, None]
        rates = self.max_wavelength ** (-(torch.arange(features, device=inputs.device) // 2 * 2) / features)
        angles = positions * rates[None, :]
        encoding = torch.where(torch.arange(features, device=inputs.device) % 2 == 0, angles.sin(), angles.cos())
        return encoding.to(inputs.dtype).expand_as(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


class TokenAndPositionEmbedding(Layer):
    """Token embedding plus learned position embedding: ids `(batch, steps)` -> `(batch, steps, embedding_dim)`."""

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

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        return inputs != 0 if self.mask_zero else None

    def check_input_values(self, inputs: torch.Tensor) -> None:
        _check_length(self.position_embedding, inputs.shape[1], self.sequence_length)
        self.token_embedding.check_input_values(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length, "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero}


class TransformerEncoder(Layer):
    """One encoder block: self-attention and a feed-forward network, each with a residual connection
    and layer normalization (after each part, or before with `normalize_first=True`).

    Input and output `(batch, steps, features)`; padding masks are respected and passed on.
    """

    supports_masking = True

    def __init__(self, intermediate_dim: int, num_heads: int, dropout: float = 0.0, activation: Any = "relu",
                 layer_norm_epsilon: float = 1e-5, normalize_first: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.intermediate_dim = require_positive_int("intermediate_dim", intermediate_dim, self)
        self.num_heads = require_positive_int("num_heads", num_heads, self)
        self.dropout_rate, self.activation = require_rate("dropout", dropout, self), activations.get(activation)
        self.layer_norm_epsilon, self.normalize_first = float(layer_norm_epsilon), bool(normalize_first)

    def build(self, input_shape: Shape) -> None:
        features = input_shape[-1]
        if features % self.num_heads:
            raise ValueError(f"TransformerEncoder '{self.name}': the feature size {features} must be divisible by "
                             f"num_heads={self.num_heads} (key_dim * num_heads = features).")
        self.attention = MultiHeadAttention(self.num_heads, features // self.num_heads, dropout=self.dropout_rate,
                                            name=f"{self.name}_attention")
        self.attention.build_from_shapes(input_shape, input_shape)
        self.attention_norm = LayerNormalization(epsilon=self.layer_norm_epsilon, name=f"{self.name}_attention_norm")
        self.feedforward_norm = LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                   name=f"{self.name}_feedforward_norm")
        self.intermediate = Dense(self.intermediate_dim, activation=self.activation, name=f"{self.name}_intermediate")
        self.output_dense = Dense(features, name=f"{self.name}_output")
        self.dropout = Dropout(self.dropout_rate)
        for layer, shape in ((self.attention_norm, input_shape), (self.feedforward_norm, input_shape),
                             (self.intermediate, input_shape),
                             (self.output_dense, tuple(input_shape[:-1]) + (self.intermediate_dim,))):
            layer.build_from_shapes(shape)

    def forward(self, inputs: torch.Tensor, attention_mask: torch.Tensor | None = None,
                use_causal_mask: bool = False) -> torch.Tensor:
        x = self.attention_norm(inputs) if self.normalize_first else inputs
        attended = self.attention(x, x, attention_mask=attention_mask, use_causal_mask=use_causal_mask)
        x = inputs + self.dropout(attended)
        x = x if self.normalize_first else self.attention_norm(x)
        y = self.feedforward_norm(x) if self.normalize_first else x
        y = x + self.dropout(self.output_dense(self.intermediate(y)))
        return y if self.normalize_first else self.feedforward_norm(y)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim, "num_heads": self.num_heads,
                "dropout": self.dropout_rate, "activation": activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon, "normalize_first": self.normalize_first}


__all__ = ["PositionEmbedding", "SinePositionEncoding", "TokenAndPositionEmbedding", "TransformerEncoder"]
