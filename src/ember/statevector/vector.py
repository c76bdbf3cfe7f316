"""The batched state-vector simulator's mechanism: `StateVector` holds amplitudes
`(batch, 2**num_qubits)` and applies gates to them as ordinary torch ops, so autograd gives exact
gradients and the same code runs on the CPU or a GPU.

A gate on wire `w` views the amplitudes as `(batch, 2**w, 2, 2**(n-w-1))` and multiplies the middle
axis by its 2x2 matrix: one batched matmul per gate, no 2**n x 2**n matrices. A controlled gate
applies its matrix to the half of the amplitudes whose control bit is 1. A state starts with batch
1 and grows to the batch of the first gate whose angles are batched (an input embedding), so
weight-only gates cost the same at any batch size.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ember.statevector import gates as gate_set

FUSED_WIRES = 4  # one-qubit gates on up to this many neighbouring wires are applied as one 16x16 product
MAX_QUBITS = 30  # beyond this even one amplitude vector needs 8 GiB


def kron(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Kronecker products of matrices `(..., a, a)` and `(..., b, b)`: `(..., a*b, a*b)`, the first
    acting on the more significant wires."""
    a, b = first.shape[-1], second.shape[-1]
    product = first[..., :, None, :, None] * second[..., None, :, None, :]  # (..., a, b, a, b)
    return product.reshape(*product.shape[:-4], a * b, a * b)


def state_bytes(num_qubits: int, batch: int, dtype: torch.dtype) -> int:
    """Bytes of one amplitude tensor `(batch, 2**num_qubits)`."""
    return batch * (2 ** num_qubits) * torch.empty((), dtype=dtype).element_size()


