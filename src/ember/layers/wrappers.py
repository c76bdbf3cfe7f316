"""Layers that wrap another layer: Bidirectional (an RNN both ways), TimeDistributed (per step),
SpectralNormalization (a kernel scaled to unit spectral norm) and TorchModuleWrapper (a plain torch
module as a layer)."""

from __future__ import annotations

from typing import Any

import torch

from ember._validation import require_choice
from ember.layers.base import Layer, Shape
from ember.layers.serialization import deserialize_layer, serialize_layer

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

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        return mask if self.return_sequences else None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        return {**config, "layer": serialize_layer(self.forward_layer), "merge_mode": self.merge_mode}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Bidirectional":
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
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TimeDistributed":
        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)


class SpectralNormalization(Layer):
    """Divides a layer's kernel by its largest singular value at every call (Miyato et al., 2018).

    Args:
        layer: a layer with a `kernel` weight (Dense, Conv2D, Conv2DTranspose, ...).
        power_iterations: power-method steps per training call that refine the singular vector.
    The kernel is viewed, in Keras's layout, as a matrix `(-1, last axis)`; its largest singular
    value sigma is estimated from a persistent vector `vector_u` (updated only while training) and
    the wrapped layer runs with `kernel / sigma`. Gradients flow through sigma, as in the paper; the
    stored kernel itself is never rewritten. Shapes are those of the wrapped layer.
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault("name", f"spectral_normalization_{layer.name}")
        super().__init__(**kwargs)
        if not isinstance(power_iterations, int) or power_iterations < 1:
            raise ValueError(f"SpectralNormalization: power_iterations must be a positive integer; "
                             f"got {power_iterations!r}.")
        self.layer, self.power_iterations = layer, power_iterations

    def build(self, input_shape: Shape) -> None:
        self.layer.build_from_shapes(input_shape)
        if not isinstance(getattr(self.layer, "kernel", None), torch.nn.Parameter):
            raise ValueError(f"SpectralNormalization wraps a layer with a trainable `kernel` weight (Dense, Conv2D, "
                             f"...); '{self.layer.name}' ({type(self.layer).__name__}) has none.")
        columns = self._kernel_matrix().shape[1]
        self.vector_u = self.add_weight("vector_u", (1, columns), "random_normal", trainable=False)

    def _kernel_matrix(self) -> torch.Tensor:
        kernel, layout = self.layer.kernel, self.layer._layouts.get("kernel")
        keras_kernel = layout.to_keras(kernel) if layout is not None else kernel
        return keras_kernel.reshape(-1, keras_kernel.shape[-1])

    def forward(self, inputs: Any, **kwargs: Any) -> Any:
        matrix = self._kernel_matrix()
        with torch.no_grad():
            u = self.vector_u
            for _ in range(self.power_iterations if self.training else 0):
                v = torch.nn.functional.normalize(u @ matrix.T, dim=1)
                u = torch.nn.functional.normalize(v @ matrix, dim=1)
            if self.training:
                self.vector_u.copy_(u)
            v = torch.nn.functional.normalize(u @ matrix.T, dim=1)
        sigma = (v @ matrix @ u.T).reshape(())
        normalized = self.layer.kernel / sigma
        return torch.func.functional_call(self.layer, {"kernel": normalized}, (inputs,), kwargs, strict=False)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": serialize_layer(self.layer),
                "power_iterations": self.power_iterations}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "SpectralNormalization":
        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)


class TorchModuleWrapper(Layer):
    """A plain `torch.nn.Module` as an ember layer (Keras 3's `layers.TorchModuleWrapper`): its
    parameters are the layer's weights (trained, counted, saved with `save_weights`), and it can
    be called on symbolic tensors in functional models. The module's code is not data, so a model
    holding one is saved with `save_weights`, not `save`.

    Input and output shapes: the module's own (ember passes tensors through unchanged).
    """

    def __init__(self, module: torch.nn.Module, **kwargs: Any) -> None:
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"TorchModuleWrapper wraps a torch.nn.Module; got {type(module).__name__}.")
        kwargs.setdefault("name", f"torch_module_wrapper_{type(module).__name__.lower()}")
        super().__init__(**kwargs)
        self.module = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        raise TypeError(f"TorchModuleWrapper '{self.name}' holds a {type(self.module).__name__}, whose code cannot "
                        "be written to a file (ember never stores code). Save the weights with "
                        "model.save_weights(path) and rebuild the model in code to load them.")
