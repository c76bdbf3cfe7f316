"""Quantum circuits as ember layers: `QuantumLayer` runs any circuit function on ember's
state-vector simulator (`ember.statevector`); `PQC` is the tutorials' parameterised quantum
circuit (embedding, rotation and entangling layers, Pauli-Z readout) built from a few named
choices; `from_pennylane` wraps a PennyLane QNode (PennyLane optional).

Both are ordinary layers: their weights are ember weights (saved, loaded, counted in `summary`,
trained by any optimizer), they take `(batch, features)` float inputs and give `(batch, outputs)`
float outputs, and they sit in `Sequential` and functional models next to classical layers.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch
from torch import nn

from ember import activations, initializers
from ember.layers.base import Layer, Shape
from ember.layers.serialization import function_from_config, function_to_config
from ember.layers.shapes import is_shape_inference, real_tensors
from ember.statevector import drawing, gates, templates
from ember.statevector.state import QuantumState
from ember.variables import Variable

_PRECISIONS = {"complex64": torch.complex64, "complex128": torch.complex128}
_ROTATION_GATES = {"pauli": "Rot", "rot": "Rot", "rx": "X", "ry": "Y", "rz": "Z"}
_ENTANGLERS = {"cnot": "CNOT", "cz": "CZ"}
_EMBEDDINGS = ("angle", "angle_x", "angle_y", "angle_z", "amplitude", None)


def _precision(value: str) -> torch.dtype:
    if value not in _PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(_PRECISIONS)}; got {value!r}.")
    return _PRECISIONS[value]


def _uniform_angles() -> Any:
    """PennyLane TorchLayer's default: angles uniform in [0, 2π)."""
    return initializers.RandomUniform(0.0, 2 * math.pi)


