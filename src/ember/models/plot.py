"""`utils.plot_model` / `model_to_dot`: a model's layer graph as Graphviz DOT text, drawn to PNG,
SVG or PDF by Graphviz's `dot` program when it is installed (Keras needs pydot and Graphviz; here
the DOT text is written directly, so only the `dot` program is needed, and `.dot` files need nothing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from ember._tree import flatten
from ember.layers import shapes
from ember.layers.symbolic import SymbolicTensor
from ember.models.summary import output_shape_text

_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "gif", "dot")


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
                 show_layer_activations: bool = False, show_trainable: bool = False) -> str:
    """The DOT text of the model's graph: one box per layer call, an arrow per tensor passed on.
    Functional models (and Sequentials with a known input) show their real graph; other models
    show their layers in order. `expand_nested` is accepted for Keras compatibility (nested models
    are drawn as one box)."""
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' (top to bottom) or 'LR' (left to right); got {rankdir!r}.")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    lines = [f'digraph "{_escape(model.name)}" {{', f'  graph [rankdir={rankdir}, dpi={int(dpi)}];',
             '  node [shape=record, fontname="Helvetica", fontsize=11];']
    nodes = _graph_nodes(model)
    if nodes is not None:
        index = {id(node): i for i, node in enumerate(nodes)}
        for i, node in enumerate(nodes):
            inputs = [t.shape for t in _symbolic_args(node)]
            outputs = [t.shape for t in node.outputs]
            lines.append(f'  n{i} [label="{_label(node.layer, inputs, outputs, node.outputs, options)}"];')
        for i, node in enumerate(nodes):
            for parent in node.parents:
                lines.append(f"  n{index[id(parent)]} -> n{i};")
    else:
        layers = list(model.layers)
        for i, layer in enumerate(layers):
            output = getattr(layer, "output_spec_shape", None)
            lines.append(f'  n{i} [label="{_label(layer, [], [output] if output else [], [], options)}"];')
        lines.extend(f"  n{i} -> n{i + 1};" for i in range(len(layers) - 1))
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, **kwargs: Any) -> str:
    """Draws the model's graph into `to_file` (its extension picks the format: png, svg, pdf, ...,
    or dot for the DOT text alone) and returns the path. Drawing needs Graphviz's `dot` program."""
    text = model_to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                        show_layer_activations, show_trainable)
    extension = os.path.splitext(os.fspath(to_file))[1].lstrip(".").lower() or "png"
    if extension not in _FORMATS:
        raise ValueError(f"plot_model: cannot draw a .{extension} file; use one of {', '.join(_FORMATS)}.")
    if extension == "dot":
        with open(to_file, "w", encoding="utf-8") as file:
            file.write(text)
        return os.fspath(to_file)
    program = shutil.which("dot")
    if program is None:
        raise ImportError("plot_model draws with Graphviz's `dot` program, which is not installed (or not on PATH). "
                          "Install Graphviz (apt install graphviz, brew install graphviz, or conda install graphviz), "
                          "or save the graph as text with to_file='model.dot'.")
    result = subprocess.run([program, f"-T{extension}", "-o", os.fspath(to_file)], input=text.encode("utf-8"),
                            capture_output=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"Graphviz's dot failed ({result.returncode}): {result.stderr.decode(errors='replace')}")
    return os.fspath(to_file)


def _graph_nodes(model: Any) -> list | None:
    """The layer calls from the inputs to the outputs in order, or None when the model has no graph."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError, TypeError):
        return None
    if not outputs:
        return None
    order, seen = [], set()

    def visit(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)

    for tensor in outputs:
        visit(tensor.node)
    return order


def _symbolic_args(node: Any) -> list:
    return [t for t in flatten((node.args, node.kwargs)) if isinstance(t, SymbolicTensor)]


def _label(layer: Any, inputs: list, outputs: list, tensors: list, options: dict) -> str:
    title = f"{layer.name}|{type(layer).__name__}" if options["show_layer_names"] else type(layer).__name__
    parts = [title]
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and callable(activation):
        parts.append(f"activation: {getattr(activation, '__name__', type(activation).__name__)}")
    if options["show_shapes"]:
        parts.append(f"input: {_shapes(inputs)}|output: {_shapes(outputs) if outputs else output_shape_text(layer, None)}")
    if options["show_dtype"] and tensors:
        parts.append("dtype: " + ", ".join(str(t.dtype).replace("torch.", "") for t in tensors))
    if options["show_trainable"]:
        parts.append(f"trainable: {'yes' if getattr(layer, 'trainable', True) else 'no'}")
    return "{" + "|".join(_escape(part, keep_bars=True) for part in parts) + "}"


def _shapes(values: list) -> str:
    if not values:
        return "-"
    return ", ".join(shapes.describe(v) for v in values)


def _escape(text: str, keep_bars: bool = False) -> str:
    for character in '\\"{}<>' + ("" if keep_bars else "|"):
        text = text.replace(character, "\\" + character)
    return text
