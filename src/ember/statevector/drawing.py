"""Circuit drawings from a `QuantumState`'s recorded operations: text (one line per wire, as
PennyLane's `qml.draw`) and a PNG (matplotlib).

Gates go into columns greedily: each gate takes the first column after the last one used on its
wires (and on the wires a two-qubit gate's line crosses), so gates on different wires share columns.
"""

from __future__ import annotations

from ember.statevector.vector import StateVector

_TARGET_SYMBOLS = {"CNOT": "X", "CZ": "●", "CY": "Y"}


def _is_measurement(name: str) -> bool:
    return name.startswith("<") or name == "Probs"


def _label(name: str, angles: str) -> str:
    return f"{name}({angles})" if angles else name


def layout(state: StateVector) -> tuple[list[dict[int, str]], dict[int, str]]:
    """Columns (each `{wire: text}`, "│" where a two-qubit gate's line passes) and the
    measurement label of each wire."""
    columns: list[dict[int, str]] = []
    next_free = [0] * state.num_qubits
    measured: dict[int, str] = {}
    for name, wires, angles in state.operations:
        if _is_measurement(name):
            labels = measured.get(wires[0], "").split(",") if wires[0] in measured else []
            if name not in labels:
                measured[wires[0]] = ",".join(labels + [name])
            continue
        span = range(min(wires), max(wires) + 1)
        column = max(next_free[w] for w in span)
        while len(columns) <= column:
            columns.append({})
        if len(wires) == 1:
            columns[column][wires[0]] = _label(name, angles)
        else:
            control, target = wires
            for wire in span:
                columns[column][wire] = "│"
            columns[column][control] = "●"
            columns[column][target] = _TARGET_SYMBOLS.get(name, _label(name[1:], angles))
        for wire in span:
            next_free[wire] = column + 1
    return columns, measured


def text(state: StateVector) -> str:
    """The circuit as text: `0: ──RX(x)──Rot──╭●──...──┤ <Z>`-style lines, one per wire."""
    columns, measured = layout(state)
    widths = [max(len(cell) for cell in column.values()) for column in columns]
    lines = []
    for wire in range(state.num_qubits):
        cells = []
        for column, width in zip(columns, widths):
            cell = column.get(wire, "")
            cells.append(cell.center(width, "─") if cell != "│" else "│".center(width, "─"))
        ending = f"┤ {measured[wire]}" if wire in measured else "┤"
        lines.append(f"{wire}: ──" + "──".join(cells) + "──" + ending)
    return "\n".join(lines)


def png(state: StateVector, path: str) -> str:
    """The circuit drawn with matplotlib to `path` (a PNG); returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    columns, measured = layout(state)
    n = state.num_qubits
    figure, axes = plt.subplots(figsize=(1.2 + 0.9 * len(columns), 0.7 * n + 0.6))
    for wire in range(n):
        axes.plot([-0.5, len(columns) + 0.2], [-wire, -wire], color="black", linewidth=1, zorder=0)
        axes.text(-0.7, -wire, f"{wire}", ha="right", va="center")
        if wire in measured:
            axes.text(len(columns) + 0.3, -wire, measured[wire], ha="left", va="center")
    for index, column in enumerate(columns):
        lined = [w for w, cell in column.items() if cell in ("│", "●") or len(column) > 1]
        if len([w for w, c in column.items() if c != "│"]) == 2 or "│" in column.values():
            axes.plot([index, index], [-min(lined), -max(lined)], color="black", linewidth=1, zorder=1)
        for wire, cell in column.items():
            if cell == "│":
                continue
            if cell == "●":
                axes.plot(index, -wire, "o", color="black", markersize=6, zorder=2)
            else:
                axes.text(index, -wire, cell, ha="center", va="center", fontsize=8, zorder=3,
                          bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "black"})
    axes.set_xlim(-1, len(columns) + 1.2)
    axes.set_ylim(-n + 0.4, 0.6)
    axes.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
