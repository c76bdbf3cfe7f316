"""`clone_model`: the same architecture with new weights (Keras's `keras.models.clone_model`)."""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from ember._tree import flatten, map_structure
from ember.layers.input_layer import InputLayer
from ember.layers.serialization import deserialize_layer, serialize_layer
from ember.layers.symbolic import SymbolicTensor
from ember.models.functional import Functional
from ember.models.sequential import Sequential


def _fresh_copy(layer: nn.Module) -> nn.Module:
    return deserialize_layer(serialize_layer(layer))


def clone_model(model: Any, input_tensors: Any = None, clone_function: Callable | None = None) -> Any:
    """A new model with `model`'s architecture and newly initialized weights (not shared, not copied).

    Args:
        model: a `Sequential` or functional model (a subclassed model is cloned from its config).
        input_tensors: `Input(...)` tensors for the clone's inputs (functional and Sequential models).
        clone_function: `layer -> new layer`, applied to every layer (default: a fresh copy from the
            layer's config); return the layer itself to share it with the original.
    Returns: the clone, uncompiled, as Keras returns it.
    """
    clone_function = clone_function or _fresh_copy
    if isinstance(model, Sequential) and type(model).forward is Sequential.forward:
        layers = [clone_function(layer) for layer in model.sequence]
        if input_tensors is not None:
            layers = [input_tensors] + layers
        elif model.input_layer is not None:
            layers = [_fresh_copy(model.input_layer)] + layers
        clone = Sequential(layers, name=model.name)
        if not clone.built and model.input_spec_shape is not None:
            clone.build(tuple(model.input_spec_shape))
        return clone
    if isinstance(model, Functional) and type(model).forward is Functional.forward:
        return _clone_functional(model, input_tensors, clone_function)
    if input_tensors is not None or clone_function is not _fresh_copy:
        raise ValueError(f"clone_model: input_tensors and clone_function apply to Sequential and functional models; "
                         f"'{model.name}' is a {type(model).__name__}. Clone it without them.")
    return _fresh_copy(model)


def _clone_functional(model: Functional, input_tensors: Any, clone_function: Callable) -> Functional:
    """Replays the graph's calls with each layer's clone (a shared layer is cloned once)."""
    new_inputs = flatten(input_tensors) if input_tensors is not None else \
        [InputLayer.from_config(t.node.layer.get_config()).output for t in model.inputs]
    if len(new_inputs) != len(model.inputs) or not all(isinstance(t, SymbolicTensor) for t in new_inputs):
        raise ValueError(f"clone_model: input_tensors must be {len(model.inputs)} symbolic tensor(s) made with "
                         f"ember.Input(...); got {input_tensors!r}.")
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones: dict[int, nn.Module] = {}
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        if id(node.layer) not in clones:
            clones[id(node.layer)] = clone_function(node.layer)
        layer = clones[id(node.layer)]
        args, kwargs = map_structure(lambda v: values[id(v)] if isinstance(v, SymbolicTensor) else v,
                                     (node.args, node.kwargs))
        for old, new in zip(node.outputs, flatten(layer(*args, **kwargs))):
            values[id(old)] = new
    inputs = input_tensors if input_tensors is not None else map_structure(lambda t: values[id(t)], model._inputs)
    return Functional(inputs, map_structure(lambda t: values[id(t)], model._outputs), name=model.name)
