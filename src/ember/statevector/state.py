"""`QuantumState`: the simulator's state vector with the templates and measurements as methods,
so that a circuit reads `state.angle_embedding(x); state.strongly_entangling_layers(w);
return state.expval_z()` (the functions live in `templates.py` and `measurements.py`)."""

from __future__ import annotations

from typing import Sequence

import torch

from ember.statevector import measurements, templates
from ember.statevector.vector import StateVector


class QuantumState(StateVector):
    """Amplitudes `(batch, 2**num_qubits)` of a batch of circuits, starting in |0...0>; the gates of
    `StateVector`, plus templates and measurements (see `ember.statevector.templates`, `.measurements`)."""

    def angle_embedding(self, features: torch.Tensor, rotation: str = "X", wires: Sequence[int] | None = None):
        return templates.angle_embedding(self, features, rotation, wires)

    def amplitude_embedding(self, features: torch.Tensor, pad_with: float = 0.0):
        return templates.amplitude_embedding(self, features, pad_with)

    def basic_entangler_layers(self, weights: torch.Tensor, rotation: str = "X"):
        return templates.basic_entangler_layers(self, weights, rotation)

    def strongly_entangling_layers(self, weights: torch.Tensor, ranges: Sequence[int] | None = None,
                                   imprimitive: str = "CNOT"):
        return templates.strongly_entangling_layers(self, weights, ranges, imprimitive)

    def expval_z(self, wires: Sequence[int] | None = None) -> torch.Tensor:
        return measurements.expval_z(self, wires)

    def expval(self, observable: str | dict[int, str]) -> torch.Tensor:
        return measurements.expval(self, observable)

    def probs(self, wires: Sequence[int] | None = None) -> torch.Tensor:
        return measurements.probs(self, wires)

    def sample(self, shots: int, wires: Sequence[int] | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        return measurements.sample(self, shots, wires, generator)
