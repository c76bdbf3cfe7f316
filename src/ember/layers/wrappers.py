"""Layers that wrap another layer: Bidirectional (an RNN both ways) and TimeDistributed (per step)."""

from __future__ import annotations

from typing import Any

import torch

from ember._validation import require_choice
from ember.layers.base import Layer, Shape

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the two.

    Args:
        layer: an RNN layer (SimpleRNN, LSTM, GRU).
        merge_mode: "concat" (default), "sum", "mul", "ave", or None (a list of both outputs).
        backward_layer: an explicit backward layer (default: a copy of `layer` with `go_backwards`).
    Padding masks reach both directions; the backward outputs are put back in time order.
    """

    supports_masking = True

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Layer | None = None, **kwargs: Any) -> None:
        if not hasattr(layer, "go_backwards") or not hasattr(layer, "return_sequences"):
            raise TypeError(f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU); got {layer!r}.")
        kwargs.setdefault("name", f"bidirectional_{layer.name}")
        super().__init__(**kwargs)
        self.merge_mode = require_choice("merge_mode", merge_mode, _MERGE_MODES, self)
        if backward_layer is None:
            config = dict(layer.get_config(), name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
            config.pop("input_shape", None)
            backward_layer = type(layer).from_config(config)
        self.forward_layer, self.backward_layer = layer, backward_layer
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        if weights is not None:
            self._initial_weights = weights

    def build(self, input_shape: Shape) -> None:
        self.forward_layer.build_from_shapes(input_shape)
        self.backward_layer.build_from_shapes(input_shape)
        if getattr(self, "_initial_weights", None) is not None:
            self.set_weights(self._initial_weights)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None,
                initial_state: list[torch.Tensor] | None = None) -> Any:
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        forward_out = self.forward_layer(inputs, mask=mask, initial_state=forward_state)
        backward_out = self.backward_layer(inputs, mask=mask, initial_state=backward_state)
        states: list[torch.Tensor] = []
        if self.return_state:
            states = forward_out[1:] + backward_out[1:]
            forward_out, backward_out = forward_out[0], backward_out[0]
        if self.return_sequences:
            backward_out = backward_out.flip(1)  # back in time order
        merged = self._merge(forward_out, backward_out)
        if self.return_state:
            return (merged if isinstance(merged, list) else [merged]) + states
        return merged

    def _merge(self, forward_out: torch.Tensor, backward_out: torch.Tensor) -> Any:
        if self.merge_mode == "concat":
            return torch.cat([forward_out, backward_out], dim=-1)
        if self.merge_mode == "sum":
            return forward_out + backward_out
        if self.merge_mode == "mul":
            return forward_out * backward_out
        if self.merge_mode == "ave":
            return (forward_out + backward_out) / 2
        return [forward_out, backward_out]

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        return mask if self.return_sequences else None

    def get_config(self) -> dict[str, Any]:
        from ember.saving import serialize_layer

        config = super().get_config()
        return {**config, "layer": serialize_layer(self.forward_layer), "merge_mode": self.merge_mode}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Bidirectional":
        from ember.saving import deserialize_layer

        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)


class TimeDistributed(Layer):
    """Applies a layer to every step: `(batch, steps, ...)` -> `(batch, steps, ...layer output)`."""

    supports_masking = True

    def __init__(self, layer: torch.nn.Module, **kwargs: Any) -> None:
        kwargs.setdefault("name", f"time_distributed_{getattr(layer, 'name', type(layer).__name__.lower())}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects input (batch, steps, ...) of rank 3 or more; "
                             f"got shape {input_shape}.")
        if isinstance(self.layer, Layer):
            self.layer.build_from_shapes((None,) + tuple(input_shape[2:]))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, steps = inputs.shape[:2]
        outputs = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]))
        return outputs.reshape(batch, steps, *outputs.shape[1:])

    def get_config(self) -> dict[str, Any]:
        from ember.saving import serialize_layer

        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TimeDistributed":
        from ember.saving import deserialize_layer

        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)
