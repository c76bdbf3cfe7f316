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
from ember.layers.symbolic import InputLayer, Node, SymbolicTensor
from ember.models.model import Model


class Functional(Model):
    """A model defined by its inputs and outputs (symbolic tensors made by calling layers)."""

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
