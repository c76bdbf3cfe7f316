"""`model.summary()`: a table of layers, output shapes and parameter counts, as Keras prints it."""

from __future__ import annotations

from typing import Any

from torch import nn

from ember.layers import shapes


def _parameter_count(module: nn.Module) -> int:
    weights = module.weights if hasattr(module, "weights") and not callable(module.weights) else \
        list(module.parameters()) + list(module.buffers())
    return sum(w.numel() for w in weights)


def _output_shape_text(module: nn.Module, fallback: Any) -> str:
    shape = getattr(module, "output_spec_shape", None) or fallback
    return shapes.describe(shape) if shape is not None else "?"


def summary_text(model: Any, line_length: int = 80) -> str:
    """The summary table for a model (built or not)."""
    name_width, shape_width = int(line_length * 0.45), int(line_length * 0.33)
    param_width = line_length - name_width - shape_width
    fallback_shapes = _sequential_shapes(model)
    rows = []
    for index, layer in enumerate(model.layers):
        label = f"{getattr(layer, 'name', type(layer).__name__.lower())} ({type(layer).__name__})"
        built = getattr(layer, "built", True)
        count = f"{_parameter_count(layer):,}" if built or list(layer.parameters()) else "0 (unbuilt)"
        rows.append((label, _output_shape_text(layer, fallback_shapes.get(index)), count))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(w.numel() for w in list(model.parameters()) + list(model.buffers()))
    kind = "Sequential" if type(model).__name__ == "Sequential" else ("Functional" if hasattr(model, "graph_layers")
                                                                      else type(model).__name__)
    lines = [f'Model: "{model.name}" ({kind})', "┏" + "━" * (line_length - 2) + "┓",
             _row(("Layer (type)", "Output Shape", "Param #"), name_width, shape_width, param_width),
             "┡" + "━" * (line_length - 2) + "┩"]
    lines += [_row(row, name_width, shape_width, param_width) for row in rows]
    lines.append("└" + "─" * (line_length - 2) + "┘")
    lines.append(f" Total params: {total:,} ({_size(total)})")
    lines.append(f" Trainable params: {trainable:,} ({_size(trainable)})")
    lines.append(f" Non-trainable params: {total - trainable:,} ({_size(total - trainable)})")
    if not model.built:
        lines.append(" The model is not built yet: give it an input shape or call it on data to see shapes.")
    return "\n".join(lines)


def _row(cells: tuple, name_width: int, shape_width: int, param_width: int) -> str:
    name, shape, count = cells
    return f"│ {name[:name_width - 3]:<{name_width - 3}} │ {shape[:shape_width - 2]:<{shape_width - 2}}│ " \
           f"{count:>{param_width - 4}} │"


def _size(count: int) -> str:
    size = count * 4
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return ""


def _sequential_shapes(model: Any) -> dict[int, Any]:
    """Output shapes of plain torch modules in a built Sequential (ember layers record their own)."""
    spec = getattr(model, "_output_spec", None)
    if spec is None or not hasattr(model, "sequence") or model.input_spec_shape is None:
        return {}
    result, current = {}, shapes.TensorSpec(model.input_spec_shape)
    for index, layer in enumerate(model.sequence):
        current = shapes.run_for_shapes(lambda fake: shapes.call_for_shapes(layer, (fake,), {}), current, module=layer)
        result[index] = current.shape if isinstance(current, shapes.TensorSpec) else None
        if not isinstance(current, shapes.TensorSpec):
            break
    return result
