"""Hyperparameter search over Optuna studies: GridSearch, RandomSearch, BayesianSearch, Hyperband.

A search owns an Optuna study kept in a database (an SQLite file by default, or a PostgreSQL URL
shared by many workers). Each trial builds a model with the user's build function, trains it
with `fit`'s arguments, reports every epoch's objective (so a pruner can stop hopeless trials),
and keeps the trained weights, so the best models are loaded, not retrained.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ember.callbacks.base import Callback
from ember.callbacks.monitors import direction_of
from ember.tune.hyperparameters import HyperParameters, SearchSpaceError, enumerate_grid, fixed_source, \
    trial_source

_WORKER = f"{socket.gethostname()}:{os.getpid()}"


def _optuna():
    try:
        import optuna
    except ImportError as error:
        raise ImportError("ember.tune needs Optuna: pip install 'ember[tune]' (or pip install optuna).") from error
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class TrialPruned(Exception):
    """Raised inside a trial that the pruner stopped."""


class PruningCallback(Callback):
    """Reports each epoch's objective to the trial and stops training when the pruner says so."""

    def __init__(self, trial: Any, objective: str) -> None:
        super().__init__()
        self.trial, self.objective, self.pruned = trial, objective, False

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.objective)
        if value is None:
            raise ValueError(f"The search objective '{self.objective}' is not in the training logs "
                             f"({sorted(logs or {})}). Pass validation data for 'val_' objectives.")
        if not np.isfinite(value):
            return
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