def available_bytes(device: torch.device) -> int | None:
    """Free memory on `device` (CUDA: free device memory; CPU: MemAvailable), None when unknown."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(num_qubits: int, batch: int, dtype: torch.dtype, device: torch.device) -> None:
    """Raises a MemoryError naming the memory a simulation would need when the device lacks it.

    Training keeps about one amplitude tensor per gate for the backward pass; the check asks for
    room for four (the state, a gate's output and the two halves of a controlled gate)."""
    if num_qubits > MAX_QUBITS:
        raise ValueError(f"A state vector of {num_qubits} qubits has 2**{num_qubits} amplitudes "
                         f"({state_bytes(num_qubits, 1, dtype) / 2**30:,.0f} GiB per sample); "
                         f"this simulator holds at most {MAX_QUBITS} qubits.")
    needed = 4 * state_bytes(num_qubits, batch, dtype)
    if needed < 2 ** 26:  # 64 MiB: not worth reading the free memory (every step builds a state)
        return
    free = available_bytes(device)
    if free is not None and needed > free:
        raise MemoryError(f"Simulating {num_qubits} qubits at batch {batch} in {dtype} needs about "
                          f"{needed / 2**30:.2f} GiB ({state_bytes(num_qubits, 1, dtype) / 2**20:.1f} MiB "
                          f"per sample and copy), but {device} has {free / 2**30:.2f} GiB free. "
                          "Use fewer qubits, a smaller batch, or complex64 instead of complex128.")


class StateVector:
    """Amplitudes of `num_qubits` qubits for a batch of circuits, starting in |0...0>.

    Gates: `rx(angle, wire)`, `ry`, `rz`, `rot(phi, theta, omega, wire)`, `hadamard(wire)`,
    `pauli_x/y/z(wire)`, `s`, `t`, `cnot(control, target)`, `cz`, `cy`, `crx/cry/crz(angle,
    control, target)`, `crot`, or `apply(name, wires, *angles)` by name. Angles are floats or tensors
    `()` (shared by the batch) or `(batch,)`. `QuantumState` adds the templates and measurements.

    Args:
        num_qubits: wires 0 .. num_qubits-1 (wire 0 is the most significant bit of a basis index).
        dtype: torch.complex64 (default) or torch.complex128.
        device: where the amplitudes live.
        batch_hint: the batch the circuit will reach (for the memory check).
    """

    def __init__(self, num_qubits: int, dtype: torch.dtype = torch.complex64, device: torch.device | str = "cpu",
                 batch_hint: int = 1) -> None:
        if not isinstance(num_qubits, int) or num_qubits < 1:
            raise ValueError(f"num_qubits must be a positive int; got {num_qubits!r}.")
        if dtype not in (torch.complex64, torch.complex128):
            raise ValueError(f"dtype must be torch.complex64 or torch.complex128; got {dtype}.")
        device = torch.device(device)
        check_memory(num_qubits, batch_hint, dtype, device)
        self.num_qubits, self.dtype, self.device = num_qubits, dtype, device
        self.real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
        amplitudes = torch.zeros(1, 2 ** num_qubits, dtype=dtype, device=device)
        amplitudes[0, 0] = 1
        self.amplitudes = amplitudes  # (batch, 2**num_qubits)
        self.operations: list[tuple[str, tuple[int, ...], str]] = []  # (gate, wires, label) for drawings

    @property
    def batch(self) -> int:
        return self.amplitudes.shape[0]

    # ---------------------------------------------------------------- the mechanism
    def _wire(self, wire: int) -> int:
        if not isinstance(wire, int) or not 0 <= wire < self.num_qubits:
            raise ValueError(f"Wire {wire!r} does not exist: this state has wires 0..{self.num_qubits - 1}.")
        return wire

    def _angle(self, angle: float | torch.Tensor) -> torch.Tensor:
        if not isinstance(angle, torch.Tensor) or not angle.is_floating_point():
            angle = torch.as_tensor(angle, dtype=self.real_dtype, device=self.device)
        if angle.ndim > 1:
            raise ValueError(f"A gate angle must be a number or a (batch,) tensor; got shape {tuple(angle.shape)}.")
        return angle

    @staticmethod
    def _apply_matrix(amplitudes: torch.Tensor, matrix: torch.Tensor, wire: int, num_qubits: int) -> torch.Tensor:
        """`matrix` `(d, d)` or `(batch, d, d)`, d = 2**k, applied to wires `wire .. wire+k-1` of
        `amplitudes` `(batch, 2**n)`."""
        size = matrix.shape[-1]
        span = size.bit_length() - 1  # the k wires the matrix acts on
        batch = max(amplitudes.shape[0], matrix.shape[0] if matrix.ndim == 3 else 1)
        view = amplitudes.reshape(amplitudes.shape[0], 2 ** wire, size, 2 ** (num_qubits - wire - span))
        if matrix.ndim == 3:
            matrix = matrix[:, None]  # (batch, 1, d, d) against (batch, 2**w, d, rest)
        return torch.matmul(matrix, view).reshape(batch, 2 ** num_qubits)

    def _controlled(self, matrix: torch.Tensor, control: int, target: int) -> None:
        """`matrix` on `target` where `control` is 1."""
        n = self.num_qubits
        if control == target:
            raise ValueError(f"A controlled gate needs two different wires; got control = target = {control}.")
        view = self.amplitudes.reshape(self.batch, 2 ** control, 2, 2 ** (n - control - 1))
        off, on = view[:, :, 0], view[:, :, 1]  # (batch, 2**c, 2**(n-c-1)) each: n-1 qubits
        reduced_target = target if target < control else target - 1
        on = self._apply_matrix(on.reshape(on.shape[0], -1), matrix, reduced_target, n - 1)
        batch = on.shape[0]
        off = off.reshape(off.shape[0], -1).expand(batch, -1)
        stacked = torch.stack([off.reshape(batch, 2 ** control, -1), on.reshape(batch, 2 ** control, -1)], 2)
        self.amplitudes = stacked.reshape(batch, 2 ** n)

    def apply(self, name: str, wires: int | Sequence[int], *angles: float | torch.Tensor) -> "StateVector":
        """The gate called `name` (see `ember.statevector.gates.GATES`) on `wires` with `angles`."""
        kind = gate_set.get(name)
        wires = (wires,) if isinstance(wires, int) else tuple(wires)
        if len(wires) != kind.num_wires or len(angles) != kind.num_params:
            raise ValueError(f"Gate {kind.name} takes {kind.num_wires} wire(s) and {kind.num_params} angle(s); "
                             f"got wires {wires} and {len(angles)} angle(s).")
        wires = tuple(self._wire(w) for w in wires)
        if kind.num_params:
            matrix = kind.matrix(*(self._angle(a) for a in angles), dtype=self.dtype)
        else:
            matrix = kind.matrix(self.dtype).to(self.device)
        if kind.controlled:
            self._controlled(matrix, *wires)
        else:
            self.amplitudes = self._apply_matrix(self.amplitudes, matrix, wires[0], self.num_qubits)
        self.operations.append((kind.name, wires, _label(angles)))
        return self

    def apply_matrices(self, matrices: torch.Tensor, name: str = "U") -> "StateVector":
        """One-qubit matrices `(num_qubits, 2, 2)` or `(batch, num_qubits, 2, 2)`, one per wire.

        Up to `FUSED_WIRES` neighbouring wires' matrices are joined into one Kronecker product, so
        that a layer of rotations is a few passes over the amplitudes instead of one per wire."""
        for first in range(0, self.num_qubits, FUSED_WIRES):
            wires = range(first, min(first + FUSED_WIRES, self.num_qubits))
            joined = matrices[..., first, :, :]
            for wire in wires[1:]:
                joined = kron(joined, matrices[..., wire, :, :])
            self.amplitudes = self._apply_matrix(self.amplitudes, joined, first, self.num_qubits)
            self.operations.extend((name, (wire,), "") for wire in wires)
        return self

    def permute(self, permutation: torch.Tensor, name: str, wires: Sequence[tuple[int, int]]) -> "StateVector":
        """Reorders basis states: amplitude `i` becomes `amplitudes[permutation[i]]` (a product of
        CNOTs); `wires` lists the (control, target) pairs it stands for, for drawings."""
        self.amplitudes = self.amplitudes.index_select(1, permutation)
        self.operations.extend((name, pair, "") for pair in wires)
        return self

    def scale(self, factors: torch.Tensor, name: str, wires: Sequence[tuple[int, int]]) -> "StateVector":
        """Multiplies each basis state's amplitude by `factors` `(2**n,)` (a product of diagonal gates)."""
        self.amplitudes = self.amplitudes * factors
        self.operations.extend((name, pair, "") for pair in wires)
        return self

    # ----------------------------------------------------------------- named gates
    def rx(self, angle, wire: int): return self.apply("RX", wire, angle)
    def ry(self, angle, wire: int): return self.apply("RY", wire, angle)
    def rz(self, angle, wire: int): return self.apply("RZ", wire, angle)
    def rot(self, phi, theta, omega, wire: int): return self.apply("Rot", wire, phi, theta, omega)
    def hadamard(self, wire: int): return self.apply("Hadamard", wire)
    def pauli_x(self, wire: int): return self.apply("PauliX", wire)
    def pauli_y(self, wire: int): return self.apply("PauliY", wire)
    def pauli_z(self, wire: int): return self.apply("PauliZ", wire)
    def s(self, wire: int): return self.apply("S", wire)
    def t(self, wire: int): return self.apply("T", wire)
    def cnot(self, control: int, target: int): return self.apply("CNOT", (control, target))
    def cz(self, control: int, target: int): return self.apply("CZ", (control, target))
    def cy(self, control: int, target: int): return self.apply("CY", (control, target))
    def crx(self, angle, control: int, target: int): return self.apply("CRX", (control, target), angle)
    def cry(self, angle, control: int, target: int): return self.apply("CRY", (control, target), angle)
    def crz(self, angle, control: int, target: int): return self.apply("CRZ", (control, target), angle)
    def crot(self, phi, theta, omega, control: int, target: int):
        return self.apply("CRot", (control, target), phi, theta, omega)


def _label(angles: tuple) -> str:
    """Angles for a drawing: numbers as written, a shared tensor angle as θ, a batched one as x
    (reading a tensor's value here would stall a GPU once per gate)."""
    return ",".join(f"{angle:.2f}" if isinstance(angle, (int, float)) else ("x" if angle.ndim else "θ")
                    for angle in angles)
