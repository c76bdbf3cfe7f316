"""Sanity checks that tell an explanation from an edge detector."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from ember.explain.attribution import attribute


@dataclass
class RandomizationCheck:
    """The model-randomisation test (Adebayo et al., 2018): attributions of the trained model
    against those of the same architecture with re-drawn weights. A faithful method gives
    different maps (a low rank correlation); a method that only echoes the input does not."""

    rank_correlation: float
    trained: Any
    randomized: Any

    @property
    def passed(self) -> bool:
        return self.rank_correlation < 0.5


def randomize_weights(model: nn.Module) -> nn.Module:
    """A copy of the model with every layer's weights drawn again from their initializers."""
    copied = copy.deepcopy(model)
    for module in copied.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()
    return copied


def model_randomization_check(model: nn.Module, x: Any, method: str = "integrated_gradients",
                              target: Any = None, **options: Any) -> RandomizationCheck:
    """Runs the randomisation test for one method on a batch; see `RandomizationCheck`."""
    from scipy.stats import spearmanr

    trained = attribute(model, x, target=target, method=method, **options)
    randomized = attribute(randomize_weights(model), x, target=trained.target, method=method, **options)
    with warnings.catch_warnings():  # a blank map (a dead randomised network) has no rank correlation
        warnings.simplefilter("ignore")
        correlations = [spearmanr(np.abs(a).ravel(), np.abs(b).ravel())[0]
                        for a, b in zip(trained.values, randomized.values)]
    finite = [c for c in correlations if np.isfinite(c)]
    return RandomizationCheck(float(np.mean(finite)) if finite else 0.0, trained, randomized)


def completeness_gap(explanation: Any) -> float:
    """Integrated gradients' largest |sum of attributions - (f(x) - f(baseline))| over the batch."""
    if explanation.delta is None:
        raise ValueError(f"The completeness gap belongs to integrated gradients; this explanation used "
                         f"{explanation.method!r}.")
    return float(np.abs(explanation.delta).max())