class Search:
    """Base class of the strategies. Subclasses choose the Optuna sampler and pruner.

    Args:
        hypermodel: `build(hp) -> compiled ember model`.
        objective: a logged name to optimise ("val_accuracy", "val_loss", ...); the direction
            is inferred as Keras does (accuracies, AUC, precision, recall up; losses down), or
            given with `direction="max"|"min"`.
        max_trials: how many trials the search runs in all (across workers and restarts).
        executions_per_trial: models trained per trial; the trial's value is their mean.
        seed: makes sampling (and, on the CPU, training) repeatable.
        directory, project_name: where the SQLite study and trial weights live.
        storage: a database URL (`postgresql://user:password@host/db`) to share the search.
        overwrite: start afresh instead of resuming an existing study of the same name.
    """

    uses_grid = False

    def __init__(self, hypermodel: Callable[[HyperParameters], Any], objective: str = "val_loss",
                 max_trials: int = 10, executions_per_trial: int = 1, seed: int | None = None,
                 directory: str | os.PathLike = "ember_tuning", project_name: str = "search",
                 storage: str | None = None, overwrite: bool = False, direction: str | None = None,
                 pruner: Any = "default") -> None:
        if not callable(hypermodel):
            raise TypeError("hypermodel must be a function build(hp) returning a compiled model.")
        if not isinstance(max_trials, int) or max_trials < 1:
            raise ValueError(f"max_trials must be a positive integer; got {max_trials!r}.")
        if not isinstance(executions_per_trial, int) or executions_per_trial < 1:
            raise ValueError(f"executions_per_trial must be a positive integer; got {executions_per_trial!r}.")
        if direction not in (None, "max", "min"):
            raise ValueError(f"direction must be 'max', 'min' or None (inferred); got {direction!r}.")
        self.hypermodel, self.objective, self.max_trials = hypermodel, objective, max_trials
        self.executions_per_trial, self.seed = executions_per_trial, seed
        self.direction = direction or direction_of(objective)
        self.directory, self.project_name = Path(directory), project_name
        self.storage = storage
        self.overwrite, self._pruner_choice = overwrite, pruner
        self._study = None

    # --------------------------------------------------------------- optuna parts
    def make_sampler(self) -> Any:
        raise NotImplementedError

    def make_pruner(self, epochs: int) -> Any:
        optuna = _optuna()
        if self._pruner_choice is None:
            return optuna.pruners.NopPruner()
        if self._pruner_choice == "default":
            return self.default_pruner(epochs)
        if self._pruner_choice == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
        return self._pruner_choice

    def default_pruner(self, epochs: int) -> Any:
        return _optuna().pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)

    @property
    def storage_url(self) -> str:
        if self.storage:
            return self.storage
        self.directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.directory / f'{self.project_name}.db').resolve()}"

    def _open_study(self, epochs: int) -> Any:
        optuna = _optuna()
        arguments = dict(study_name=self.project_name, storage=self.storage_url, sampler=self.make_sampler(),
                         pruner=self.make_pruner(epochs),
                         direction="maximize" if self.direction == "max" else "minimize")
        if self.overwrite:
            try:
                optuna.delete_study(study_name=self.project_name, storage=self.storage_url)
            except KeyError:
                pass
            self.overwrite = False
        study, created = _create_or_load(optuna, arguments)
        self._prepare_study(study, created)
        return study

    def _prepare_study(self, study: Any, created: bool) -> None:
        """Grid searches enqueue their points here; the others need nothing."""

    @property
    def study(self) -> Any:
        if self._study is None:
            self._study = self._open_study(epochs=1)
        return self._study

    # --------------------------------------------------------------------- search
    def search(self, x: Any = None, y: Any = None, epochs: int = 1, callbacks: list | None = None,
               verbose: int = 0, **fit_arguments: Any) -> "Search":
        """Runs trials until the search has `max_trials` of them (other workers' count too).

        Takes `fit`'s arguments (`validation_data`, `validation_split`, `batch_size`, ...).
        """
        self._check_space()
        self._study = study = self._open_study(epochs)
        self._recover_interrupted(study)
        fit_arguments = dict(fit_arguments, x=x, y=y, epochs=epochs, verbose=verbose)
        while self._budget_left(study):
            trial = study.ask()
            if self._is_surplus(study, trial):
                trial.set_user_attr("ember_surplus", True)
                study.tell(trial, state=_optuna().trial.TrialState.FAIL)
                break
            trial.set_user_attr("ember_worker", _WORKER)
            self._run_and_tell(study, trial, fit_arguments, list(callbacks or []))
        return self

    def _check_space(self) -> None:
        """Runs the build function once with default values, so a bad space fails before any trial."""
        self.hypermodel(HyperParameters())

    def _run_and_tell(self, study: Any, trial: Any, fit_arguments: dict, callbacks: list) -> None:
        optuna = _optuna()
        try:
            value = self._run_trial(trial, fit_arguments, callbacks)
        except TrialPruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        except SearchSpaceError:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        except Exception as error:  # a failing trial is recorded with its traceback; the search goes on
            trial.set_user_attr("ember_traceback", traceback.format_exc())
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            warnings.warn(f"Trial {trial.number} failed ({type(error).__name__}: {error}); its traceback is kept "
                          "in the study. The search goes on.", RuntimeWarning, stacklevel=3)
        else:
            study.tell(trial, value)

    def _run_trial(self, trial: Any, fit_arguments: dict, callbacks: list) -> float:
        from ember.utils import set_random_seed

        values, best_value, best_model = [], None, None
        for execution in range(self.executions_per_trial):
            if self.seed is not None:
                set_random_seed(self.seed * 1000 + trial.number * 10 + execution)
            hp = HyperParameters(trial_source(trial))
            model = self.hypermodel(hp)
            if not getattr(model, "compiled", False):
                raise ValueError("The build function must return a compiled ember model (call model.compile).")
            pruning = PruningCallback(trial, self.objective) if execution == 0 else None
            history = model.fit(callbacks=callbacks + ([pruning] if pruning else []), **fit_arguments)
            if pruning is not None and pruning.pruned:
                raise TrialPruned()
            logged = [v for v in history.history.get(self.objective, []) if np.isfinite(v)]
            if not logged:
                raise ValueError(f"The objective '{self.objective}' was never logged with a finite value.")
            value = max(logged) if self.direction == "max" else min(logged)
            values.append(value)
            if best_value is None or (value > best_value if self.direction == "max" else value < best_value):
                best_value, best_model = value, model
        weights_path = self._weights_path(trial.number)
        best_model.save_weights(weights_path)
        trial.set_user_attr("ember_weights", str(weights_path))
        trial.set_user_attr("ember_input_shape", _jsonable(best_model.input_spec_shape))
        return float(np.mean(values))

    def _weights_path(self, number: int) -> Path:
        folder = self.directory / self.project_name
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"trial_{number:04d}.weights.safetensors"

    # ------------------------------------------------------------------ budget
    def _valid_trials(self, study: Any) -> list:
        return [t for t in study.get_trials(deepcopy=False)
                if not t.user_attrs.get("ember_surplus") and not t.user_attrs.get("ember_interrupted")]

    def _budget_left(self, study: Any) -> bool:
        states = _optuna().trial.TrialState
        started = [t for t in self._valid_trials(study) if t.state != states.WAITING]
        return len(started) < self.max_trials

    def _is_surplus(self, study: Any, trial: Any) -> bool:
        """Whether this new trial is beyond the budget (another worker took the last slot first)."""
        states = _optuna().trial.TrialState
        earlier = [t for t in self._valid_trials(study) if t.number < trial.number and t.state != states.WAITING]
        return len(earlier) >= self.max_trials

    def _recover_interrupted(self, study: Any) -> None:
        """Trials left RUNNING by a process of this machine that died are marked interrupted (and redone)."""
        states = _optuna().trial.TrialState
        host = socket.gethostname()
        for trial in study.get_trials(deepcopy=False, states=(states.RUNNING,)):
            worker = trial.user_attrs.get("ember_worker", "")
            name, _, pid = worker.partition(":")
            if name == host and pid.isdigit() and not _alive(int(pid)):
                study._storage.set_trial_user_attr(trial._trial_id, "ember_interrupted", True)
                study.tell(trial.number, state=states.FAIL)
                self._redo(study, trial)

    def _redo(self, study: Any, trial: Any) -> None:
        """What a strategy does for an interrupted trial (grid search enqueues its point again)."""

    # ----------------------------------------------------------------- results
    def completed_trials(self) -> list:
        states = _optuna().trial.TrialState
        trials = [t for t in self.study.get_trials(deepcopy=False, states=(states.COMPLETE,))]
        return sorted(trials, key=lambda t: t.value, reverse=self.direction == "max")

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The hyperparameters of the best `num_trials` completed trials, best first."""
        best = []
        for trial in self.completed_trials()[:num_trials]:
            hp = HyperParameters(fixed_source(trial.params))
            hp.values = dict(trial.params)
            best.append(hp)
        return best

    def best_hyperparameters(self) -> HyperParameters:
        """The best trial's hyperparameters (`hp.values` is a plain dict)."""
        best = self.get_best_hyperparameters(1)
        if not best:
            raise ValueError("No trial has completed yet: run search() first.")
        return best[0]

    def get_best_models(self, num_models: int = 1) -> list:
        """The best models, rebuilt from their hyperparameters with their trained weights loaded."""
        models = []
        for trial in self.completed_trials()[:num_models]:
            model = self.hypermodel(HyperParameters(fixed_source(trial.params)))
            path = trial.user_attrs.get("ember_weights")
            if not path or not Path(path).exists():
                raise FileNotFoundError(f"The weights of trial {trial.number} are missing ({path}).")
            if not model.built:
                model.build(_shape(trial.user_attrs.get("ember_input_shape")))
            model.load_weights(path)
            models.append(model)
        return models

    best_models = get_best_models

    def results_summary(self, num_trials: int = 10, print_fn: Callable | None = print) -> str:
        """A table of the best trials: number, objective value, state and hyperparameters."""
        from ember.tune.reporting import summary_table

        text = summary_table(self, num_trials)
        if print_fn is not None:
            print_fn(text)
        return text

    def plot(self, directory: str | os.PathLike | None = None) -> list[Path]:
        """Saves `objective.png` (value per trial and best so far) and `importance.png`."""
        from ember.tune.reporting import plot_importance, plot_objective

        folder = Path(directory) if directory is not None else self.directory / self.project_name
        folder.mkdir(parents=True, exist_ok=True)
        return [plot_objective(self, folder / "objective.png"), plot_importance(self, folder / "importance.png")]


