"""Measurements of a `QuantumState`: Pauli-Z expectations per wire, expectations of Pauli products
(`"ZZII"`, `{0: "X", 2: "Y"}`), probabilities of wires' basis states, and samples with a shot count.

Expectations and probabilities are exact (the state vector's squared amplitudes) and
differentiable; samples are drawn from those probabilities and are not.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ember.statevector import gates as gate_set
from ember.statevector.constants import cached_constant
from ember.statevector.vector import StateVector


_PAULIS = "IXYZ"


def _wires(state: StateVector, wires: Sequence[int] | None) -> list[int]:
    return list(range(state.num_qubits)) if wires is None else [state._wire(w) for w in wires]


@cached_constant
def _z_signs(num_qubits: int, wires: tuple[int, ...]) -> torch.Tensor:
    """(2**n, len(wires)): +1 where the wire's bit is 0 in the basis state, -1 where it is 1."""
    index = torch.arange(2 ** num_qubits)[:, None]
    bits = (index >> torch.tensor([num_qubits - 1 - w for w in wires])) & 1
    return (1 - 2 * bits).to(torch.float64)


def _probabilities(amplitudes: torch.Tensor) -> torch.Tensor:
    return amplitudes.real ** 2 + amplitudes.imag ** 2  # |a|^2 without a complex abs's sqrt


def expval_z(state: StateVector, wires: Sequence[int] | None = None) -> torch.Tensor:
    """<Z> on each of `wires` (all by default): `(batch, len(wires))`, real, in [-1, 1]."""
    wires = tuple(_wires(state, wires))
    signs = _z_signs(state.num_qubits, wires, device=state.device, dtype=state.real_dtype)
    state.operations.extend(("<Z>", (w,), "") for w in wires)
    return _probabilities(state.amplitudes) @ signs


def _parse(state: StateVector, observable: str | dict[int, str]) -> dict[int, str]:
    if isinstance(observable, str):
        if len(observable) != state.num_qubits:
            raise ValueError(f"A Pauli string names one Pauli per wire: {state.num_qubits} letters of "
                             f"{_PAULIS!r}; got {observable!r}.")
        observable = dict(enumerate(observable))
    terms = {}
    for wire, pauli in observable.items():
        pauli = pauli.upper()
        if pauli not in _PAULIS:
            raise ValueError(f"Unknown Pauli {pauli!r} on wire {wire}; expected one of {list(_PAULIS)}.")
        if pauli != "I":
            terms[state._wire(wire)] = pauli
    return terms


def expval(state: StateVector, observable: str | dict[int, str]) -> torch.Tensor:
    """<P> of a Pauli product, e.g. `"ZZII"` (one letter per wire) or `{0: "X", 3: "Z"}`: `(batch,)`.

    X and Y are measured by rotating their eigenbasis onto Z's (H for X, H S† for Y) on a copy."""
    terms = _parse(state, observable)
    amplitudes, n = state.amplitudes, state.num_qubits
    hadamard = gate_set.hadamard(state.dtype).to(state.device)
    s_dagger = gate_set.s_gate(state.dtype).to(state.device).conj()
    for wire, pauli in terms.items():
        if pauli == "Y":
            amplitudes = state._apply_matrix(amplitudes, s_dagger, wire, n)
        if pauli in "XY":
            amplitudes = state._apply_matrix(amplitudes, hadamard, wire, n)
    state.operations.extend((f"<{pauli}>", (wire,), "") for wire, pauli in terms.items())
    if not terms:
        return _probabilities(amplitudes).sum(1)
    signs = _z_signs(n, tuple(terms), device=state.device, dtype=state.real_dtype).prod(1)
    return _probabilities(amplitudes) @ signs


def probs(state: StateVector, wires: Sequence[int] | None = None) -> torch.Tensor:
    """Probabilities of the basis states of `wires` (in that order, the first most significant):
    `(batch, 2**len(wires))`, rows summing to 1."""
    wires = _wires(state, wires)
    n = state.num_qubits
    full = _probabilities(state.amplitudes).reshape(state.batch, *([2] * n))
    others = [axis + 1 for axis in range(n) if axis not in wires]
    marginal = full.sum(others) if others else full
    kept = sorted(wires)  # the axes left, in wire order; put them in the order asked for
    marginal = marginal.permute(0, *[kept.index(w) + 1 for w in wires])
    state.operations.extend(("Probs", (w,), "") for w in wires)
    return marginal.reshape(state.batch, 2 ** len(wires))


def sample(state: StateVector, shots: int, wires: Sequence[int] | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """`shots` measurements in the computational basis: bits `(batch, shots, len(wires))`, int64."""
    if not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive int; got {shots!r}.")
    wires = _wires(state, wires)
    with torch.no_grad():
        distribution = probs(state, wires)
        outcomes = torch.multinomial(distribution, shots, replacement=True, generator=generator)  # (batch, shots)
    shifts = torch.tensor([len(wires) - 1 - i for i in range(len(wires))], device=outcomes.device)
    return (outcomes[..., None] >> shifts) & 1
