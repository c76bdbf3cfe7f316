"""The gate set: 2x2 matrices of one-qubit gates as torch tensors, batched over their angles.

Each parametrised gate takes angles of any shape `(...)` and returns matrices `(..., 2, 2)`, so one
call builds the gates of a whole batch or of a whole layer of qubits. Conventions follow PennyLane
(and Nielsen & Chuang): `RX(t) = exp(-i t X / 2)`, `Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)`,
wire 0 is the most significant bit of a basis state's index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

Matrix = torch.Tensor  # (..., 2, 2) complex


def _matrix(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor) -> Matrix:
    """[[a, b], [c, d]] stacked on two new trailing axes."""
    return torch.stack([torch.stack([a, b], -1), torch.stack([c, d], -1)], -2)


def _complex(angle: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return angle.to(torch.float64 if dtype == torch.complex128 else torch.float32)


def _scaled_phase(magnitude: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """magnitude * e^{i angle}, differentiable for magnitudes of either sign (torch.polar's
    gradient assumes a nonnegative magnitude)."""
    return torch.complex(magnitude * torch.cos(angle), magnitude * torch.sin(angle))


def rx(angle: torch.Tensor, dtype: torch.dtype = torch.complex64) -> Matrix:
    half = _complex(angle, dtype) / 2
    cos, sin = torch.cos(half).to(dtype), torch.sin(half).to(dtype)
    return _matrix(cos, -1j * sin, -1j * sin, cos)


def ry(angle: torch.Tensor, dtype: torch.dtype = torch.complex64) -> Matrix:
    half = _complex(angle, dtype) / 2
    cos, sin = torch.cos(half).to(dtype), torch.sin(half).to(dtype)
    return _matrix(cos, -sin, sin, cos)


def rz(angle: torch.Tensor, dtype: torch.dtype = torch.complex64) -> Matrix:
    half = _complex(angle, dtype) / 2
    phase = _scaled_phase(torch.ones_like(half), -half)  # e^{-i t/2}
    zero = torch.zeros_like(phase)
    return _matrix(phase, zero, zero, phase.conj()).to(dtype)


def rot(phi: torch.Tensor, theta: torch.Tensor, omega: torch.Tensor, dtype: torch.dtype = torch.complex64) -> Matrix:
    """RZ(omega) RY(theta) RZ(phi) in closed form (one matrix, not three products)."""
    phi, theta, omega = (_complex(t, dtype) for t in (phi, theta, omega))
    cos, sin = torch.cos(theta / 2), torch.sin(theta / 2)
    plus, minus = (phi + omega) / 2, (phi - omega) / 2
    a = _scaled_phase(cos, -plus)
    b = -_scaled_phase(sin, minus)
    c = _scaled_phase(sin, -minus)
    d = _scaled_phase(cos, plus)
    return _matrix(a, b, c, d).to(dtype)


def _fixed(rows: list[list[complex]]) -> Callable[[torch.dtype], Matrix]:
    return lambda dtype=torch.complex64: torch.tensor(rows, dtype=dtype)


_SQRT_HALF = 1 / math.sqrt(2)
hadamard = _fixed([[_SQRT_HALF, _SQRT_HALF], [_SQRT_HALF, -_SQRT_HALF]])
pauli_x = _fixed([[0, 1], [1, 0]])
pauli_y = _fixed([[0, -1j], [1j, 0]])
pauli_z = _fixed([[1, 0], [0, -1]])
s_gate = _fixed([[1, 0], [0, 1j]])
t_gate = _fixed([[1, 0], [0, complex(_SQRT_HALF, _SQRT_HALF)]])


@dataclass(frozen=True)
class GateKind:
    """A named gate: how many wires and angles it takes, and its target's 2x2 matrix.

    Controlled gates (`controlled=True`) act with `matrix` on their last wire when the first is 1.
    """

    name: str
    num_wires: int
    num_params: int
    matrix: Callable[..., Matrix]
    controlled: bool = False


GATES: dict[str, GateKind] = {kind.name: kind for kind in [
    GateKind("RX", 1, 1, rx), GateKind("RY", 1, 1, ry), GateKind("RZ", 1, 1, rz), GateKind("Rot", 1, 3, rot),
    GateKind("Hadamard", 1, 0, hadamard), GateKind("PauliX", 1, 0, pauli_x), GateKind("PauliY", 1, 0, pauli_y),
    GateKind("PauliZ", 1, 0, pauli_z), GateKind("S", 1, 0, s_gate), GateKind("T", 1, 0, t_gate),
    GateKind("CNOT", 2, 0, pauli_x, controlled=True), GateKind("CZ", 2, 0, pauli_z, controlled=True),
    GateKind("CY", 2, 0, pauli_y, controlled=True),
    GateKind("CRX", 2, 1, rx, controlled=True), GateKind("CRY", 2, 1, ry, controlled=True),
    GateKind("CRZ", 2, 1, rz, controlled=True), GateKind("CRot", 2, 3, rot, controlled=True),
]}
_ALIASES = {"H": "Hadamard", "X": "PauliX", "Y": "PauliY", "Z": "PauliZ", "CX": "CNOT"}


def get(name: str) -> GateKind:
    """The gate called `name` (case-insensitive; "H", "X", "CX" also work)."""
    lookup = {key.lower(): kind for key, kind in GATES.items()}
    lookup.update({alias.lower(): GATES[target] for alias, target in _ALIASES.items()})
    if name.lower() not in lookup:
        raise ValueError(f"Unknown gate {name!r}; the known gates are {sorted(GATES)} "
                         f"(and the aliases {sorted(_ALIASES)}).")
    return lookup[name.lower()]
