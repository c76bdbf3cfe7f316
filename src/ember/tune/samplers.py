"""A random sampler that is repeatable per trial: the value of a parameter depends only on the
seed, the trial number and the parameter name. Workers that share a study therefore draw different
values (their trials have different numbers), and a rerun with the same seed draws the same ones."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler


class SeededRandomSampler(BaseSampler):
    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def _rng(self, number: int, name: str) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng()
        digest = hashlib.sha256(f"{self.seed}:{number}:{name}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    def infer_relative_search_space(self, study, trial) -> dict:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict:
        return {}

    def sample_independent(self, study, trial, param_name: str, param_distribution: Any) -> Any:
        rng = self._rng(trial.number, param_name)
        if isinstance(param_distribution, CategoricalDistribution):
            choices = param_distribution.choices
            return choices[int(rng.integers(len(choices)))]
        low, high = param_distribution.low, param_distribution.high
        if isinstance(param_distribution, IntDistribution):
            if param_distribution.log:
                return int(min(high, max(low, round(math.exp(rng.uniform(math.log(low), math.log(high + 1)) - 0.5)))))
            count = (high - low) // param_distribution.step
            return int(low + param_distribution.step * rng.integers(count + 1))
        if isinstance(param_distribution, FloatDistribution):
            if param_distribution.log:
                return float(math.exp(rng.uniform(math.log(low), math.log(high))))
            if param_distribution.step is not None:
                count = round((high - low) / param_distribution.step)
                return float(low + param_distribution.step * rng.integers(count + 1))
            return float(rng.uniform(low, high))
        raise TypeError(f"Unsupported distribution {param_distribution!r}.")
