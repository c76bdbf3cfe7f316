"""Results of a search: a summary table and PNG plots (objective per trial, parameter importance)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def summary_table(search: Any, num_trials: int) -> str:
    trials = search.completed_trials()[:num_trials]
    all_trials = search.study.get_trials(deepcopy=False)
    counts: dict[str, int] = {}
    for trial in all_trials:
        if not trial.user_attrs.get("ember_surplus"):
            counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    lines = [f"Search '{search.project_name}': objective {search.objective} ({search.direction}), "
             f"{', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}", ""]
    names = sorted({name for trial in trials for name in trial.params})
    header = ["trial", search.objective] + names
    rows = [[str(t.number), f"{t.value:.5g}"] + [_format(t.params.get(n, "-")) for n in names] for t in trials]
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def _format(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_objective(search: Any, path: Path) -> Path:
    """The objective of each completed trial, and the best so far."""
    plt = _pyplot()
    states = __import__("optuna").trial.TrialState
    trials = sorted(search.study.get_trials(deepcopy=False, states=(states.COMPLETE,)), key=lambda t: t.number)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    numbers, values = [t.number for t in trials], [t.value for t in trials]
    best, running = [], None
    for value in values:
        running = value if running is None else (max(running, value) if search.direction == "max" else
                                                 min(running, value))
        best.append(running)
    axis.plot(numbers, values, "o", label="trial")
    axis.step(numbers, best, where="post", label="best so far")
    axis.set_xlabel("trial")
    axis.set_ylabel(search.objective)
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_importance(search: Any, path: Path) -> Path:
    """How much each hyperparameter explains the objective (Optuna's fANOVA importance)."""
    import optuna

    plt = _pyplot()
    try:
        with warnings.catch_warnings():  # few trials per regime is expected in small searches
            warnings.simplefilter("ignore")
            importances = optuna.importance.get_param_importances(search.study)
    except (RuntimeError, ValueError) as error:  # too few trials, or a single parameter value
        importances, note = {}, str(error)
    else:
        note = ""
    figure, axis = plt.subplots(figsize=(6, 3.5))
    names = list(importances)[::-1]
    axis.barh(names, [importances[n] for n in names])
    axis.set_xlabel("importance for " + search.objective)
    if not importances:
        axis.text(0.5, 0.5, "not enough completed trials to estimate importance\n" + note[:80],
                  ha="center", va="center", transform=axis.transAxes)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