def _create_or_load(optuna: Any, arguments: dict, attempts: int = 5) -> tuple[Any, bool]:
    """The study, and whether this call created it. Workers starting together on an empty database
    race to create Optuna's tables; the losers retry."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            return optuna.create_study(load_if_exists=False, **arguments), True
        except optuna.exceptions.DuplicatedStudyError:
            return optuna.load_study(**{k: v for k, v in arguments.items() if k != "direction"}), False
        except SQLAlchemyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 + attempt)
    raise AssertionError("unreachable")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _jsonable(shape: Any) -> Any:
    return list(shape) if isinstance(shape, tuple) else [_jsonable(s) for s in shape] if isinstance(shape, list) \
        else shape


def _shape(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(d, (int, type(None))) for d in value):
        return tuple(value)
    return [_shape(v) for v in value] if isinstance(value, list) else value


class GridSearch(Search):
    """Tries every combination of the space's values (Int steps, Float steps, Choices, Booleans),
    conditional parameters included; `max_trials` caps the number of points tried."""

    uses_grid = True

    def __init__(self, hypermodel: Callable, objective: str = "val_loss", max_trials: int | None = None,
                 **kwargs: Any) -> None:
        self.points = enumerate_grid(hypermodel)
        super().__init__(hypermodel, objective, max_trials=min(max_trials or len(self.points), len(self.points)),
                         pruner=kwargs.pop("pruner", None), **kwargs)

    def make_sampler(self) -> Any:
        return _optuna().samplers.RandomSampler(seed=self.seed)  # only used past the enqueued points

    def _check_space(self) -> None:
        """The grid was enumerated (and checked) when the search was made."""

    def _prepare_study(self, study: Any, created: bool) -> None:
        if created:
            for point in self.points[:self.max_trials]:
                study.enqueue_trial(point, skip_if_exists=False)
            study.set_user_attr("ember_grid_ready", True)
            return
        deadline = time.monotonic() + 60
        while not study.user_attrs.get("ember_grid_ready"):  # another worker is still enqueuing
            if time.monotonic() > deadline:
                raise TimeoutError("The grid of this study was never fully enqueued by the worker that created it.")
            time.sleep(0.5)

    def _redo(self, study: Any, trial: Any) -> None:
        study.enqueue_trial(dict(trial.system_attrs.get("fixed_params", trial.params)), skip_if_exists=False)

    def _is_surplus(self, study: Any, trial: Any) -> bool:
        frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == trial.number)
        return "fixed_params" not in frozen.system_attrs or super()._is_surplus(study, trial)


class RandomSearch(Search):
    """Draws each hyperparameter at random (repeatable under `seed`, distinct across workers)."""

    def make_sampler(self) -> Any:
        from ember.tune.samplers import SeededRandomSampler

        return SeededRandomSampler(self.seed)


class BayesianSearch(Search):
    """Bayesian optimisation: Optuna's TPE (`sampler="tpe"`, the default) or a Gaussian process (`"gp"`)."""

    def __init__(self, hypermodel: Callable, objective: str = "val_loss", sampler: str = "tpe",
                 num_initial_points: int = 5, **kwargs: Any) -> None:
        if sampler not in ("tpe", "gp"):
            raise ValueError(f"BayesianSearch: sampler must be 'tpe' or 'gp'; got {sampler!r}.")
        self.sampler_kind, self.num_initial_points = sampler, num_initial_points
        super().__init__(hypermodel, objective, **kwargs)

    def make_sampler(self) -> Any:
        samplers = _optuna().samplers
        if self.sampler_kind == "gp":
            return samplers.GPSampler(seed=self.seed, n_startup_trials=self.num_initial_points)
        return samplers.TPESampler(seed=self.seed, n_startup_trials=self.num_initial_points, multivariate=True,
                                   constant_liar=True)


class Hyperband(Search):
    """Hyperband: many short trials, the promising ones trained longer (Optuna's HyperbandPruner
    over TPE sampling). `max_epochs` is the longest a trial trains; `factor` the reduction rate."""

    def __init__(self, hypermodel: Callable, objective: str = "val_loss", max_epochs: int = 10, factor: int = 3,
                 max_trials: int = 30, **kwargs: Any) -> None:
        self.max_epochs, self.factor = max_epochs, factor
        super().__init__(hypermodel, objective, max_trials=max_trials, **kwargs)

    def make_sampler(self) -> Any:
        return _optuna().samplers.TPESampler(seed=self.seed, constant_liar=True)

    def default_pruner(self, epochs: int) -> Any:
        return _optuna().pruners.HyperbandPruner(min_resource=1, max_resource=self.max_epochs,
                                                 reduction_factor=self.factor)

    def search(self, x: Any = None, y: Any = None, epochs: int | None = None, **kwargs: Any) -> "Search":
        return super().search(x, y, epochs=epochs or self.max_epochs, **kwargs)
