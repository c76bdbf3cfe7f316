"""A 4-qubit, 6-layer quantum classifier's training step (angle embedding, strongly entangling
layers, <Z> on every wire, Dense(1) head, binary cross-entropy, torch Adam): ember's PQC against
PennyLane's TorchLayer on default.qubit (backprop) and lightning.qubit (adjoint), at batch 1, 32
and 256, in one process; then ember's step from 4 to 16 qubits at batch 32.

    .venv/bin/python benchmarks/quantum_pqc.py [--steps 30] [--device cuda]
    (PennyLane: pip install "ember[quantum]"; its runners stay on the CPU, where they compute)
"""

from __future__ import annotations

import argparse
import time

import torch

from ember import quantum

LAYERS = 6


DEVICE = torch.device("cpu")


def ember_layer(num_qubits: int) -> torch.nn.Module:
    layer = quantum.PQC(["pauli", "cnot"], num_qubits, repetitions=LAYERS)
    layer(torch.zeros(1, num_qubits))
    return layer.to(DEVICE)


def _synchronize() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def pennylane_layer(num_qubits: int, device_name: str, diff_method: str) -> torch.nn.Module:
    import pennylane as qml

    device = qml.device(device_name, wires=num_qubits)

    @qml.qnode(device, interface="torch", diff_method=diff_method)
    def circuit(inputs, weights):
        qml.AngleEmbedding(inputs, wires=range(num_qubits))
        qml.StronglyEntanglingLayers(weights, wires=range(num_qubits))
        return [qml.expval(qml.PauliZ(w)) for w in range(num_qubits)]

    return qml.qnn.TorchLayer(circuit, {"weights": (LAYERS, num_qubits, 3)})


def milliseconds_per_step(circuit: torch.nn.Module, num_qubits: int, batch: int, steps: int) -> float:
    torch.manual_seed(0)
    device = next(circuit.parameters()).device
    head = torch.nn.Linear(num_qubits, 1).to(device)
    x = torch.rand(batch, num_qubits, device=device) * 3
    y = torch.randint(0, 2, (batch, 1), device=device).float()
    optimizer = torch.optim.Adam(list(circuit.parameters()) + list(head.parameters()), lr=0.01)

    def step() -> None:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(circuit(x).float()), y)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    _synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    _synchronize()
    return (time.perf_counter() - started) / steps * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--device", default="cpu", help="where ember's simulator runs (cpu, cuda)")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    print(f"ember on {DEVICE}" + (f" ({torch.cuda.get_device_name()})" if DEVICE.type == "cuda" else ""))
    runners = {"ember PQC": lambda n: ember_layer(n)}
    try:
        import pennylane  # noqa: F401

        runners["PennyLane default.qubit (backprop)"] = lambda n: pennylane_layer(n, "default.qubit", "backprop")
        runners["PennyLane lightning.qubit (adjoint)"] = lambda n: pennylane_layer(n, "lightning.qubit", "adjoint")
    except ImportError:
        print("PennyLane is not installed: ember only")
    print(f"4 qubits, {LAYERS} layers: ms per training step")
    print("| runner | batch 1 | batch 32 | batch 256 |\n|---|---|---|---|")
    table = {}
    for name, make in runners.items():
        table[name] = [milliseconds_per_step(make(4), 4, batch, args.steps if batch < 256 or name == "ember PQC"
                                             else max(3, args.steps // 5)) for batch in (1, 32, 256)]
        print(f"| {name} | " + " | ".join(f"{ms:.2f}" for ms in table[name]) + " |")
    for name, times in table.items():
        if name != "ember PQC":
            ratios = [theirs / ours for theirs, ours in zip(times, table["ember PQC"])]
            print(f"ember is {', '.join(f'{r:.1f}x' for r in ratios)} faster than {name} (batch 1, 32, 256)")
    counts = (4, 8, 12, 16, 20) if DEVICE.type == "cuda" else (4, 8, 12, 16)
    print("\nember PQC, batch 32, by qubit count: ms per training step")
    print("| qubits | " + " | ".join(str(n) for n in counts) + " |\n|---|" + "---|" * len(counts))
    growth = [milliseconds_per_step(ember_layer(n), n, 32, max(3, args.steps // (1 + n // 4))) for n in counts]
    print("| ms | " + " | ".join(f"{ms:.2f}" for ms in growth) + " |")


if __name__ == "__main__":
    main()
