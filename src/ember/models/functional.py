"""Functional models: `Model(inputs, outputs)` over a graph of layer calls on symbolic tensors.

Several inputs and outputs, shared layers (one layer called at several places, one set of
weights) and models used as layers are all graph nodes; `forward` replays them in order.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember._tree import flatten, map_structure
from ember.layers import shapes
from ember import registry
from ember.layers.input_layer import InputLayer
from ember.layers.serialization import deserialize_layer, serialize_layer
from ember.layers.symbolic import Node, SymbolicTensor
from ember.models.model import Model


class Functional(Model):
    """A model defined by its inputs and outputs (symbolic tensors made by calling layers)."""

    stepwise_decoding = True

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        for argument, structure in (("inputs", inputs), ("outputs", outputs)):
            leaves = flatten(structure)
            if not leaves or not all(isinstance(t, SymbolicTensor) for t in leaves):
                raise TypeError(f"Model({argument}=...) must be symbolic tensors made with ember.Input(...) and "
                                f"layer calls; got {structure!r}.")
        self._inputs, self._outputs = inputs, outputs
        self._nodes = _topological_order([t.node for t in flatten(outputs)])
        input_nodes = {id(t.node) for t in flatten(inputs)}
        for node in self._nodes:
            if isinstance(node.layer, InputLayer) and id(node) not in input_nodes:
                raise ValueError(f"Model '{self.name}': the outputs depend on Input '{node.layer.name}', which is "
                                 "not among the model's inputs.")
        unique: list[nn.Module] = []
        for node in self._nodes:
            if all(node.layer is not seen for seen in unique):
                unique.append(node.layer)
        self.graph_layers = nn.ModuleList(unique)
        self.built = True
        self.input_spec_shape = map_structure(lambda t: t.shape, inputs)
        self._output_specs = [shapes.TensorSpec(t.shape, t.dtype) for t in flatten(outputs)]
        self.output_spec_shape = map_structure(lambda t: t.shape, outputs)

    @property
    def layers(self) -> list[nn.Module]:
        return list(self.graph_layers)

    @property
    def input(self) -> Any:
        """The model's own symbolic input(s), as given to the constructor (Keras's `model.input`)."""
        return self._inputs[0] if isinstance(self._inputs, (list, tuple)) and len(self._inputs) == 1 else self._inputs

    @property
    def output(self) -> Any:
        """The model's own symbolic output(s), as given to the constructor (Keras's `model.output`)."""
        return self._outputs[0] if isinstance(self._outputs, (list, tuple)) and len(self._outputs) == 1 else \
            self._outputs

    @property
    def inputs(self) -> list[SymbolicTensor]:
        return flatten(self._inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return flatten(self._outputs)

    @property
    def input_names(self) -> list[str]:
        return [t.node.layer.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        """The keys of a dict of outputs; else the output layers' names (numbered where repeated)."""
        if isinstance(self._outputs, dict):
            return list(self._outputs)
        names = [t.node.layer.name for t in self.outputs]
        return [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]

    def input_float_types(self) -> Any:
        kinds = [t.dtype.is_floating_point for t in self.inputs]
        if isinstance(self._inputs, dict):
            return {key: t.dtype.is_floating_point for key, t in self._inputs.items()}
        return kinds if len(kinds) > 1 else kinds[0]

    def entry_layers(self) -> list[tuple[Any, int]]:
        positions = {id(t): index for index, t in enumerate(self.inputs)}
        return [(node.layer, positions[id(node.args[0])]) for node in self._nodes
                if node.args and isinstance(node.args[0], SymbolicTensor) and id(node.args[0]) in positions
                and not isinstance(node.layer, InputLayer) and hasattr(node.layer, "check_input_values")]

    def layer_chain(self) -> tuple[list[nn.Module], tuple] | None:
        """The layers in order when the graph is one chain of single-input calls from one Input to
        one output (each layer called once); None otherwise."""
        if type(self).forward is not Functional.forward or len(self.inputs) != 1 or len(self.outputs) != 1 \
                or not isinstance(self._outputs, SymbolicTensor):
            return None
        nodes = self._nodes
        if not isinstance(nodes[0].layer, InputLayer) or len({id(node.layer) for node in nodes}) != len(nodes):
            return None
        for previous, node in zip(nodes, nodes[1:]):
            if node.kwargs or len(node.args) != 1 or node.args[0] is not previous.outputs[0] or len(node.outputs) != 1:
                return None
        return [node.layer for node in nodes[1:]], tuple(self.inputs[0].shape)

    def get_config(self) -> dict[str, Any]:
        """The layers' serialized forms and the graph's calls, tensors named by (node, output index)."""
        layer_ids = {id(layer): index for index, layer in enumerate(self.graph_layers)}
        node_ids = {id(node): index for index, node in enumerate(self._nodes)}

        def encode(value: Any) -> Any:
            if isinstance(value, SymbolicTensor):
                return {"__tensor__": [node_ids[id(value.node)], value.index]}
            if isinstance(value, (list, tuple)):
                return [encode(v) for v in value]
            if isinstance(value, dict):
                return {k: encode(v) for k, v in value.items()}
            return value

        return {"name": self.name, "trainable": self.trainable,
                "layers": [serialize_layer(layer) for layer in self.graph_layers],
                "nodes": [{"layer": layer_ids[id(node.layer)], "args": encode(list(node.args)),
                           "kwargs": encode(node.kwargs)} for node in self._nodes],
                "inputs": encode(self._inputs), "outputs": encode(self._outputs)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Functional":
        """Rebuilds the graph: each saved call replayed on the symbolic tensors made so far."""
        with registry.custom_object_scope(custom_objects):
            graph_layers = [deserialize_layer(spec) for spec in config["layers"]]
        produced: list[Any] = []

        def decode(value: Any) -> Any:
            if isinstance(value, dict) and "__tensor__" in value:
                node_index, tensor_index = value["__tensor__"]
                return flatten(produced[node_index])[tensor_index]
            if isinstance(value, list):
                return [decode(v) for v in value]
            if isinstance(value, dict):
                return {k: decode(v) for k, v in value.items()}
            return value

        for node in config["nodes"]:
            layer = graph_layers[node["layer"]]
            if isinstance(layer, InputLayer):
                produced.append(layer.output)
            else:
                produced.append(layer(*decode(node["args"]), **decode(node["kwargs"])))
        return cls(decode(config["inputs"]), decode(config["outputs"]), name=config["name"],
                   trainable=config.get("trainable", True))

    def forward(self, inputs: Any) -> Any:
        values: dict[int, torch.Tensor] = {}
        for symbolic, value in zip(self.inputs, self._match_inputs(inputs)):
            values[id(symbolic)] = value
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args, kwargs = map_structure(lambda v: values[id(v)] if isinstance(v, SymbolicTensor) else v,
                                         (node.args, node.kwargs))
            outputs = node.layer(*args, **kwargs)
            for symbolic, value in zip(node.outputs, flatten(outputs)):
                values[id(symbolic)] = value
        return map_structure(lambda t: values[id(t)], self._outputs)

    def _match_inputs(self, inputs: Any) -> list[torch.Tensor]:
        expected = self.inputs
        if isinstance(inputs, dict):
            names = self.input_names if not isinstance(self._inputs, dict) else list(self._inputs)
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs named {names}; missing {missing} "
                                 f"(got {sorted(inputs)}).")
            return [inputs[n] for n in names]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != len(expected):
                raise ValueError(f"Model '{self.name}' has {len(expected)} inputs ({self.input_names}); "
                                 f"got {len(inputs)}.")
            return list(inputs)
        if len(expected) != 1:
            raise ValueError(f"Model '{self.name}' has {len(expected)} inputs ({self.input_names}); pass a list or "
                             "a dict keyed by input name.")
        return [inputs]


def _topological_order(output_nodes: list[Node]) -> list[Node]:
    """Every node the outputs depend on, each after the nodes it reads from."""
    order: list[Node] = []
    state: dict[int, str] = {}

    def visit(node: Node) -> None:
        mark = state.get(id(node))
        if mark == "done":
            return
        if mark == "visiting":
            raise ValueError(f"The functional graph has a cycle through layer '{node.layer.name}'.")
        state[id(node)] = "visiting"
        for parent in node.parents:
            visit(parent)
        state[id(node)] = "done"
        order.append(node)

    for node in output_nodes:
        visit(node)
    return order


_FUNCTIONAL_VARIANTS: dict[type, type] = {}


def functional_variant(cls: type) -> type:
    """`cls` (a Model subclass) with `Functional` mixed in, made once per class: the subclass's
    methods (train_step, ...) over a graph of layers. Not registered for loading: files name `cls`,
    whose `from_config` rebuilds it."""
    if cls not in _FUNCTIONAL_VARIANTS:
        _FUNCTIONAL_VARIANTS[cls] = type(cls.__name__, (cls, Functional), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__, "_saved_as": cls})
    return _FUNCTIONAL_VARIANTS[cls]