class QuantumLayer(Layer):
    """Any circuit function as a layer: `outputs = circuit(state, inputs, **weights)`.

    Args:
        circuit: `circuit(state, inputs, **weights)` applying gates to `state` (a `QuantumState`)
            and returning a measurement `(batch, outputs)` (e.g. `state.expval_z()`). Name it with
            `def` and register it (`ember.saving.register_keras_serializable`) to save the layer.
        num_qubits: the circuit's wires.
        weight_shapes: `{name: shape}` of the trainable angles handed to `circuit` by keyword.
        weight_initializer: initializer of all weights (uniform in [0, 2π) by default, as PennyLane).
        precision: "complex64" (default) or "complex128" for the amplitudes.
    Input shape: `(batch, features)`. Output shape: whatever `circuit` measures, `(batch, outputs)`.

    >>> def circuit(state, inputs, weights):
    ...     state.angle_embedding(inputs)
    ...     state.strongly_entangling_layers(weights)
    ...     return state.expval_z()
    >>> layer = QuantumLayer(circuit, 2, {"weights": (3, 2, 3)})
    >>> layer(torch.zeros(5, 2)).shape
    torch.Size([5, 2])
    """

    def __init__(self, circuit: Callable[..., torch.Tensor], num_qubits: int, weight_shapes: dict[str, Any],
                 weight_initializer: Any = None, precision: str = "complex64", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(circuit):
            raise TypeError(f"QuantumLayer '{self.name}': circuit must be callable; got {circuit!r}.")
        if not isinstance(num_qubits, int) or num_qubits < 1:
            raise ValueError(f"QuantumLayer '{self.name}': num_qubits must be a positive int; got {num_qubits!r}.")
        self.circuit, self.num_qubits = circuit, num_qubits
        self.weight_shapes = {name: tuple((shape,) if isinstance(shape, int) else shape)
                              for name, shape in dict(weight_shapes).items()}
        self.weight_initializer = initializers.get(weight_initializer) if weight_initializer else _uniform_angles()
        self.precision = precision
        self._complex = _precision(precision)

    def build(self, input_shape: Shape) -> None:
        for name, shape in self.weight_shapes.items():
            self.add_weight(self._attribute(name), shape, self.weight_initializer)

    def _attribute(self, weight: str) -> str:
        """The attribute holding the circuit weight `weight` ("weights" is taken by Layer.weights)."""
        return f"{weight}_" if hasattr(type(self), weight) else weight

    def new_state(self, inputs: torch.Tensor) -> QuantumState:
        """|0...0> on the inputs' device, checked against the memory the batch needs."""
        return QuantumState(self.num_qubits, self._complex, inputs.device, batch_hint=max(inputs.shape[0], 1))

    def run_circuit(self, inputs: torch.Tensor) -> tuple[QuantumState, torch.Tensor]:
        """The state after the circuit and its measurement `(batch, outputs)`, in the inputs' float type."""
        state = self.new_state(inputs)
        weights = {name: getattr(self, self._attribute(name)) for name in self.weight_shapes}
        outputs = self.circuit(state, inputs, **weights)
        if outputs.ndim == 1:
            outputs = outputs[:, None]
        if outputs.shape[0] != inputs.shape[0]:  # a circuit that ignores its inputs measures batch 1
            outputs = outputs.expand(inputs.shape[0], *outputs.shape[1:])
        return state, outputs.to(inputs.dtype)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.ndim != 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects input of shape (batch, features); got "
                             f"shape {tuple(inputs.shape)}. Flatten it first (layers.Flatten()).")
        return self.run_circuit(inputs)[1]

    def draw(self, features: int | None = None) -> str:
        """The circuit as text, one line per wire (run once on zero inputs with `features` features)."""
        return drawing.text(self._recorded_state(features))

    def draw_png(self, path: str, features: int | None = None) -> str:
        """The circuit drawn to a PNG at `path` (matplotlib); returns the path."""
        return drawing.png(self._recorded_state(features), path)

    def _recorded_state(self, features: int | None) -> QuantumState:
        if features is None:
            features = self.input_shape[-1] if self.built else self.num_qubits
        inputs = torch.zeros(1, features, dtype=torch.float32)
        if not self.built:
            self.build_from_shapes((None, features))
        with torch.no_grad():
            return self.run_circuit(inputs.to(next(iter(self.parameters()), inputs).device))[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "circuit": function_to_config(self.circuit),
                "num_qubits": self.num_qubits,
                "weight_shapes": {name: list(shape) for name, shape in self.weight_shapes.items()},
                "weight_initializer": initializers.serialize(self.weight_initializer), "precision": self.precision}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "QuantumLayer":
        config = dict(config)
        config["circuit"] = function_from_config(config.get("circuit"), config.get("name"))
        return cls(**config)


