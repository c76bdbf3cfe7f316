"""MultiHeadAttention with Keras 3's arguments, call signature and weight layouts, computed by
`torch.nn.functional.scaled_dot_product_attention` (flash or memory-efficient kernels on GPUs)."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ember._validation import require_positive_int, require_rate
from ember.layers import kv_cache
from ember.layers.base import Layer, Shape
from ember.layers.position import RotaryEmbedding
from ember.layers.weight_arguments import kernel_bias_config, set_kernel_bias_arguments


class MultiHeadAttention(Layer):
    """Attention of `query` over `value` (and `key`, default `value`) with `num_heads` heads.

    Args:
        num_heads, key_dim: heads and the size of each head's queries and keys.
        value_dim: size of each head's values (default key_dim).
        dropout: dropout on the attention probabilities while training.
        output_shape: last size of the output (default the query's).
        rotary_embedding: rotate queries and keys by position (RoPE) before attending (not in Keras).
    Call: `layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    use_causal_mask=False)`; query `(batch, target, features)`, value `(batch, source, features)`;
    `attention_mask` `(batch, target, source)` booleans, True where attention is allowed. Padding
    masks on query and value (from `Embedding(mask_zero=True)`) are applied too.
    Weights in Keras's layout: query/key/value kernels `(features, heads, dim)`, biases `(heads, dim)`,
    output kernel `(heads, value_dim, output)`.
    """

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: int | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, rotary_embedding: bool = False,
                 **kwargs: Any) -> None:
        kwargs.pop("attention_axes", None)
        super().__init__(**kwargs)
        self.rotary_embedding = RotaryEmbedding() if rotary_embedding else None
        self.num_heads = require_positive_int("num_heads", num_heads, self)
        self.key_dim = require_positive_int("key_dim", key_dim, self)
        self.value_dim = require_positive_int("value_dim", value_dim or key_dim, self)
        self.dropout, self.use_bias = require_rate("dropout", dropout, self), bool(use_bias)
        self.output_size = output_shape
        set_kernel_bias_arguments(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, query_shape: Shape, value_shape: Shape | None = None, key_shape: Shape | None = None) -> None:
        value_shape = value_shape or query_shape
        key_shape = key_shape or value_shape
        for argument, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"MultiHeadAttention '{self.name}' expects {argument} of shape (batch, steps, "
                                 f"features); got {shape}.")
        self.output_size = self.output_size or query_shape[-1]
        for name, features, size in (("query", query_shape[-1], self.key_dim), ("key", key_shape[-1], self.key_dim),
                                     ("value", value_shape[-1], self.value_dim)):
            self._projection(f"{name}_kernel", f"{name}_bias", (features, self.num_heads, size), (self.num_heads, size))
        self._projection("output_kernel", "output_bias", (self.num_heads, self.value_dim, self.output_size),
                         (self.output_size,))

    def _projection(self, kernel_name: str, bias_name: str, kernel_shape: tuple, bias_shape: tuple) -> None:
        self.add_weight(kernel_name, kernel_shape, self.kernel_initializer, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight(bias_name, bias_shape, self.bias_initializer, regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)
        else:
            setattr(self, bias_name, None)

    def _heads(self, inputs: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        features, heads, size = kernel.shape
        projected = F.linear(inputs, kernel.reshape(features, heads * size).T,
                             None if bias is None else bias.reshape(-1))
        return projected.unflatten(-1, (heads, size)).transpose(1, 2)  # (batch, heads, steps, size)

    def forward(self, query: torch.Tensor, value: torch.Tensor | None = None, key: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, return_attention_scores: bool = False,
                use_causal_mask: bool = False) -> Any:
        value = query if value is None else value
        key = value if key is None else key
        q = self._heads(query, self.query_kernel, self.query_bias)
        k = self._heads(key, self.key_kernel, self.key_bias)
        v = self._heads(value, self.value_kernel, self.value_bias)
        if self.rotary_embedding is not None:  # rotate queries and keys by their positions
            start = kv_cache.offset()
            q = self.rotary_embedding(q.transpose(1, 2), start_index=start).transpose(1, 2)
            k = self.rotary_embedding(k.transpose(1, 2), start_index=start).transpose(1, 2)
        cache = kv_cache.active()
        if cache is not None and key is query:
            if not use_causal_mask or attention_mask is not None or getattr(value, "_keras_mask", None) is not None:
                cache.refuse(f"MultiHeadAttention '{self.name}' attends without a causal mask (or with a "
                             "padding mask), so earlier steps depend on later ones")
            k, v = cache.extend(self, k, v)
        target, source = q.shape[2], k.shape[2]
        causal_only = use_causal_mask and attention_mask is None and getattr(value, "_keras_mask", None) is None
        dropout = self.dropout if self.training else 0.0
        if causal_only and not return_attention_scores and (target == source or target == 1):
            # no mask tensor, so GPUs can use the flash kernel; a single new step sees every key
            attended = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=target == source > 1)
            return self._merge_heads(attended)
        mask = self._combined_mask(query, value, attention_mask, use_causal_mask, source=source)
        if return_attention_scores:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.key_dim)  # (batch, heads, target, source)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            probabilities = torch.softmax(scores, dim=-1)
            attended = F.dropout(probabilities, dropout, self.training) @ v
        else:
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        output = self._merge_heads(attended)
        return (output, probabilities) if return_attention_scores else output

    def _merge_heads(self, attended: torch.Tensor) -> torch.Tensor:
        """(batch, heads, target, value_dim) -> the output projection, (batch, target, output_shape)."""
        heads, value_dim = self.output_kernel.shape[:2]
        merged = attended.transpose(1, 2).flatten(2)  # (batch, target, heads * value_dim)
        return F.linear(merged, self.output_kernel.reshape(heads * value_dim, -1).T, self.output_bias)

    def _combined_mask(self, query: torch.Tensor, value: torch.Tensor, attention_mask: torch.Tensor | None,
                       use_causal_mask: bool, source: int) -> torch.Tensor | None:
        """One boolean mask (batch, 1, target, source), True where attention is allowed, or None."""
        target = query.shape[1]
        mask = None
        if attention_mask is not None:
            if tuple(attention_mask.shape[-2:]) != (target, source):
                raise ValueError(f"MultiHeadAttention '{self.name}': attention_mask must have shape (batch, {target}, "
                                 f"{source}); got {tuple(attention_mask.shape)}.")
            mask = attention_mask.bool().reshape(attention_mask.shape[0], 1, target, source)
        value_mask = getattr(value, "_keras_mask", None)
        if value_mask is not None:
            padding = value_mask.bool()[:, None, None, :]
            mask = padding if mask is None else mask & padding
        if use_causal_mask:
            causal = torch.ones(target, source, dtype=torch.bool, device=query.device).tril(source - target)
            mask = causal[None, None] if mask is None else mask & causal
        if mask is not None:  # a row with nothing to attend to would give NaN: let it attend everywhere
            mask = mask | ~mask.any(dim=-1, keepdim=True)
        return mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self.output_size, "rotary_embedding": self.rotary_embedding is not None,
                **kernel_bias_config(self)}


class _ScoreAttention(Layer):
    """Shared mechanism of Attention and AdditiveAttention: called on [query, value] or [query, value, key]."""

    supports_masking = True

    def __init__(self, use_scale: bool = False, dropout: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("score_mode", None)
        super().__init__(**kwargs)
        self.use_scale, self.dropout = bool(use_scale), require_rate("dropout", dropout, self)

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list) or len(input_shape) not in (2, 3):
            raise ValueError(f"{type(self).__name__} '{self.name}' is called on [query, value] or [query, value, key]; "
                             f"got input shape {input_shape}.")

    def scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs: list[torch.Tensor], return_attention_scores: bool = False,
                use_causal_mask: bool = False) -> Any:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        scores = self.scores(query, key)  # (batch, target, source)
        value_mask = getattr(value, "_keras_mask", None)
        if value_mask is not None:
            scores = scores.masked_fill(~value_mask.bool()[:, None, :], float("-inf"))
        if use_causal_mask:
            causal = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
            scores = scores.masked_fill(~causal, float("-inf"))
        probabilities = torch.softmax(scores, dim=-1).nan_to_num(0.0)
        output = F.dropout(probabilities, self.dropout, self.training) @ value
        return (output, probabilities) if return_attention_scores else output

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_scale": self.use_scale, "dropout": self.dropout}


class Attention(_ScoreAttention):
    """Dot-product attention (Luong): softmax(query @ key^T [* scale]) @ value."""

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        self.scale = self.add_weight("scale", (), "ones") if self.use_scale else None

    def scores(self, query, key):
        scores = query @ key.transpose(-1, -2)
        return scores * self.scale if self.scale is not None else scores


class AdditiveAttention(_ScoreAttention):
    """Additive attention (Bahdanau): softmax(sum(scale * tanh(query + key))) @ value."""

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        self.scale = self.add_weight("scale", (input_shape[0][-1],), "glorot_uniform") if self.use_scale else None

    def scores(self, query, key):
        combined = torch.tanh(query[:, :, None, :] + key[:, None, :, :])  # (batch, target, source, features)
        return (combined * self.scale).sum(-1) if self.scale is not None else combined.sum(-1)
