"""ember's batched state-vector simulator of quantum circuits, in torch: gates, templates,
measurements, drawings and the parameter-shift rule. The layers built on it are in
`ember.layers.quantum`; `ember.quantum` gathers both for users."""

from ember.statevector import drawing, gates, gradients, measurements, templates
from ember.statevector.state import QuantumState
from ember.statevector.vector import StateVector

__all__ = ["QuantumState", "StateVector", "drawing", "gates", "gradients", "measurements", "templates"]
