"""`model.summary()`: a table of layers, output shapes and parameter counts, as Keras prints it."""

from __future__ import annotations

from typing import Any

from torch import nn

from ember.layers import shapes


def _parameter_count(module: nn.Module) -> int:
    weights = module.weights if hasattr(module, "weights") and not callable(module.weights) else \
        list(module.parameters()) + list(module.buffers())
    return sum(w.numel() for w in weights)


def output_shape_text(module: nn.Module, fallback: Any) -> str:
    shape = getattr(module, "output_spec_shape", None) or fallback
    return shapes.describe(shape) if shape is not None else "?"


def summary_text(model: Any, line_length: int = 80, positions: list[float] | None = None,
                 expand_nested: bool = False, show_trainable: bool = False) -> str:
    """The summary table for a model (built or not).

    `positions`: where each column ends, as fractions of `line_length` (all <= 1) or as character
    counts (Keras's meaning); `expand_nested` lists the layers of nested models under them;
    `show_trainable` adds a column saying whether each layer trains.
    """
    widths = _column_widths(line_length, positions, show_trainable)
    header = ("Layer (type)", "Output Shape", "Param #") + (("Trainable",) if show_trainable else ())
    rows = [_cells(layer, shape, depth, show_trainable) for layer, shape, depth in _layers(model, expand_nested)]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(w.numel() for w in list(model.parameters()) + list(model.buffers()))
    kind = "Sequential" if type(model).__name__ == "Sequential" else ("Functional" if hasattr(model, "graph_layers")
                                                                      else type(model).__name__)
    width = sum(widths) + len(widths) + 1
    lines = [f'Model: "{model.name}" ({kind})', "┏" + "━" * (width - 2) + "┓", _row(header, widths),
             "┡" + "━" * (width - 2) + "┩"]
    lines += [_row(row, widths) for row in rows]
    lines.append("└" + "─" * (width - 2) + "┘")
    lines.append(f" Total params: {total:,} ({_size(total)})")
    lines.append(f" Trainable params: {trainable:,} ({_size(trainable)})")
    lines.append(f" Non-trainable params: {total - trainable:,} ({_size(total - trainable)})")
    if not model.built:
        lines.append(" The model is not built yet: give it an input shape or call it on data to see shapes.")
    return "\n".join(lines)


def _column_widths(line_length: int, positions: list[float] | None, show_trainable: bool) -> list[int]:
    columns = 4 if show_trainable else 3
    if positions is None:
        positions = [0.4, 0.7, 0.86, 1.0] if show_trainable else [0.45, 0.78, 1.0]
    if len(positions) != columns:
        raise ValueError(f"summary(positions=...) needs {columns} column ends (one per column"
                         f"{', with show_trainable' if show_trainable else ''}); got {list(positions)!r}.")
    ends = [int(line_length * p) if all(p <= 1 for p in positions) else int(p) for p in positions]
    starts = [1] + ends[:-1]  # the table's left border takes the first character
    if any(end <= start + 3 for start, end in zip(starts, ends)):
        raise ValueError(f"summary(positions=...) must increase, leaving room in each column; got {list(positions)!r}.")
    return [end - start - 1 for start, end in zip(starts, ends)]


def _layers(model: Any, expand_nested: bool, depth: int = 0) -> list[tuple[nn.Module, Any, int]]:
    """(layer, output shape if known otherwise, nesting depth) for each row."""
    fallback_shapes = _sequential_shapes(model)
    rows = []
    for index, layer in enumerate(model.layers):
        rows.append((layer, fallback_shapes.get(index), depth))
        if expand_nested and hasattr(layer, "layers") and not callable(layer.layers):
            rows.extend(_layers(layer, expand_nested, depth + 1))
    return rows


def _cells(layer: nn.Module, fallback_shape: Any, depth: int, show_trainable: bool) -> tuple[str, ...]:
    label = "  " * depth + f"{getattr(layer, 'name', type(layer).__name__.lower())} ({type(layer).__name__})"
    built = getattr(layer, "built", True)
    count = f"{_parameter_count(layer):,}" if built or list(layer.parameters()) else "0 (unbuilt)"
    cells = (label, output_shape_text(layer, fallback_shape), count)
    if not show_trainable:
        return cells
    return cells + ("Y" if getattr(layer, "trainable", any(p.requires_grad for p in layer.parameters())) else "N",)


def _row(cells: tuple, widths: list[int]) -> str:
    texts = []
    for index, (cell, width) in enumerate(zip(cells, widths)):
        cell = cell[:width - 2]
        texts.append(f" {cell:<{width - 2}} " if index == 0 or index == 1 else f" {cell:>{width - 2}} ")
    return "│" + "│".join(texts) + "│"


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
