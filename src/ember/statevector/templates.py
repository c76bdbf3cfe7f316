"""Circuit templates on a `QuantumState`: angle and amplitude embeddings of classical features,
and PennyLane's basic and strongly entangling layers (same weight shapes and gate order, so their
weights carry over).

Entangling rings of CNOTs are applied as one permutation of the basis states and rings of CZs as
one sign vector, computed once per (qubit count, pattern): a layer costs `num_qubits` small
matmuls and one gather, whatever its entanglers.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch._subclasses.fake_tensor import FakeTensor

from ember.statevector import gates as gate_set
from ember.statevector.constants import cached_constant
from ember.statevector.vector import StateVector


_ROTATIONS = {"X": gate_set.rx, "Y": gate_set.ry, "Z": gate_set.rz}


def rotation_gate(name: str):
    """("X"|"Y"|"Z", the matrix function of that rotation) for a rotation axis name."""
    if name.upper() not in _ROTATIONS:
        raise ValueError(f"Unknown rotation {name!r}; expected one of {sorted(_ROTATIONS)}.")
    return name.upper(), _ROTATIONS[name.upper()]


def angle_embedding(state: StateVector, features: torch.Tensor, rotation: str = "X",
                    wires: Sequence[int] | None = None) -> StateVector:
    """Feature `j` of `features` `(batch, k)` (or `(k,)`) as the angle of an R`rotation` on wire j
    (or `wires[j]`); `k` at most the number of wires."""
    name, matrix = rotation_gate(rotation)
    features = torch.as_tensor(features, device=state.device)
    features = features[None] if features.ndim == 1 else features
    wires = list(range(state.num_qubits)) if wires is None else list(wires)
    if features.ndim != 2 or features.shape[1] > len(wires):
        raise ValueError(f"angle_embedding encodes one feature per wire: at most {len(wires)} features; got "
                         f"features of shape {tuple(features.shape)}. Reduce the features first (e.g. a Dense "
                         f"layer or PCA to {len(wires)}), or use more qubits.")
    rotations = matrix(features, dtype=state.dtype)  # (batch, k, 2, 2)
    wires = [state._wire(w) for w in wires[:features.shape[1]]]
    if not state.operations and len(set(wires)) == len(wires):
        state.amplitudes = _product_state(rotations[..., 0], wires, state)  # each rotation's |0> column
    else:
        for j, wire in enumerate(wires):
            state.amplitudes = state._apply_matrix(state.amplitudes, rotations[:, j], wire, state.num_qubits)
    state.operations.extend((f"R{name}", (wire,), "x") for wire in wires)
    return state


def _product_state(columns: torch.Tensor, wires: list[int], state: StateVector) -> torch.Tensor:
    """The amplitudes `(batch, 2**n)` of one-qubit states `columns` `(batch, k, 2)` on `wires` and
    |0> elsewhere, as Kronecker products (a pass over 2**n amplitudes instead of one per gate)."""
    zero = torch.tensor([1, 0], dtype=columns.dtype, device=columns.device).expand(columns.shape[0], 2)
    amplitudes = torch.ones(columns.shape[0], 1, dtype=columns.dtype, device=columns.device)
    for wire in range(state.num_qubits):
        qubit = columns[:, wires.index(wire)] if wire in wires else zero
        amplitudes = (amplitudes[:, :, None] * qubit[:, None, :]).reshape(columns.shape[0], -1)
    return amplitudes


def amplitude_embedding(state: StateVector, features: torch.Tensor, pad_with: float = 0.0) -> StateVector:
    """Features `(batch, k)`, `k <= 2**num_qubits`, padded with `pad_with` and normalised, as the
    amplitudes of the state (which must still be |0...0>)."""
    size = 2 ** state.num_qubits
    if state.operations:
        raise ValueError("amplitude_embedding prepares the whole state: call it before any gate.")
    features = torch.as_tensor(features, device=state.device)
    features = features[None] if features.ndim == 1 else features
    if features.ndim != 2 or features.shape[1] > size:
        raise ValueError(f"amplitude_embedding of {state.num_qubits} qubits encodes at most {size} features; "
                         f"got features of shape {tuple(features.shape)}.")
    if features.shape[1] < size:
        features = torch.nn.functional.pad(features, (0, size - features.shape[1]), value=pad_with)
    features = features.to(state.real_dtype)
    norm = features.norm(dim=1, keepdim=True)
    if features.device.type == "cpu" and not isinstance(features, FakeTensor):  # no GPU sync per step: PQC
        check_nonzero_rows(features)  # checks its data on entry (check_input_values)
    state.amplitudes = (features / norm.clamp_min(torch.finfo(features.dtype).tiny)).to(state.dtype)
    state.operations.extend(("Amp", (wire,), "x") for wire in range(state.num_qubits))
    return state


def check_nonzero_rows(features: torch.Tensor) -> None:
    """Raises when a sample's features are all zero: amplitude embedding has no direction to encode."""
    if bool((features.reshape(features.shape[0], -1) == 0).all(1).any()):
        raise ValueError("amplitude_embedding got a sample whose features are all zero: it has no direction "
                         "to encode. Pad with a nonzero value (pad_with=) or drop the sample.")


