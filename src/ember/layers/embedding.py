"""Embedding (integer ids -> vectors) and Masking (marking padded steps)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember import constraints, initializers, regularizers
from ember._validation import require_positive_int
from ember.layers.base import Layer, Shape


class Embedding(Layer):
    """Turns integer ids into dense vectors: `(batch, steps)` -> `(batch, steps, output_dim)`.

    Args:
        input_dim: vocabulary size; ids must lie in [0, input_dim).
        output_dim: size of each vector.
        mask_zero: treat id 0 as padding: a mask flows to the layers after it (RNNs, pooling,
            losses), so padded steps never change a result.
        input_length: accepted as the old tutorials pass it (the sequence length).
    Ids are checked against `input_dim` when data enters a model, so a bad id gets a clear error.
    """

    stepwise_decoding = True
    integer_inputs = True

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None, mask_zero: bool = False,
                 input_length: int | None = None, **kwargs: Any) -> None:
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        kwargs.pop("sparse", None)
        super().__init__(**kwargs)
        self.input_dim = require_positive_int("input_dim", input_dim, self)
        self.output_dim = require_positive_int("output_dim", output_dim, self)
        initializer = "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer
        self.embeddings_initializer = initializers.get(initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero, self.input_length = bool(mask_zero), input_length
        self.creates_mask = self.mask_zero

    def build(self, input_shape: Shape) -> None:
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        ids = inputs if not inputs.is_floating_point() else inputs.long()
        return F.embedding(ids, self.embeddings)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        return inputs != 0 if self.mask_zero else None

    def check_input_values(self, inputs: torch.Tensor) -> None:
        if not inputs.numel():
            return
        low, high = inputs.min().item(), inputs.max().item()
        fractional = inputs.is_floating_point() and not torch.equal(inputs, inputs.round())
        if low < 0 or high >= self.input_dim or fractional:
            raise ValueError(f"Embedding '{self.name}' takes integer ids in [0, {self.input_dim}) (input_dim="
                             f"{self.input_dim}); got ids from {low:g} to {high:g}. Raise input_dim to at least "
                             f"{int(high) + 1}, or limit the vocabulary (e.g. Tokenizer(num_words={self.input_dim})).")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}


class Masking(Layer):
    """Marks steps whose features all equal `mask_value` as padding (and zeroes them)."""

    supports_masking = True
    creates_mask = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self.compute_mask(inputs, None).unsqueeze(-1).to(inputs.dtype)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return (inputs != self.mask_value).any(dim=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}
