"""An independent float64 NumPy state-vector reference: every gate as a full 2**n x 2**n operator
(Kronecker products; controlled gates as |0><0| ⊗ I + |1><1| ⊗ U), applied to a vector."""

from __future__ import annotations

import numpy as np

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
S = np.diag([1, 1j])
T = np.diag([1, np.exp(1j * np.pi / 4)])


def expm_pauli(pauli: np.ndarray, angle: float) -> np.ndarray:
    """exp(-i angle P / 2) for a Pauli P (P² = I)."""
    return np.cos(angle / 2) * I2 - 1j * np.sin(angle / 2) * pauli


def rx(t): return expm_pauli(X, t)
def ry(t): return expm_pauli(Y, t)
def rz(t): return expm_pauli(Z, t)
def rot(phi, theta, omega): return rz(omega) @ ry(theta) @ rz(phi)


def full(matrix: np.ndarray, wire: int, n: int) -> np.ndarray:
    out = np.array([[1.0]])
    for w in range(n):
        out = np.kron(out, matrix if w == wire else I2)
    return out


def controlled(matrix: np.ndarray, control: int, target: int, n: int) -> np.ndarray:
    zero, one = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    off = full(zero, control, n)
    on = np.array([[1.0]])
    for w in range(n):
        on = np.kron(on, one if w == control else (matrix if w == target else I2))
    return off + on


def zero_state(n: int) -> np.ndarray:
    state = np.zeros(2 ** n, complex)
    state[0] = 1
    return state


def expval_z(state: np.ndarray, wire: int, n: int) -> float:
    return float(np.real(state.conj() @ full(Z, wire, n) @ state))


def expval(state: np.ndarray, paulis: str) -> float:
    operator = np.array([[1.0]])
    for letter in paulis:
        operator = np.kron(operator, {"I": I2, "X": X, "Y": Y, "Z": Z}[letter])
    return float(np.real(state.conj() @ operator @ state))


def strongly_entangling(state: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    for layer in range(weights.shape[0]):
        for wire in range(n):
            state = full(rot(*weights[layer, wire]), wire, n) @ state
        if n > 1:
            r = layer % (n - 1) + 1
            for wire in range(n):
                state = controlled(X, wire, (wire + r) % n, n) @ state
    return state


def basic_entangler(state: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    for layer in range(weights.shape[0]):
        for wire in range(n):
            state = full(rx(weights[layer, wire]), wire, n) @ state
        pairs = [] if n == 1 else ([(0, 1)] if n == 2 else [(w, (w + 1) % n) for w in range(n)])
        for control, target in pairs:
            state = controlled(X, control, target, n) @ state
    return state
