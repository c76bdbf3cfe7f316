"""Sequential: a plain stack of layers, each feeding the next (`Sequential([...])`, `.add()`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember.layers import shapes
from ember.layers.base import Layer
from ember import registry
from ember.layers.input_layer import InputLayer
from ember.layers.serialization import deserialize_layer, serialize_layer
from ember.layers.symbolic import SymbolicTensor
from ember.models.model import Model


class Sequential(Model):
    """A stack of layers. Any `torch.nn.Module` can be one of them.

    The input shape comes from an `Input(...)` first element, the first layer's `input_shape=`,
    or the first data seen. Once it is known, each added layer is built and its shape checked.

    >>> model = Sequential([Input((784,)), Dense(128, activation="relu"), Dense(10, activation="softmax")])
    """

    stepwise_decoding = True

    def __init__(self, layers: list | None = None, name: str | None = None, trainable: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.sequence = nn.ModuleList()
        self.input_layer: InputLayer | None = None
        self._output_spec: shapes.TensorSpec | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[nn.Module]:
        return list(self.sequence)

    def add(self, layer: Any) -> None:
        """Appends a layer (or an `Input(...)` as the first element); builds it when the input shape is known."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if len(self.sequence) or self.input_layer is not None:
                raise ValueError(f"Sequential '{self.name}': an Input can only be the first element.")
            self.input_layer = layer
            self._start_from(shapes.TensorSpec(layer.output_spec_shape, layer.input_dtype))
            return
        if not isinstance(layer, nn.Module):
            raise TypeError(f"Sequential '{self.name}' can only hold layers (torch.nn.Module instances); "
                            f"got {layer!r}.")
        name = getattr(layer, "name", None)
        if name is not None and any(getattr(existing, "name", None) == name for existing in self.sequence):
            raise ValueError(f"Sequential '{self.name}' already has a layer named {name!r}; layer names must be "
                             "unique.")
        self.sequence.append(layer)
        declared = getattr(layer, "_declared_input_shape", None)
        if len(self.sequence) == 1 and self.input_layer is None and declared is not None:
            self._start_from(shapes.TensorSpec((None,) + tuple(declared[1:]), torch.float32))
        elif self._output_spec is not None:
            try:
                self._output_spec = _run_layer(layer, self._output_spec)
            except Exception:
                self.sequence = self.sequence[:-1]
                raise
            self.output_spec_shape = self._output_spec.shape

    def _start_from(self, spec: shapes.TensorSpec) -> None:
        self.input_spec_shape, self.built = spec.shape, True
        self._input_dtype = spec.dtype
        for layer in self.sequence:
            spec = _run_layer(layer, spec)
        self._output_spec = spec
        self.output_spec_shape = spec.shape

    def pop(self) -> nn.Module:
        """Removes and returns the last layer."""
        if not len(self.sequence):
            raise ValueError(f"Sequential '{self.name}' has no layers to pop.")
        layer = self.sequence[-1]
        self.sequence = self.sequence[:-1]
        if self.input_spec_shape is not None:
            self._start_from(shapes.TensorSpec(self.input_spec_shape, getattr(self, "_input_dtype", torch.float32)))
        return layer

    def build(self, input_shape: Any = None) -> None:
        if input_shape is not None and not self.built:
            self._start_from(shapes.TensorSpec((None,) + tuple(input_shape)[1:], torch.float32))

    def forward(self, inputs: Any) -> Any:
        for layer in self.sequence:
            inputs = layer(inputs)
        return inputs

    def input_float_types(self) -> Any:
        if self.input_layer is not None:
            return self.input_layer.input_dtype.is_floating_point
        first = self.sequence[0] if len(self.sequence) else None
        return not getattr(first, "integer_inputs", False)

    def entry_layers(self) -> list[tuple[Layer, int]]:
        first = self.sequence[0] if len(self.sequence) else None
        return [(first, 0)] if isinstance(first, Layer) else []

    def _first_layer_hint(self) -> str:
        if not len(self.sequence):
            return ""
        first = self.sequence[0]
        return f" (first layer '{getattr(first, 'name', type(first).__name__)}', {type(first).__name__})"

    @property
    def input(self) -> SymbolicTensor:
        """The symbolic input of the stack (Keras's `model.input`)."""
        return self._symbolic_chain()[0]

    @property
    def output(self) -> SymbolicTensor:
        """The symbolic output of the stack (Keras's `model.output`)."""
        return self._symbolic_chain()[1]

    @property
    def inputs(self) -> list[SymbolicTensor]:
        """The symbolic input (Keras's `model.inputs`): with `outputs` and each layer's `output`, for
        feature extraction, `Model(model.inputs, [layer.output for layer in model.layers])`."""
        return [self._symbolic_chain()[0]]

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return [self._symbolic_chain()[1]]

    def _symbolic_chain(self) -> tuple[SymbolicTensor, SymbolicTensor]:
        """The layers called on a symbolic input, once per set of layers (a changed stack replaces
        the previous chain's calls, so each layer keeps one `output`)."""
        if self.input_spec_shape is None:
            raise ValueError(f"Sequential '{self.name}' has no input shape yet, so it has no symbolic inputs or "
                             "outputs. Start it with ember.Input(shape) or call model.build((None, ...)).")
        plain = [type(layer).__name__ for layer in self.sequence if not isinstance(layer, Layer)]
        if plain:
            raise ValueError(f"Sequential '{self.name}' holds plain torch modules {plain}, which cannot be called "
                             "on symbolic tensors; wrap them in ember.layers.TorchModuleWrapper(module).")
        key = tuple(map(id, self.sequence))
        chain = getattr(self, "_chain", None)
        if chain is not None and chain[0] == key:
            return chain[1], chain[2]
        if chain is not None:
            for layer, node in chain[3]:  # forget the previous chain's calls
                if node in layer._inbound_nodes:
                    layer._inbound_nodes.remove(node)
        start = self.input_layer.output if self.input_layer is not None else InputLayer(
            shape=self.input_spec_shape[1:], dtype=getattr(self, "_input_dtype", None)).output
        tensor, made = start, []
        for layer in self.sequence:
            tensor = layer(tensor)
            made.append((layer, layer._inbound_nodes[-1]))
        self._chain = (key, start, tensor, made)
        return start, tensor

    def layer_chain(self) -> tuple[list[nn.Module], tuple] | None:
        if type(self).forward is not Sequential.forward or not self.built:
            return None
        return list(self.sequence), tuple(self.input_spec_shape)

    def get_config(self) -> dict[str, Any]:
        """The layers' serialized forms, the Input (if any) and the input shape, as JSON values."""
        return {"name": self.name, "trainable": self.trainable,
                "layers": [serialize_layer(child) for child in self.sequence],
                "input": serialize_layer(self.input_layer) if self.input_layer is not None else None,
                "input_shape": list(self.input_spec_shape) if self.input_spec_shape is not None else None}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Sequential":
        with registry.custom_object_scope(custom_objects):
            model = cls(name=config["name"], trainable=config.get("trainable", True))
            if config.get("input"):
                model.add(deserialize_layer(config["input"]))
            for child in config["layers"]:
                model.add(deserialize_layer(child))
        if config.get("input_shape") and not model.built:
            model.build(tuple(config["input_shape"]))
        return model


def _run_layer(layer: nn.Module, spec: shapes.TensorSpec) -> shapes.TensorSpec:
    """Builds `layer` for an input spec and returns its output spec (a clear error on mismatch)."""
    if isinstance(layer, Layer):
        output = shapes.run_for_shapes(lambda fake: layer(fake), spec, module=layer)
    else:
        output = shapes.run_for_shapes(lambda fake: shapes.call_for_shapes(layer, (fake,), {}), spec, module=layer)
    if not isinstance(output, shapes.TensorSpec):
        raise ValueError(f"Layers of a Sequential model must return one tensor; "
                         f"'{getattr(layer, 'name', type(layer).__name__)}' returned {type(output).__name__}.")
    return output