@cached_constant
def cnot_permutation(num_qubits: int, pairs: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """The gather index of the CNOTs `pairs` (control, target) applied in order: after them,
    amplitude `i` is the old amplitude `index[i]`."""
    index = torch.arange(2 ** num_qubits)
    composed = index.clone()
    for control, target in pairs:
        control_bit, target_bit = 1 << (num_qubits - 1 - control), 1 << (num_qubits - 1 - target)
        flipped = torch.where(index & control_bit != 0, index ^ target_bit, index)
        composed = composed[flipped]
    return composed


@cached_constant
def cz_signs(num_qubits: int, pairs: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """The diagonal (+1/-1 per basis state) of the CZs `pairs`."""
    index = torch.arange(2 ** num_qubits)
    signs = torch.ones(2 ** num_qubits)
    for first, second in pairs:
        both = (index >> (num_qubits - 1 - first)) & (index >> (num_qubits - 1 - second)) & 1
        signs = signs * (1 - 2 * both)
    return signs


def entangle(state: StateVector, pairs: Sequence[tuple[int, int]], imprimitive: str = "CNOT") -> StateVector:
    """CNOTs or CZs on `pairs` of wires (control, target), in order, as one gather or one product."""
    pairs = tuple((state._wire(a), state._wire(b)) for a, b in pairs)
    if any(a == b for a, b in pairs):
        raise ValueError(f"An entangling gate needs two different wires; got pairs {pairs}.")
    kind = gate_set.get(imprimitive).name
    if kind == "CNOT":
        return state.permute(cnot_permutation(state.num_qubits, pairs, device=state.device), "CNOT", pairs)
    if kind == "CZ":
        return state.scale(cz_signs(state.num_qubits, pairs, device=state.device, dtype=state.dtype), "CZ", pairs)
    raise ValueError(f"Entangling layers use CNOT or CZ; got {imprimitive!r}.")


def ring(num_qubits: int, distance: int = 1) -> list[tuple[int, int]]:
    """Pairs (i, i + distance mod n): PennyLane's ring; one pair for two qubits, none for one."""
    if num_qubits == 1:
        return []
    if num_qubits == 2:
        return [(0, 1)]
    return [(i, (i + distance) % num_qubits) for i in range(num_qubits)]


def _check_weights(name: str, weights: torch.Tensor, num_qubits: int, trailing: tuple[int, ...]) -> None:
    expected = ("layers", num_qubits, *trailing)
    if weights.ndim != len(expected) or tuple(weights.shape[1:]) != (num_qubits, *trailing):
        raise ValueError(f"{name} needs weights of shape {expected}; got {tuple(weights.shape)}.")


def basic_entangler_layers(state: StateVector, weights: torch.Tensor, rotation: str = "X") -> StateVector:
    """Per layer: R`rotation`(weights[l, w]) on every wire w, then a ring of CNOTs. weights `(layers, n)`."""
    name, matrix = rotation_gate(rotation)
    _check_weights("basic_entangler_layers", weights, state.num_qubits, ())
    rotations = matrix(weights, dtype=state.dtype)  # (layers, n, 2, 2)
    for layer in range(weights.shape[0]):
        state.apply_matrices(rotations[layer], f"R{name}")
        entangle(state, ring(state.num_qubits))
    return state


def strongly_entangling_layers(state: StateVector, weights: torch.Tensor, ranges: Sequence[int] | None = None,
                               imprimitive: str = "CNOT") -> StateVector:
    """Per layer l: Rot(*weights[l, w]) on every wire w, then CNOTs (w, w + r_l mod n) for every w,
    with PennyLane's default ranges r_l = l mod (n - 1) + 1. weights `(layers, n, 3)`."""
    n = state.num_qubits
    _check_weights("strongly_entangling_layers", weights, n, (3,))
    num_layers = weights.shape[0]
    if ranges is None:
        ranges = [(layer % (n - 1)) + 1 if n > 1 else 0 for layer in range(num_layers)]
    if len(ranges) != num_layers:
        raise ValueError(f"strongly_entangling_layers: {len(ranges)} ranges for {num_layers} layers.")
    rotations = gate_set.rot(weights[..., 0], weights[..., 1], weights[..., 2], dtype=state.dtype)
    for layer in range(num_layers):
        state.apply_matrices(rotations[layer], "Rot")
        if n > 1:
            entangle(state, [(w, (w + ranges[layer]) % n) for w in range(n)], imprimitive)
    return state


def weight_shape(template: str, num_layers: int, num_qubits: int) -> tuple[int, ...]:
    """The weight shape a template takes ("basic" or "strong")."""
    return {"basic": (num_layers, num_qubits), "strong": (num_layers, num_qubits, 3)}[template]
