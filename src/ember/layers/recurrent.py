"""Recurrent layers: SimpleRNN, LSTM and GRU (Keras 3's arguments, weight layouts and gate orders).

Two paths compute the same thing:
- the fused path (PyTorch's LSTM/GRU/RNN kernels, cuDNN on GPUs) whenever the arguments allow:
  tanh/sigmoid activations, no recurrent dropout, GRU with `reset_after=True`;
- a general path, a loop over time steps, for everything else (e.g. `activation="relu"` on an LSTM).
Padding masks (from `Embedding(mask_zero=True)` or `Masking`) work on both: padded steps never
change the state, whether the padding is before the tokens ("pre", Keras's default) or after.
On the fused path the valid steps of each sequence are gathered to the front first.

Weights are stored in PyTorch's layout; get_weights/set_weights use Keras's: kernel
`(features, gates * units)`, recurrent_kernel `(units, gates * units)`, gates LSTM (i, f, c, o),
GRU (z, r, h).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember import activations
from ember._validation import require_positive_int, require_rate
from ember.layers.base import TRANSPOSED, Layer, Layout, Shape
from ember.layers.weight_arguments import kernel_bias_config, set_kernel_bias_arguments

_FUSED = {"lstm": torch.lstm, "gru": torch.gru, "rnn_tanh": torch.rnn_tanh, "rnn_relu": torch.rnn_relu}


class _Recurrent(Layer):
    """Shared mechanism of SimpleRNN, LSTM and GRU."""

    gates: int
    kernel_layout: Layout = TRANSPOSED
    supports_masking = True

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if stateful:
            raise ValueError(f"{type(self).__name__} '{self.name}': stateful=True is not supported; carry state "
                             "between calls with return_state=True and initial_state=[...].")
        self.units = require_positive_int("units", units, self)
        self.activation, self.recurrent_activation = activations.get(activation), activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        set_kernel_bias_arguments(self, kernel_initializer=kernel_initializer,
                                  recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                                  kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                                  bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                                  recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        self.dropout = require_rate("dropout", dropout, self)
        self.recurrent_dropout = require_rate("recurrent_dropout", recurrent_dropout, self)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.unroll, self.seed = bool(go_backwards), bool(unroll), seed

    # --------------------------------------------------------------- building
    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != 3 or input_shape[-1] is None:
            hint = " Add a features axis, e.g. x[..., None] for one value per step." if len(input_shape) == 2 else ""
            raise ValueError(f"{type(self).__name__} '{self.name}' expects 3-D input (batch, timesteps, features); "
                             f"got shape {input_shape}.{hint}")
        width = self.gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      layout=self.kernel_layout)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, layout=self.kernel_layout)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", self.bias_shape(), self.bias_initializer_for_build(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        layout=self.bias_layout())

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def bias_initializer_for_build(self) -> Any:
        return self.bias_initializer

    def bias_layout(self) -> Layout | None:
        return None

    def fused_biases(self) -> list[torch.Tensor]:
        """The (input bias, recurrent bias) pair PyTorch's kernels take."""
        return [self.bias, torch.zeros_like(self.bias)]

    # ------------------------------------------------------------- computing
    def uses_fused_path(self) -> bool:
        return (self.fused_kernel_name() is not None and self.recurrent_dropout == 0 and not self.unroll)

    def fused_kernel_name(self) -> str | None:
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None,
                initial_state: list[torch.Tensor] | None = None) -> Any:
        if self.dropout and self.training:
            keep = torch.empty(inputs.shape[0], 1, inputs.shape[2], device=inputs.device, dtype=inputs.dtype)
            inputs = inputs * keep.bernoulli_(1 - self.dropout) / (1 - self.dropout)
        states = self.initial_states(inputs, initial_state)
        needs_general = not self.uses_fused_path() or (mask is not None and self.return_state and len(states) > 1)
        if needs_general:
            sequence, states = self.run_general(inputs, mask, states)
        else:
            sequence, states = self.run_fused(inputs, mask, states)
        output = sequence if self.return_sequences else states[0]
        return [output, *states] if self.return_state else output

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        if mask is None or not self.return_sequences:
            return None
        return mask.flip(1) if self.go_backwards else mask

    def initial_states(self, inputs: torch.Tensor, given: list[torch.Tensor] | None) -> list[torch.Tensor]:
        count = 2 if isinstance(self, LSTM) else 1
        if given is None:
            zeros = inputs.new_zeros(inputs.shape[0], self.units)
            return [zeros] * count
        given = list(given) if isinstance(given, (list, tuple)) else [given]
        if len(given) != count or any(tuple(s.shape) != (inputs.shape[0], self.units) for s in given):
            raise ValueError(f"{type(self).__name__} '{self.name}': initial_state must be {count} tensor(s) of shape "
                             f"(batch, {self.units}); got {[tuple(s.shape) for s in given]}.")
        return given

    def run_fused(self, inputs: torch.Tensor, mask: torch.Tensor | None,
                  states: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        kernel = _FUSED[self.fused_kernel_name()]
        parameters = [self.kernel, self.recurrent_kernel] + (self.fused_biases() if self.use_bias else [])
        hidden = tuple(s.unsqueeze(0) for s in states) if len(states) > 1 else states[0].unsqueeze(0)
        if mask is None:
            x = inputs.flip(1) if self.go_backwards else inputs
            result = kernel(x, hidden, parameters, self.use_bias, 1, 0.0, self.training, False, True)
            sequence, final = result[0], [r.squeeze(0) for r in result[1:]]
            return sequence, final
        lengths = mask.sum(dim=1)  # (batch,)
        order = _valid_steps_first(mask, lengths)
        steps = torch.arange(inputs.shape[1], device=inputs.device).expand_as(order)
        processing = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps) \
            if self.go_backwards else steps
        source = order.gather(1, processing)  # where each processed step comes from
        x = inputs.gather(1, source.unsqueeze(-1).expand(-1, -1, inputs.shape[2]))
        processed = kernel(x, hidden, parameters, self.use_bias, 1, 0.0, self.training, False, True)[0]
        valid = (steps < lengths[:, None]).unsqueeze(-1)
        last = processed.gather(1, (lengths - 1).clamp_min(0)[:, None, None].expand(-1, 1, self.units)).squeeze(1)
        last = torch.where(lengths[:, None] > 0, last, states[0])
        if not self.return_sequences:
            return processed, [last]
        sequence = torch.zeros_like(processed).scatter(1, source.unsqueeze(-1).expand_as(processed),
                                                       processed * valid)
        return (sequence.flip(1) if self.go_backwards else sequence), [last]

    def run_general(self, inputs: torch.Tensor, mask: torch.Tensor | None,
                    states: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        projected = F.linear(inputs, self.kernel, self.input_bias())  # (batch, steps, gates * units)
        recurrent_keep = None
        if self.recurrent_dropout and self.training:
            recurrent_keep = torch.empty_like(states[0]).bernoulli_(1 - self.recurrent_dropout) / (
                1 - self.recurrent_dropout)
        steps = range(inputs.shape[1] - 1, -1, -1) if self.go_backwards else range(inputs.shape[1])
        outputs = []
        for step in steps:
            hidden = states[0] if recurrent_keep is None else states[0] * recurrent_keep
            new_states = self.cell(projected[:, step], hidden, states)
            if mask is not None:
                keep = mask[:, step, None]
                new_states = [torch.where(keep, new, old) for new, old in zip(new_states, states)]
                outputs.append(torch.where(keep, new_states[0], torch.zeros_like(new_states[0])))
            else:
                outputs.append(new_states[0])
            states = new_states
        return torch.stack(outputs, dim=1), states

    def input_bias(self) -> torch.Tensor | None:
        return self.bias

    def cell(self, projected: torch.Tensor, hidden: torch.Tensor, states: list[torch.Tensor]) -> list[torch.Tensor]:
        """One step: `projected` is the input already multiplied by the kernel (bias added)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, **kernel_bias_config(self, ("kernel", "recurrent", "bias")),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "unroll": self.unroll, "seed": self.seed}


class SimpleRNN(_Recurrent):
    """Fully connected recurrence: `h = activation(x @ kernel + h @ recurrent_kernel + bias)`.

    Input `(batch, timesteps, features)`; output `(batch, units)`, or `(batch, timesteps, units)`
    with `return_sequences=True`. `activation` "tanh" (default) or "relu" runs fused.
    """

    gates = 1

    def fused_kernel_name(self) -> str | None:
        return {activations.tanh: "rnn_tanh", activations.relu: "rnn_relu"}.get(self.activation)

    def cell(self, projected, hidden, states):
        return [self.activation(projected + F.linear(hidden, self.recurrent_kernel))]


class LSTM(_Recurrent):
    """Long short-term memory. Gates (i, f, c, o); `unit_forget_bias` starts the forget bias at 1.

    Input `(batch, timesteps, features)`; output `(batch, units)` (or the whole sequence with
    `return_sequences=True`); with `return_state=True` also the final `h` and `c`.
    """

    gates = 4

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def bias_initializer_for_build(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def forget_bias_one(shape, dtype=None):
            values = base(shape, dtype)
            values[units:2 * units] = 1.0
            return values

        return forget_bias_one

    def fused_kernel_name(self) -> str | None:
        standard = self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        return "lstm" if standard else None

    def cell(self, projected, hidden, states):
        gates = projected + F.linear(hidden, self.recurrent_kernel)
        input_gate, forget_gate, candidate, output_gate = gates.chunk(4, dim=-1)
        cell_state = self.recurrent_activation(forget_gate) * states[1] + \
            self.recurrent_activation(input_gate) * self.activation(candidate)
        return [self.recurrent_activation(output_gate) * self.activation(cell_state), cell_state]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


def _swap_first_two_gates(tensor: torch.Tensor, axis: int) -> torch.Tensor:
    """Keras's GRU gates (z, r, h) <-> PyTorch's (r, z, n): the same swap both ways."""
    first, second, third = tensor.chunk(3, dim=axis)
    return torch.cat([second, first, third], dim=axis)


_GRU_KERNEL = Layout(lambda t: _swap_first_two_gates(t, 0).T, lambda t: _swap_first_two_gates(t.T, 0))
_GRU_BIAS = Layout(lambda t: _swap_first_two_gates(t, -1), lambda t: _swap_first_two_gates(t, -1))


class GRU(_Recurrent):
    """Gated recurrent unit. Gates (z, r, h); `reset_after=True` (Keras's default, and cuDNN's form)
    applies the reset gate after the recurrent product and has two biases, shape (2, 3 * units)."""

    gates = 3
    kernel_layout = _GRU_KERNEL

    def __init__(self, units: int, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def bias_layout(self) -> Layout | None:
        return _GRU_BIAS

    def fused_biases(self) -> list[torch.Tensor]:
        return [self.bias[0], self.bias[1]]

    def input_bias(self) -> torch.Tensor | None:
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def fused_kernel_name(self) -> str | None:
        standard = self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        return "gru" if standard and self.reset_after else None

    def cell(self, projected, hidden, states):
        reset_x, update_x, new_x = projected.chunk(3, dim=-1)
        if self.reset_after:
            recurrent = F.linear(hidden, self.recurrent_kernel, self.bias[1] if self.bias is not None else None)
            reset_h, update_h, new_h = recurrent.chunk(3, dim=-1)
            reset = self.recurrent_activation(reset_x + reset_h)
            candidate = self.activation(new_x + reset * new_h)
        else:
            kernel_r, kernel_z, kernel_n = self.recurrent_kernel.chunk(3, dim=0)
            reset = self.recurrent_activation(reset_x + F.linear(hidden, kernel_r))
            update_h = F.linear(hidden, kernel_z)
            candidate = self.activation(new_x + F.linear(reset * hidden, kernel_n))
        update = self.recurrent_activation(update_x + update_h)
        return [update * states[0] + (1 - update) * candidate]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}


def _valid_steps_first(mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """For each row, the step indices with the valid (mask True) steps first, each group in order:
    a stable sort of `~mask`, written with cumulative sums and a scatter (which ONNX can express)."""
    valid = mask.long()
    position = torch.where(mask, valid.cumsum(1) - 1, lengths[:, None] + (1 - valid).cumsum(1) - 1)
    steps = torch.arange(mask.shape[1], device=mask.device).expand_as(position)
    return torch.empty_like(position).scatter_(1, position, steps)
