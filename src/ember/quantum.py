"""Quantum neural networks in ember: circuits simulated as batched state vectors in torch
(`QuantumState`: up to ~20 qubits, complex64 by default or complex128, exact gradients through
autograd, CPU or GPU) and layers that make them ordinary ember layers (`PQC`, `QuantumLayer`,
`from_pennylane`).

>>> model = ember.Sequential([layers.Input((4,)), quantum.PQC(["pauli", "cnot"], 4, repetitions=6),
...                           layers.Dense(1, activation="sigmoid")])
"""

from ember.layers.quantum import PQC, PennyLaneLayer, QuantumLayer, from_pennylane
from ember.statevector import gates, measurements, templates
from ember.statevector.gates import GATES
from ember.statevector.gradients import parameter_shift
from ember.statevector.state import QuantumState
from ember.statevector.vector import StateVector

__all__ = ["GATES", "PQC", "PennyLaneLayer", "QuantumLayer", "QuantumState", "StateVector", "from_pennylane",
           "gates", "measurements", "parameter_shift", "templates"]
