"""Quantum layers as ordinary ember layers: the tutorials' PQC model compiles, fits, saves and
loads; QuantumLayer runs user circuits; PennyLane circuits wrap; bad input is named."""

import numpy as np
import pytest
import torch

import ember
from ember import layers, quantum


def _tutorial_model(num_qubits: int = 4, repetitions: int = 6) -> ember.Sequential:
    model = ember.Sequential([layers.Input((num_qubits,)),
                              quantum.PQC(["pauli", "cnot"], num_qubits, repetitions=repetitions, activation="sigmoid"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_the_tutorials_pqc_model_trains_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, np.pi, (64, 4)).astype("float32")
    y = (x[:, 0] > np.pi / 2).astype("float32")
    model = _tutorial_model()
    assert model.count_params() == 6 * 4 * 3 + 4 + 1
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "pqc.ember"
    model.save(path)
    loaded = ember.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert "PQC" in type(loaded.layers[0]).__name__


def test_summary_counts_the_circuit_weights(capsys):
    _tutorial_model(3, 2).summary()
    printed = capsys.readouterr().out
    assert "pqc" in printed.lower() and "18" in printed  # 2 layers x 3 qubits x 3 angles


def test_pqc_weights_are_strongly_entangling_layers_weights():
    layer = quantum.PQC(["pauli", "cnot"], 3, repetitions=2)
    inputs = torch.rand(5, 3)
    outputs = layer(inputs)
    state = quantum.QuantumState(3).angle_embedding(inputs).strongly_entangling_layers(layer.weights_)
    torch.testing.assert_close(outputs, state.expval_z())


@pytest.mark.parametrize("arguments,output_size", [
    ({"gates": ["rx", "ry", "cz"], "num_qubits": 3, "repetitions": 2}, 3),
    ({"num_qubits": 3, "num_layers": 2, "embedding": "amplitude", "entangler": "cz", "measure": "probs"}, 8),
    ({"num_qubits": 4, "num_layers": 1, "embedding": "angle_y", "measure": ["ZZII", "IIXX"]}, 2),
    ({"num_qubits": 2, "num_layers": 3, "embedding": None, "entangler": "none"}, 2),
])
def test_the_explicit_form_builds_the_named_circuit(arguments, output_size):
    layer = quantum.PQC(**arguments)
    features = 5 if arguments.get("embedding") == "amplitude" else arguments["num_qubits"]
    outputs = layer(torch.rand(6, features))
    assert outputs.shape == (6, output_size) and torch.isfinite(outputs).all()
    rebuilt = quantum.PQC.from_config(layer.get_config())
    rebuilt(torch.rand(6, features))
    rebuilt.set_weights(layer.get_weights())
    inputs = torch.rand(6, features)
    torch.testing.assert_close(rebuilt(inputs), layer(inputs))


def test_the_explicit_form_with_probs_sums_to_one():
    layer = quantum.PQC(num_qubits=3, num_layers=2, measure="probs")
    torch.testing.assert_close(layer(torch.rand(4, 3)).sum(1), torch.ones(4))


def _circuit(state, inputs, weights, extra):
    state.angle_embedding(inputs, rotation="Y")
    state.basic_entangler_layers(weights)
    state.rz(extra[0], 0)
    return state.expval("ZZ")


def test_quantum_layer_runs_a_user_circuit_in_a_functional_model(tmp_path):
    inputs = ember.Input((3,))
    hidden = layers.Dense(2, activation="tanh")(inputs)
    measured = quantum.QuantumLayer(_circuit, 2, {"weights": (2, 2), "extra": 1})(hidden)
    outputs = layers.Dense(1)(measured)
    model = ember.Model(inputs, outputs)
    model.compile("adam", "mse")
    x, y = np.random.default_rng(1).random((32, 3), dtype=np.float32), np.ones((32, 1), np.float32)
    model.fit(x, y, epochs=2, verbose=0)
    assert model.layers[2].count_params() == 5
    model.save(tmp_path / "m.ember")
    loaded = ember.models.load_model(tmp_path / "m.ember", custom_objects={"_circuit": _circuit})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_drawings_text_and_png(tmp_path):
    layer = quantum.PQC(["pauli", "cnot"], 3, repetitions=2)
    text = layer.draw()
    lines = text.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{w}: ──RX(x)──Rot") for w, line in enumerate(lines))
    assert all(line.endswith("┤ <Z>") for line in lines) and "●" in text and "X" in text
    path = layer.draw_png(str(tmp_path / "circuit.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match=r"unknown gate family 'paulix'; the known ones are \['pauli'"):
        quantum.PQC(["paulix"], 4)
    with pytest.raises(ValueError, match="encodes at most 4 features; got input shape .* \\(6 features\\)"):
        quantum.PQC(["pauli", "cnot"], 4)(torch.rand(2, 6))
    with pytest.raises(ValueError, match="repetitions=2 and num_layers=3 disagree"):
        quantum.PQC(num_qubits=2, repetitions=2, num_layers=3)
    with pytest.raises(ValueError, match="Pauli strings of 2 letters"):
        quantum.PQC(num_qubits=2, measure=["ZZZ"])
    with pytest.raises(ValueError, match="precision must be one of"):
        quantum.PQC(num_qubits=2, precision="complex32")


def test_complex128_precision_runs_in_double():
    layer = quantum.PQC(num_qubits=2, num_layers=1, precision="complex128")
    outputs = layer(torch.rand(3, 2, dtype=torch.float64))
    assert outputs.dtype == torch.float64


def test_from_pennylane_wraps_a_qnode_as_a_trainable_layer():
    qml = pytest.importorskip("pennylane")
    device = qml.device("default.qubit", wires=2)

    @qml.qnode(device, interface="torch")
    def qnode(inputs, weights):
        qml.AngleEmbedding(inputs, wires=range(2))
        qml.StronglyEntanglingLayers(weights, wires=range(2))
        return [qml.expval(qml.PauliZ(w)) for w in range(2)]

    model = ember.Sequential([layers.Input((2,)), quantum.from_pennylane(qnode, {"weights": (2, 2, 3)}),
                              layers.Dense(1)])
    model.compile("adam", "mse")
    assert model.count_params() == 12 + 3
    x = np.random.default_rng(0).random((8, 2), dtype=np.float32)
    model.fit(x, np.zeros((8, 1), np.float32), epochs=1, verbose=0)
    ours = quantum.QuantumState(2).angle_embedding(torch.from_numpy(x))
    ours.strongly_entangling_layers(model.layers[0].torch_layer.weights.detach().float())
    dense = model.layers[1]
    expected = ours.expval_z() @ dense.kernel.detach() + dense.bias.detach()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected.numpy(), atol=1e-5)
