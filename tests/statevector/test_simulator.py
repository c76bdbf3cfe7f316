"""The state-vector simulator against an independent float64 NumPy reference (and PennyLane's
default.qubit when installed): gates, templates, measurements, gradients."""

import math

import numpy as np
import pytest
import torch

from ember import quantum
from ember.quantum import QuantumState
from tests.statevector import reference as ref

C128 = torch.complex128


def _random_state(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vector = rng.normal(size=2 ** n) + 1j * rng.normal(size=2 ** n)
    return vector / np.linalg.norm(vector)


def _state_from(vector: np.ndarray) -> QuantumState:
    n = int(math.log2(vector.size))
    state = QuantumState(n, C128)
    state.amplitudes = torch.from_numpy(vector)[None].clone()
    return state


ONE_QUBIT = [("RX", (0.7,), lambda: ref.rx(0.7)), ("RY", (-1.3,), lambda: ref.ry(-1.3)),
             ("RZ", (2.1,), lambda: ref.rz(2.1)), ("Rot", (0.3, -0.8, 1.9), lambda: ref.rot(0.3, -0.8, 1.9)),
             ("Hadamard", (), lambda: ref.H), ("PauliX", (), lambda: ref.X), ("PauliY", (), lambda: ref.Y),
             ("PauliZ", (), lambda: ref.Z), ("S", (), lambda: ref.S), ("T", (), lambda: ref.T)]
TWO_QUBIT = [("CNOT", (), lambda: ref.X), ("CZ", (), lambda: ref.Z), ("CY", (), lambda: ref.Y),
             ("CRX", (0.4,), lambda: ref.rx(0.4)), ("CRY", (1.1,), lambda: ref.ry(1.1)),
             ("CRZ", (-0.6,), lambda: ref.rz(-0.6)), ("CRot", (0.2, 0.5, -1.0), lambda: ref.rot(0.2, 0.5, -1.0))]


@pytest.mark.parametrize("name,angles,matrix", ONE_QUBIT, ids=[g[0] for g in ONE_QUBIT])
@pytest.mark.parametrize("wire", [0, 1, 2])
def test_one_qubit_gates_match_their_closed_form_on_every_wire(name, angles, matrix, wire):
    vector = _random_state(3)
    state = _state_from(vector).apply(name, wire, *angles)
    expected = ref.full(matrix(), wire, 3) @ vector
    np.testing.assert_allclose(state.amplitudes[0].numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("name,angles,matrix", TWO_QUBIT, ids=[g[0] for g in TWO_QUBIT])
@pytest.mark.parametrize("control,target", [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2)])
def test_controlled_gates_match_projector_form_for_every_wire_pair(name, angles, matrix, control, target):
    vector = _random_state(3, seed=control * 3 + target)
    state = _state_from(vector).apply(name, (control, target), *angles)
    expected = ref.controlled(matrix(), control, target, 3) @ vector
    np.testing.assert_allclose(state.amplitudes[0].numpy(), expected, atol=1e-12)


def test_named_methods_are_the_gates_and_batched_angles_give_one_state_per_sample():
    angles = torch.tensor([0.1, 0.9, -2.0], dtype=torch.float64)
    state = QuantumState(2, C128).hadamard(0).rx(angles, 1).cnot(0, 1)
    assert state.amplitudes.shape == (3, 4)
    for index, angle in enumerate(angles.tolist()):
        expected = ref.controlled(ref.X, 0, 1, 2) @ ref.full(ref.rx(angle), 1, 2) @ ref.full(ref.H, 0, 2) @ ref.zero_state(2)
        np.testing.assert_allclose(state.amplitudes[index].numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_strongly_entangling_and_basic_entangler_layers_match_the_reference(n):
    rng = np.random.default_rng(n)
    strong, basic = rng.uniform(0, 2 * np.pi, (3, n, 3)), rng.uniform(0, 2 * np.pi, (2, n))
    state = QuantumState(n, C128).strongly_entangling_layers(torch.from_numpy(strong))
    np.testing.assert_allclose(state.amplitudes[0].numpy(), ref.strongly_entangling(ref.zero_state(n), strong, n),
                               atol=1e-12)
    state = QuantumState(n, C128).basic_entangler_layers(torch.from_numpy(basic))
    np.testing.assert_allclose(state.amplitudes[0].numpy(), ref.basic_entangler(ref.zero_state(n), basic, n),
                               atol=1e-12)


def test_cz_entangler_equals_the_cz_gates_one_by_one():
    weights = torch.rand(2, 3, 3, dtype=torch.float64)
    fused = QuantumState(3, C128).strongly_entangling_layers(weights, imprimitive="CZ")
    gates = QuantumState(3, C128)
    for layer, r in enumerate([1, 2]):
        for wire in range(3):
            gates.rot(*weights[layer, wire], wire)
        for wire in range(3):
            gates.cz(wire, (wire + r) % 3)
    torch.testing.assert_close(fused.amplitudes, gates.amplitudes)


def test_angle_and_amplitude_embeddings():
    features = torch.tensor([[0.3, -1.2, 2.0], [1.0, 0.0, 0.5]], dtype=torch.float64)
    state = QuantumState(3, C128).angle_embedding(features, rotation="Y")
    for row, values in enumerate(features.tolist()):
        expected = ref.zero_state(3)
        for wire, value in enumerate(values):
            expected = ref.full(ref.ry(value), wire, 3) @ expected
        np.testing.assert_allclose(state.amplitudes[row].numpy(), expected, atol=1e-12)
    after_a_gate = QuantumState(3, C128).hadamard(1).angle_embedding(features[:, :2], wires=[2, 0])
    for row, (first, second) in enumerate(features[:, :2].tolist()):
        expected = ref.full(ref.rx(second), 0, 3) @ ref.full(ref.rx(first), 2, 3) @ ref.full(ref.H, 1, 3) @ ref.zero_state(3)
        np.testing.assert_allclose(after_a_gate.amplitudes[row].numpy(), expected, atol=1e-12)
    fresh = QuantumState(3, C128).angle_embedding(features[:, :2], wires=[2, 0]).hadamard(1)
    torch.testing.assert_close(fresh.amplitudes, after_a_gate.amplitudes)  # the product-state shortcut
    amplitudes = QuantumState(2, C128).amplitude_embedding(torch.tensor([[3.0, 4.0, 0.0]])).amplitudes
    np.testing.assert_allclose(amplitudes[0].numpy(), [0.6, 0.8, 0, 0], atol=1e-7)


def test_measurements_expectations_probabilities_and_samples():
    vector = _random_state(3, seed=5)
    state = _state_from(vector)
    np.testing.assert_allclose(state.expval_z()[0].numpy(), [ref.expval_z(vector, w, 3) for w in range(3)], atol=1e-12)
    for paulis in ["ZZI", "XIY", "YXZ", "III"]:
        np.testing.assert_allclose(float(state.expval(paulis)[0]), ref.expval(vector, paulis), atol=1e-12)
    assert float(state.expval({0: "X", 2: "Y"})[0]) == pytest.approx(ref.expval(vector, "XIY"), abs=1e-12)
    full = np.abs(vector) ** 2
    np.testing.assert_allclose(state.probs()[0].numpy(), full, atol=1e-12)
    marginal = full.reshape(2, 2, 2).sum(1)  # wires 0 and 2
    np.testing.assert_allclose(state.probs([2, 0])[0].numpy(), marginal.T.reshape(-1), atol=1e-12)
    bits = state.sample(20000, generator=torch.Generator().manual_seed(0))
    assert bits.shape == (1, 20000, 3) and set(bits.unique().tolist()) <= {0, 1}
    frequencies = np.bincount((bits[0] * torch.tensor([4, 2, 1])).sum(1).numpy(), minlength=8) / 20000
    np.testing.assert_allclose(frequencies, full, atol=0.02)


def _random_circuit(state: QuantumState, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    state.angle_embedding(inputs)
    state.strongly_entangling_layers(weights[:2])
    state.crx(weights[2, 0, 0], 0, 2).cry(weights[2, 1, 0], 3, 1).crz(weights[2, 2, 0], 1, 0)
    state.rot(*weights[2, 3], 2).cz(2, 3)
    return torch.stack([state.expval_z()[:, 0], state.expval("XZIY"), state.expval_z()[:, 3]], 1)


def _reference_circuit(inputs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n, vector = 4, ref.zero_state(4)
    for wire, value in enumerate(inputs):
        vector = ref.full(ref.rx(value), wire, n) @ vector
    vector = ref.strongly_entangling(vector, weights[:2], n)
    vector = ref.controlled(ref.rx(weights[2, 0, 0]), 0, 2, n) @ vector
    vector = ref.controlled(ref.ry(weights[2, 1, 0]), 3, 1, n) @ vector
    vector = ref.controlled(ref.rz(weights[2, 2, 0]), 1, 0, n) @ vector
    vector = ref.full(ref.rot(*weights[2, 3]), 2, n) @ vector
    vector = ref.controlled(ref.Z, 2, 3, n) @ vector
    return np.array([ref.expval_z(vector, 0, n), ref.expval(vector, "XZIY"), ref.expval_z(vector, 3, n)])


def _numeric_jacobian(function, weights: np.ndarray, step: float = 1e-6) -> np.ndarray:
    columns = []
    for index in range(weights.size):
        shift = np.zeros(weights.size)
        shift[index] = step
        shift = shift.reshape(weights.shape)
        columns.append((function(weights + shift) - function(weights - shift)) / (2 * step))
    return np.stack(columns, -1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_circuits_values_and_gradients_match_the_float64_reference(seed):
    rng = np.random.default_rng(seed)
    inputs, weights = rng.uniform(-2, 2, 4), rng.uniform(0, 2 * np.pi, (3, 4, 3))
    tensor = torch.tensor(weights, requires_grad=True)
    outputs = _random_circuit(QuantumState(4, C128), torch.tensor(inputs)[None], tensor)[0]
    np.testing.assert_allclose(outputs.detach().numpy(), _reference_circuit(inputs, weights), atol=1e-10)
    jacobian = torch.stack([torch.autograd.grad(outputs[k], tensor, retain_graph=True)[0] for k in range(3)])
    expected = _numeric_jacobian(lambda w: _reference_circuit(inputs, w), weights)
    np.testing.assert_allclose(jacobian.numpy().reshape(3, -1), expected, atol=1e-6)


def test_parameter_shift_reproduces_autograd():
    inputs = torch.tensor([[0.4, -0.3, 1.2]], dtype=torch.float64)
    weights = torch.rand(2, 3, 3, dtype=torch.float64, requires_grad=True)

    def circuit(w):
        return QuantumState(3, C128).angle_embedding(inputs).strongly_entangling_layers(w).expval_z()[0]

    autograd = torch.autograd.functional.jacobian(circuit, weights)
    torch.testing.assert_close(quantum.parameter_shift(circuit, weights), autograd, atol=1e-10, rtol=0)


def test_complex64_default_agrees_with_complex128_to_float32_rounding():
    weights = torch.rand(3, 4, 3)
    inputs = torch.rand(8, 4)
    single = QuantumState(4).angle_embedding(inputs).strongly_entangling_layers(weights).expval_z()
    double = QuantumState(4, C128).angle_embedding(inputs.double()).strongly_entangling_layers(weights.double())
    assert single.dtype == torch.float32
    torch.testing.assert_close(single.double(), double.expval_z(), atol=1e-5, rtol=0)


def test_unknown_gates_wires_and_oversized_states_get_clear_errors():
    with pytest.raises(ValueError, match=r"Unknown gate 'RXX'; the known gates are \['CNOT'"):
        QuantumState(2).apply("RXX", 0, 0.1)
    with pytest.raises(ValueError, match="Wire 2 does not exist: this state has wires 0..1"):
        QuantumState(2).rx(0.1, 2)
    with pytest.raises(ValueError, match="takes 1 wire"):
        QuantumState(2).apply("RX", (0, 1), 0.1)
    with pytest.raises(ValueError, match="at most 2 features; got features of shape"):
        QuantumState(2).angle_embedding(torch.rand(4, 3))
    with pytest.raises(ValueError, match="Unknown rotation 'W'"):
        QuantumState(2).angle_embedding(torch.rand(4, 2), rotation="W")
    with pytest.raises(ValueError, match="at most 30 qubits"):
        QuantumState(40)
    with pytest.raises(MemoryError, match=r"needs about .* GiB .* has .* GiB free"):
        QuantumState(28, C128, batch_hint=4096)




def test_values_and_gradients_equal_pennylane_default_qubit():
    qml = pytest.importorskip("pennylane")
    device = qml.device("default.qubit", wires=4)

    @qml.qnode(device, interface="torch", diff_method="backprop")
    def pennylane_circuit(inputs, weights):
        qml.AngleEmbedding(inputs, wires=range(4))
        qml.StronglyEntanglingLayers(weights[:2], wires=range(4))
        qml.CRX(weights[2, 0, 0], wires=[0, 2])
        qml.CRY(weights[2, 1, 0], wires=[3, 1])
        qml.CRZ(weights[2, 2, 0], wires=[1, 0])
        qml.Rot(*weights[2, 3], wires=2)
        qml.CZ(wires=[2, 3])
        return [qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliX(0) @ qml.PauliZ(1) @ qml.PauliY(3)),
                qml.expval(qml.PauliZ(3))]

    for seed in range(5):
        rng = np.random.default_rng(seed)
        inputs = torch.tensor(rng.uniform(-2, 2, 4))
        ours_w = torch.tensor(rng.uniform(0, 2 * np.pi, (3, 4, 3)), requires_grad=True)
        theirs_w = ours_w.detach().clone().requires_grad_(True)
        ours = _random_circuit(QuantumState(4, C128), inputs[None], ours_w)[0]
        theirs = torch.stack(list(pennylane_circuit(inputs, theirs_w)))
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-6)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy(), atol=1e-6)


def test_twenty_qubits_simulate_and_differentiate():
    angles = torch.full((20,), 0.3, requires_grad=True)
    state = QuantumState(20).angle_embedding(angles[None])
    state.strongly_entangling_layers(torch.zeros(1, 20, 3))
    values = state.expval_z()
    assert values.shape == (1, 20)
    values.sum().backward()
    assert torch.isfinite(angles.grad).all() and float(state.probs().sum()) == pytest.approx(1.0, abs=1e-4)
