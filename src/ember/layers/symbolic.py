"""The functional API's symbolic tensors, and layers called on them.

Calling a layer on a `SymbolicTensor` builds the layer, runs it on fake tensors to learn the
output shape, and records a `Node` (layer, arguments) from which `ember.Model(inputs, outputs)`
rebuilds the computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ember._tree import flatten, map_structure
from ember.layers import shapes


@dataclass(eq=False)
class Node:
    """One call of a layer in a functional graph: `outputs = layer(*args, **kwargs)`."""

    layer: Any  # the Layer called
    args: tuple
    kwargs: dict
    outputs: list["SymbolicTensor"] = field(default_factory=list)

    @property
    def parents(self) -> list["Node"]:
        return [t.node for t in flatten((self.args, self.kwargs)) if isinstance(t, SymbolicTensor)]


class SymbolicTensor:
    """A placeholder for a tensor in a functional model: a shape (batch axis None), a dtype and
    the node that produces it."""

    def __init__(self, shape: tuple[int | None, ...], dtype: torch.dtype, node: Node, index: int = 0,
                 mask: shapes.TensorSpec | None = None) -> None:
        self.shape, self.dtype, self.node, self.index = tuple(shape), dtype, node, index
        self.mask_spec = mask

    @property
    def _keras_mask(self) -> shapes.TensorSpec | None:
        """The padding mask this tensor will carry (its shape and dtype), or None: Keras's attribute."""
        return self.mask_spec

    def spec(self) -> shapes.TensorSpec:
        return shapes.TensorSpec(self.shape, self.dtype, self.mask_spec)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        return self.node.layer.name

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={shapes.describe(self.shape)} dtype={self.dtype} from '{self.name}'>"

    def __hash__(self) -> int:
        return id(self)


def is_symbolic(value: Any) -> bool:
    return isinstance(value, SymbolicTensor)


def symbolic_call(layer: Any, args: tuple, kwargs: dict) -> Any:
    """Applies `layer` to symbolic tensors: builds it, infers the output and records the node."""
    specs = map_structure(lambda v: v.spec() if is_symbolic(v) else v, (args, kwargs))
    output_specs = shapes.run_for_shapes(lambda fakes: layer(*fakes[0], **fakes[1]), specs, module=layer)
    node = Node(layer, args, kwargs)

    def make_symbolic(spec: Any) -> Any:
        if not isinstance(spec, shapes.TensorSpec):
            return spec
        symbolic = SymbolicTensor(spec.shape, spec.dtype, node, len(node.outputs), spec.mask)
        node.outputs.append(symbolic)
        return symbolic

    outputs = map_structure(make_symbolic, output_specs)
    if hasattr(layer, "_inbound_nodes"):
        layer._inbound_nodes.append(node)
    return outputs
