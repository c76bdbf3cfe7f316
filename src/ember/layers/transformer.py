"""Transformer building blocks: the encoder and decoder blocks (KerasHub's names) and the tutorials'
`layers.Transformer`."""

from __future__ import annotations

from typing import Any

import torch

from ember import activations
from ember._validation import require_positive_int, require_rate
from ember.layers.attention import MultiHeadAttention
from ember.layers.base import Layer, Shape
from ember.layers.core import Dense, Dropout
from ember.layers.normalization import LayerNormalization
from ember.layers.position import SinePositionEncoding


class _TransformerBlock(Layer):
    """The arguments shared by the encoder and decoder blocks (KerasHub's names)."""

    supports_masking = True

    def __init__(self, intermediate_dim: int, num_heads: int, dropout: float = 0.0, activation: Any = "relu",
                 layer_norm_epsilon: float = 1e-5, normalize_first: bool = False, rotary_embedding: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rotary_embedding = bool(rotary_embedding)
        self.intermediate_dim = require_positive_int("intermediate_dim", intermediate_dim, self)
        self.num_heads = require_positive_int("num_heads", num_heads, self)
        self.dropout_rate, self.activation = require_rate("dropout", dropout, self), activations.get(activation)
        self.layer_norm_epsilon, self.normalize_first = float(layer_norm_epsilon), bool(normalize_first)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim, "num_heads": self.num_heads,
                "dropout": self.dropout_rate, "activation": activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon, "normalize_first": self.normalize_first,
                "rotary_embedding": self.rotary_embedding}


class TransformerEncoder(_TransformerBlock):
    """One encoder block: self-attention and a feed-forward network, each with a residual connection
    and layer normalization (after each part, or before with `normalize_first=True`).

    Input and output `(batch, steps, features)`; padding masks are respected and passed on.
    """

    stepwise_decoding = True

    def build(self, input_shape: Shape) -> None:
        features = input_shape[-1]
        if features % self.num_heads:
            raise ValueError(f"TransformerEncoder '{self.name}': the feature size {features} must be divisible by "
                             f"num_heads={self.num_heads} (key_dim * num_heads = features).")
        self.attention = MultiHeadAttention(self.num_heads, features // self.num_heads, dropout=self.dropout_rate,
                                            rotary_embedding=self.rotary_embedding, name=f"{self.name}_attention")
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


class TransformerDecoder(_TransformerBlock):
    """One decoder block: causal self-attention, cross-attention over the encoder's output (when
    given), and a feed-forward network, each with a residual connection and layer normalization.

    Call: `decoder(decoder_sequence, encoder_sequence=None)`; shapes `(batch, steps, features)`.
    """

    stepwise_decoding = True

    def build(self, decoder_shape: Shape, encoder_shape: Shape | None = None) -> None:
        features = decoder_shape[-1]
        if features % self.num_heads:
            raise ValueError(f"TransformerDecoder '{self.name}': the feature size {features} must be divisible by "
                             f"num_heads={self.num_heads}.")
        head = features // self.num_heads
        self.self_attention = MultiHeadAttention(self.num_heads, head, dropout=self.dropout_rate,
                                                 rotary_embedding=self.rotary_embedding,
                                                 name=f"{self.name}_self_attention")
        self.self_attention.build_from_shapes(decoder_shape, decoder_shape)
        norm = lambda part: LayerNormalization(epsilon=self.layer_norm_epsilon, name=f"{self.name}_{part}_norm")  # noqa: E731
        self.self_attention_norm, self.feedforward_norm = norm("self_attention"), norm("feedforward")
        self.cross_attention = self.cross_attention_norm = None  # only with an encoder, as in KerasHub
        if encoder_shape is not None:
            self.cross_attention = MultiHeadAttention(self.num_heads, head, dropout=self.dropout_rate,
                                                      name=f"{self.name}_cross_attention")
            self.cross_attention.build_from_shapes(decoder_shape, encoder_shape)
            self.cross_attention_norm = norm("cross_attention")
        for layer in (self.self_attention_norm, self.cross_attention_norm, self.feedforward_norm):
            if layer is not None:
                layer.build_from_shapes(decoder_shape)
        self.intermediate = Dense(self.intermediate_dim, activation=self.activation, name=f"{self.name}_intermediate")
        self.intermediate.build_from_shapes(decoder_shape)
        self.output_dense = Dense(features, name=f"{self.name}_output")
        self.output_dense.build_from_shapes(tuple(decoder_shape[:-1]) + (self.intermediate_dim,))
        self.dropout = Dropout(self.dropout_rate)

    def _residual(self, x: torch.Tensor, norm: Layer, block: Any) -> torch.Tensor:
        if self.normalize_first:
            return x + self.dropout(block(norm(x)))
        return norm(x + self.dropout(block(x)))

    def forward(self, decoder_sequence: torch.Tensor, encoder_sequence: torch.Tensor | None = None,
                use_causal_mask: bool = True) -> torch.Tensor:
        x = self._residual(decoder_sequence, self.self_attention_norm,
                           lambda y: self.self_attention(y, y, use_causal_mask=use_causal_mask))
        if encoder_sequence is not None:
            if self.cross_attention is None:
                raise ValueError(f"TransformerDecoder '{self.name}' was built without an encoder sequence, so it has "
                                 "no cross-attention; call it with the encoder sequence from the start.")
            x = self._residual(x, self.cross_attention_norm, lambda y: self.cross_attention(y, encoder_sequence))
        return self._residual(x, self.feedforward_norm, lambda y: self.output_dense(self.intermediate(y)))


