"""`Model.evaluate(x, y, sensitive_features=s)`: the compiled loss and metrics on each group's
samples, as GroupMetrics (overall, by group, difference, ratio)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tree import flatten, map_structure
from ember.fairness.metrics import GroupMetrics, group_indices


def evaluate_by_group(model: Any, x: Any, y: Any, sensitive_features: Any, sample_weight: Any = None,
                      **evaluate_arguments: Any) -> GroupMetrics:
    """`model.evaluate` overall and on the samples of each group; `x`, `y`: arrays (or lists/dicts)."""
    x, y, sample_weight = (_as_arrays(tree) for tree in (x, y, sample_weight))
    groups, names = group_indices(sensitive_features, len(flatten(x)[0]))
    overall = model.evaluate(x, y, sample_weight=sample_weight, return_dict=True, **evaluate_arguments)
    by_group: dict[str, dict[Any, float]] = {name: {} for name in overall}
    for index, group in enumerate(names):
        rows = np.flatnonzero(groups == index)
        x_group, y_group, weight_group = (map_structure(lambda a: None if a is None else a[rows], tree)
                                          for tree in (x, y, sample_weight))
        results = model.evaluate(x_group, y_group, sample_weight=weight_group, return_dict=True,
                                 **evaluate_arguments)
        for name, value in results.items():
            by_group[name][group] = value
    return GroupMetrics.from_values(overall, by_group)


def _as_arrays(tree: Any) -> Any:
    if tree is None:
        return None
    leaves = flatten(tree)
    if not leaves or not all(hasattr(leaf, "__len__") and not hasattr(leaf, "__next__") for leaf in leaves):
        raise TypeError("evaluate(sensitive_features=...) needs x and y as arrays (or lists / dicts of them), "
                        f"not {type(tree).__name__}: the groups are selected by row.")
    return map_structure(np.asarray, tree)