class PQC(QuantumLayer):
    """The tutorials' parameterised quantum circuit: inputs embedded as angles, `repetitions`
    layers of trainable rotations and entangling gates, Pauli-Z expectations read out.

    `PQC(['pauli', 'cnot'], 4, repetitions=6, activation='sigmoid')` reads as: gate families
    (`'pauli'`: a general rotation Rot = RZ RY RZ per qubit, three angles; or any of `'rx'`,
    `'ry'`, `'rz'`, one angle each, applied in the order given; `'cnot'` or `'cz'`: a ring of
    entangling gates after the rotations of each layer), 4 qubits, 6 layers, sigmoid applied to
    the expectations. With Rot and CNOT this is PennyLane's StronglyEntanglingLayers (same weights).

    Args:
        gates: gate families, as above (default `['pauli', 'cnot']`).
        num_qubits: qubits (wires); `num_layers` is a synonym of `repetitions`.
        repetitions: rotation + entangler layers (default 1).
        activation: applied to the measured values (None: the raw expectations in [-1, 1]).
        embedding: how features enter: "angle" (RX(x_j) on wire j; "angle_y", "angle_z" for RY,
            RZ), "amplitude" (up to 2**num_qubits features, normalised, as the state's amplitudes),
            or None (a circuit without inputs; the input only sets the batch).
        entangler: "cnot" or "cz", overriding the one in `gates`; "none" for no entangler.
        measure: "z" (<Z> on every wire: `(batch, num_qubits)`), "probs" (`(batch, 2**num_qubits)`),
            or a list of Pauli strings such as `["ZZII", "IIXX"]` (`(batch, len(list))`).
        precision: "complex64" (default) or "complex128".
    Input shape: `(batch, features)`, features at most num_qubits (angle) or 2**num_qubits (amplitude).
    """

    def __init__(self, gates: Sequence[str] | None = None, num_qubits: int | None = None,
                 repetitions: int | None = None, activation: str | Callable | None = None, *,
                 num_layers: int | None = None, embedding: str | None = "angle", entangler: str | None = None,
                 measure: str | Sequence[str] = "z", precision: str = "complex64", **kwargs: Any) -> None:
        self.gates = [str(gate).lower() for gate in (gates if gates is not None else ["pauli", "cnot"])]
        unknown = [g for g in self.gates if g not in _ROTATION_GATES and g not in _ENTANGLERS]
        if unknown:
            raise ValueError(f"PQC: unknown gate family {unknown[0]!r}; the known ones are "
                             f"{sorted(_ROTATION_GATES)} (rotations) and {sorted(_ENTANGLERS)} (entanglers).")
        if repetitions is not None and num_layers is not None and repetitions != num_layers:
            raise ValueError(f"PQC: repetitions={repetitions} and num_layers={num_layers} disagree; pass one.")
        self.repetitions = int(repetitions or num_layers or 1)
        if self.repetitions < 1:
            raise ValueError(f"PQC: repetitions must be at least 1; got {self.repetitions}.")
        if num_qubits is None:
            raise ValueError("PQC needs num_qubits, e.g. PQC(['pauli', 'cnot'], 4, repetitions=6).")
        if embedding not in _EMBEDDINGS:
            raise ValueError(f"PQC: unknown embedding {embedding!r}; expected one of {list(_EMBEDDINGS)}.")
        self.embedding = embedding
        families = [g for g in self.gates if g in _ENTANGLERS]
        self.entangler = (entangler or (families[-1] if families else "none")).lower()
        if self.entangler not in (*_ENTANGLERS, "none"):
            raise ValueError(f"PQC: unknown entangler {entangler!r}; expected 'cnot', 'cz' or 'none'.")
        self.rotations = [_ROTATION_GATES[g] for g in self.gates if g in _ROTATION_GATES] or ["Rot"]
        self.measure = measure if isinstance(measure, str) else [str(m) for m in measure]
        self.activation = activations.get(activation)
        per_qubit = sum(3 if r == "Rot" else 1 for r in self.rotations)
        super().__init__(self.pqc_circuit, num_qubits, {"weights": (self.repetitions, num_qubits, per_qubit)},
                         precision=precision, **kwargs)
        self._check_measure()

    def _check_measure(self) -> None:
        if isinstance(self.measure, str) and self.measure.lower() in ("z", "probs"):
            return
        strings = [self.measure] if isinstance(self.measure, str) else self.measure
        for string in strings:
            if len(string) != self.num_qubits or set(string.upper()) - set("IXYZ"):
                raise ValueError(f"PQC: measure must be 'z', 'probs' or Pauli strings of {self.num_qubits} letters "
                                 f"from 'IXYZ'; got {string!r}.")

    def build(self, input_shape: Shape) -> None:
        features = input_shape[-1]
        capacity = {"amplitude": 2 ** self.num_qubits, None: None}.get(self.embedding, self.num_qubits)
        if capacity is not None and features is not None and features > capacity:
            raise ValueError(f"PQC '{self.name}': the {self.embedding} embedding of {self.num_qubits} qubits encodes "
                             f"at most {capacity} features; got input shape {tuple(input_shape)} ({features} "
                             f"features). Reduce them first (a Dense({capacity}) layer or PCA), or use more qubits.")
        super().build(input_shape)

    def check_input_values(self, inputs: torch.Tensor) -> None:
        """Amplitude embedding's inputs, once on entry: no all-zero sample."""
        if self.embedding == "amplitude":
            templates.check_nonzero_rows(inputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(super().forward(inputs))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.measure == "probs":
            return (input_shape[0], 2 ** self.num_qubits)
        if isinstance(self.measure, str) and self.measure.lower() == "z":
            return (input_shape[0], self.num_qubits)
        return (input_shape[0], 1 if isinstance(self.measure, str) else len(self.measure))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("circuit", "weight_shapes", "weight_initializer"):
            config.pop(key)
        return {**config, "gates": self.gates, "repetitions": self.repetitions,
                "activation": activations.serialize(self.activation), "embedding": self.embedding,
                "entangler": self.entangler, "measure": self.measure}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "PQC":
        return cls(**config)

    def pqc_circuit(self, state: QuantumState, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """PQC's circuit: the embedding, `repetitions` rotation + entangler layers, the measurement."""
        if self.embedding == "amplitude":
            state.amplitude_embedding(inputs)
        elif self.embedding is not None:
            state.angle_embedding(inputs, rotation="X" if self.embedding == "angle" else self.embedding[-1])
        if self.rotations == ["Rot"] and self.entangler == "cnot":
            state.strongly_entangling_layers(weights)
        else:
            for repetition in range(self.repetitions):
                self._rotation_layer(state, weights[repetition])
                if self.entangler != "none":
                    templates.entangle(state, templates.ring(state.num_qubits), self.entangler.upper())
        if self.measure == "probs":
            return state.probs()
        if isinstance(self.measure, str) and self.measure.lower() == "z":
            return state.expval_z()
        strings = [self.measure] if isinstance(self.measure, str) else self.measure
        return torch.stack([state.expval(string) for string in strings], 1)

    def _rotation_layer(self, state: QuantumState, angles: torch.Tensor) -> None:
        """The rotations of one layer on every wire; `angles` `(num_qubits, angles per qubit)`."""
        column = 0
        for rotation in self.rotations:
            if rotation == "Rot":
                matrices = gates.rot(angles[:, column], angles[:, column + 1], angles[:, column + 2], dtype=state.dtype)
                column += 3
            else:
                matrices = templates.rotation_gate(rotation)[1](angles[:, column], dtype=state.dtype)
                column += 1
            state.apply_matrices(matrices, rotation if rotation == "Rot" else f"R{rotation}")


class PennyLaneLayer(Layer):
    """A PennyLane `TorchLayer` inside ember: its weights are this layer's weights.

    Input shape: `(batch, features)`. Output shape: `(batch, outputs)` as the QNode returns.
    """

    def __init__(self, torch_layer: nn.Module, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.torch_layer = torch_layer
        self._output_size: int | None = None

    def build(self, input_shape: Shape) -> None:
        with real_tensors(), torch.no_grad():  # PennyLane cannot run on fake tensors: run it once for real
            probe = self.torch_layer(torch.zeros(1, input_shape[-1]))
        self._output_size = int(probe.reshape(1, -1).shape[1])

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if is_shape_inference((inputs,)):
            return inputs.new_empty(inputs.shape[0], self._output_size)
        outputs = self.torch_layer(inputs)
        return outputs.reshape(inputs.shape[0], -1).to(inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"PennyLaneLayer '{self.name}' holds a PennyLane QNode, which ember cannot "
                                  "save as data. Save the weights (model.save_weights) and rebuild the layer "
                                  "with from_pennylane, or rewrite the circuit as an ember QuantumLayer.")


def from_pennylane(qnode: Any, weight_shapes: dict[str, Any], **kwargs: Any) -> PennyLaneLayer:
    """Wraps a PennyLane QNode `qnode(inputs, **weights)` with `weight_shapes` `{name: shape}` as an
    ember layer (through `qml.qnn.TorchLayer`; the QNode should use `interface="torch"`)."""
    try:
        import pennylane as qml
    except ImportError as error:
        raise ImportError("from_pennylane needs PennyLane: pip install 'ember[quantum]' (or pip install "
                          "pennylane). ember's own QuantumLayer and PQC need nothing extra.") from error
    import autoray  # PennyLane's array dispatch: ember's Variables (its weights' type) are torch tensors

    autoray.register_backend(Variable, "torch")
    return PennyLaneLayer(qml.qnn.TorchLayer(qnode, weight_shapes), **kwargs)