class Transformer(Layer):
    """The tutorials' `layers.Transformer(num_heads=2, d_model=512, num_layers=4, activation="relu")`.

    - On one input `(batch, steps, features)` (inside a Sequential): an encoder stack of `num_layers`
      blocks. Features are projected to `d_model` when they differ; a sine position encoding is added.
      Token ids go through an Embedding (or TokenAndPositionEmbedding) first.
    - On two inputs `[source, target]` (functional API): an encoder-decoder for sequence-to-sequence;
      the decoder is causal over the target and attends to the encoded source. Output
      `(batch, target_steps, d_model)`.
    """

    supports_masking = True

    def __init__(self, num_heads: int, d_model: int, num_layers: int = 1, activation: Any = "relu",
                 intermediate_dim: int | None = None, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_heads = require_positive_int("num_heads", num_heads, self)
        self.d_model = require_positive_int("d_model", d_model, self)
        self.num_layers = require_positive_int("num_layers", num_layers, self)
        if self.d_model % self.num_heads:
            raise ValueError(f"Transformer '{self.name}': d_model={d_model} must be divisible by "
                             f"num_heads={num_heads}.")
        self.activation, self.dropout_rate = activations.get(activation), require_rate("dropout", dropout, self)
        self.intermediate_dim = intermediate_dim or 4 * self.d_model

    def build(self, input_shape: Any) -> None:
        two_inputs = isinstance(input_shape, list)
        shapes_in = input_shape if two_inputs else [input_shape]
        if two_inputs and len(shapes_in) != 2:
            raise ValueError(f"Transformer '{self.name}' takes one input or [source, target]; got {len(shapes_in)}.")
        self.projections = torch.nn.ModuleList()
        for index, shape in enumerate(shapes_in):
            if len(shape) != 3:
                raise ValueError(f"Transformer '{self.name}' expects (batch, steps, features) sequences; got {shape}. "
                                 "Put an Embedding before it for token ids.")
            projection = Dense(self.d_model, name=f"{self.name}_projection_{index}") if shape[-1] != self.d_model \
                else torch.nn.Identity()
            if isinstance(projection, Dense):
                projection.build_from_shapes(shape)
            self.projections.append(projection)
        self.positions = SinePositionEncoding()
        block_shape = (None, None, self.d_model)
        self.encoders = torch.nn.ModuleList()
        self.decoders = torch.nn.ModuleList()
        for index in range(self.num_layers):
            encoder = TransformerEncoder(self.intermediate_dim, self.num_heads, self.dropout_rate, self.activation,
                                         name=f"{self.name}_encoder_{index}")
            encoder.build_from_shapes(block_shape)
            self.encoders.append(encoder)
            if two_inputs:
                decoder = TransformerDecoder(self.intermediate_dim, self.num_heads, self.dropout_rate, self.activation,
                                             name=f"{self.name}_decoder_{index}")
                decoder.build_from_shapes(block_shape, block_shape)
                self.decoders.append(decoder)

    def _embed(self, index: int, sequence: torch.Tensor) -> torch.Tensor:
        projected = self.projections[index](sequence)
        return projected + self.positions(projected)

    def forward(self, inputs: Any) -> torch.Tensor:
        two_inputs = isinstance(inputs, (list, tuple))
        source = inputs[0] if two_inputs else inputs
        encoded = self._embed(0, source)
        for encoder in self.encoders:
            encoded = encoder(encoded)
        if not two_inputs:
            return encoded
        decoded = self._embed(1, inputs[1])
        for decoder in self.decoders:
            decoded = decoder(decoded, encoded)
        return decoded

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_heads": self.num_heads, "d_model": self.d_model,
                "num_layers": self.num_layers, "activation": activations.serialize(self.activation),
                "intermediate_dim": self.intermediate_dim, "dropout": self.dropout_rate}
