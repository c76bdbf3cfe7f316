"""Search spaces in the KerasTuner style: the `hp` object a build function receives.

`hp.Int("units", 32, 512, step=32)` both declares a parameter and returns its value for the
current trial. Where the value comes from is a `source`: an Optuna trial while searching, fixed
values when a best model is rebuilt, defaults for a dry run, or a grid probe that enumerates a
grid (conditional parameters included). Every declaration is checked when it is made, so a bad
space is rejected before any training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence


class SearchSpaceError(ValueError):
    """A hyperparameter is declared with an empty or contradictory range."""


@dataclass(frozen=True)
class IntSpec:
    name: str
    min_value: int
    max_value: int
    step: int = 1
    sampling: str = "linear"
    default: int | None = None

    def __post_init__(self) -> None:
        _require(isinstance(self.min_value, int) and isinstance(self.max_value, int),
                 f"Int {self.name!r}: min_value and max_value must be integers; got {self.min_value!r}, "
                 f"{self.max_value!r}.")
        _require(self.min_value <= self.max_value,
                 f"Int {self.name!r}: min_value {self.min_value} is above max_value {self.max_value}.")
        _require(isinstance(self.step, int) and self.step > 0, f"Int {self.name!r}: step must be a positive "
                                                                f"integer; got {self.step!r}.")
        _require((self.max_value - self.min_value) % self.step == 0,
                 f"Int {self.name!r}: step {self.step} does not divide the range {self.min_value}..{self.max_value}.")
        _require(self.sampling in ("linear", "log"), f"Int {self.name!r}: sampling must be 'linear' or 'log'.")
        _require(self.sampling != "log" or (self.min_value > 0 and self.step == 1),
                 f"Int {self.name!r}: log sampling needs min_value > 0 and step 1.")

    def grid(self) -> list[int]:
        return list(range(self.min_value, self.max_value + 1, self.step))

    def default_value(self) -> int:
        return self.min_value if self.default is None else self.default

    def suggest(self, trial: Any) -> int:
        return trial.suggest_int(self.name, self.min_value, self.max_value, step=self.step,
                                 log=self.sampling == "log")


@dataclass(frozen=True)
class FloatSpec:
    name: str
    min_value: float
    max_value: float
    step: float | None = None
    sampling: str = "linear"
    default: float | None = None

    def __post_init__(self) -> None:
        _require(self.min_value <= self.max_value,
                 f"Float {self.name!r}: min_value {self.min_value} is above max_value {self.max_value}.")
        _require(self.sampling in ("linear", "log"), f"Float {self.name!r}: sampling must be 'linear' or 'log'.")
        _require(self.sampling != "log" or self.min_value > 0, f"Float {self.name!r}: log sampling needs "
                                                               f"min_value > 0; got {self.min_value}.")
        if self.step is not None:
            _require(self.step > 0 and self.sampling == "linear",
                     f"Float {self.name!r}: step must be positive and goes with linear sampling.")
            count = (self.max_value - self.min_value) / self.step
            _require(math.isclose(count, round(count), abs_tol=1e-8),
                     f"Float {self.name!r}: step {self.step} does not divide the range "
                     f"{self.min_value}..{self.max_value}.")

    def grid(self) -> list[float]:
        if self.step is None:
            raise SearchSpaceError(f"Float {self.name!r} has no step, so it has no grid. Give step=..., or use "
                                   "hp.Choice with the values to try.")
        count = round((self.max_value - self.min_value) / self.step)
        return [round(self.min_value + i * self.step, 12) for i in range(count + 1)]

    def default_value(self) -> float:
        return self.min_value if self.default is None else self.default

    def suggest(self, trial: Any) -> float:
        return trial.suggest_float(self.name, self.min_value, self.max_value, step=self.step,
                                   log=self.sampling == "log")


@dataclass(frozen=True)
class ChoiceSpec:
    name: str
    values: tuple
    default: Any = None

    def __post_init__(self) -> None:
        _require(len(self.values) > 0, f"Choice {self.name!r}: the list of values is empty.")
        _require(len(set(self.values)) == len(self.values), f"Choice {self.name!r}: values repeat: "
                                                            f"{list(self.values)}.")
        _require(all(isinstance(v, (int, float, str, bool)) for v in self.values),
                 f"Choice {self.name!r}: values must be ints, floats, strings or booleans.")
        _require(self.default is None or self.default in self.values,
                 f"Choice {self.name!r}: default {self.default!r} is not among the values.")

    def grid(self) -> list:
        return list(self.values)

    def default_value(self) -> Any:
        return self.values[0] if self.default is None else self.default

    def suggest(self, trial: Any) -> Any:
        return trial.suggest_categorical(self.name, list(self.values))


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SearchSpaceError(message)


Spec = IntSpec | FloatSpec | ChoiceSpec


class HyperParameters:
    """Declares hyperparameters and returns their values for the current trial.

    >>> def build_model(hp):
    ...     units = hp.Int("units", 32, 512, step=32)
    ...     rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    ...     if hp.Boolean("dropout"):          # a conditional parameter:
    ...         hp.Float("dropout_rate", 0.1, 0.5, step=0.1)   # only declared when dropout is on
    """

    def __init__(self, source: Callable[[Spec], Any] | None = None) -> None:
        self._source = source or (lambda spec: spec.default_value())
        self.specs: dict[str, Spec] = {}
        self.values: dict[str, Any] = {}

    def _declare(self, spec: Spec) -> Any:
        known = self.specs.get(spec.name)
        if known is not None and known != spec:
            raise SearchSpaceError(f"Hyperparameter {spec.name!r} is declared twice with different settings: "
                                   f"{known} and {spec}.")
        if spec.name in self.values:
            return self.values[spec.name]
        self.specs[spec.name] = spec
        value = self._source(spec)
        self.values[spec.name] = value
        return value

    def Int(self, name: str, min_value: int, max_value: int, step: int = 1, sampling: str = "linear",  # noqa: N802
            default: int | None = None) -> int:
        """An integer from min_value to max_value (both included) in steps of `step`."""
        return self._declare(IntSpec(name, min_value, max_value, step, sampling, default))

    def Float(self, name: str, min_value: float, max_value: float, step: float | None = None,  # noqa: N802
              sampling: str = "linear", default: float | None = None) -> float:
        """A float in [min_value, max_value]; `sampling="log"` for rates spanning decades."""
        return self._declare(FloatSpec(name, float(min_value), float(max_value), step, sampling, default))

    def Choice(self, name: str, values: Sequence, default: Any = None) -> Any:  # noqa: N802
        """One of `values`."""
        return self._declare(ChoiceSpec(name, tuple(values), default))

    def Boolean(self, name: str, default: bool = False) -> bool:  # noqa: N802
        """True or False."""
        return self._declare(ChoiceSpec(name, (False, True), default))

    def Fixed(self, name: str, value: Any) -> Any:  # noqa: N802
        """A constant recorded with the trial's values."""
        return self._declare(ChoiceSpec(name, (value,), value))

    def get(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"No hyperparameter {name!r} was declared; declared: {sorted(self.values)}.")
        return self.values[name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __repr__(self) -> str:
        return f"HyperParameters({self.values})"


def fixed_source(values: dict[str, Any]) -> Callable[[Spec], Any]:
    """Values from a finished trial (a parameter it never declared takes its default)."""
    return lambda spec: values[spec.name] if spec.name in values else spec.default_value()


def trial_source(trial: Any) -> Callable[[Spec], Any]:
    """Values drawn by an Optuna trial."""
    return lambda spec: spec.suggest(trial)


class _Branch(Exception):
    def __init__(self, spec: Spec) -> None:
        self.spec = spec


def enumerate_grid(build: Callable[[HyperParameters], Any]) -> list[dict[str, Any]]:
    """Every combination of grid values the build function can reach, conditional parameters included.

    The function is run once per combination (and once per branch point) with a probe that
    stops at each not-yet-assigned parameter and branches over its values.
    """
    points: list[dict[str, Any]] = []

    def explore(assigned: dict[str, Any]) -> None:
        def probe(spec: Spec) -> Any:
            if spec.name in assigned:
                return assigned[spec.name]
            raise _Branch(spec)

        hp = HyperParameters(probe)
        try:
            build(hp)
        except _Branch as branch:
            for value in branch.spec.grid():
                explore({**assigned, branch.spec.name: value})
            return
        except SearchSpaceError:
            raise
        except Exception:  # this point's build fails: its trial will fail and be recorded, like any other
            pass
        point = {name: value for name, value in assigned.items() if name in hp.values}
        if point not in points:
            points.append(point)

    explore({})
    return points
