import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import layers, tune
from ember.tune.hyperparameters import HyperParameters, SearchSpaceError, enumerate_grid

DEFINITION = Path(__file__).with_name("search_definition.py")


@pytest.fixture
def data(blobs):
    x, y = blobs
    return x[:, :3].copy(), y


def build_small(hp):
    model = ember.Sequential([layers.Dense(hp.Choice("units", [4, 8]), activation="relu", input_shape=(3,))])
    if hp.Boolean("extra"):
        model.add(layers.Dense(hp.Choice("extra_units", [2, 6]), activation="relu"))
    model.add(layers.Dense(3, activation="softmax"))
    model.compile(ember.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("declare, message", [
    (lambda hp: hp.Int("units", 64, 32), "min_value 64 is above max_value 32"),
    (lambda hp: hp.Int("units", 32, 100, step=32), "step 32 does not divide the range 32..100"),
    (lambda hp: hp.Float("rate", 0.0, 0.5, step=0.2), "step 0.2 does not divide"),
    (lambda hp: hp.Choice("activation", []), "the list of values is empty"),
    (lambda hp: hp.Float("lr", 0.0, 1.0, sampling="log"), "log sampling needs min_value > 0"),
    (lambda hp: (hp.Int("units", 1, 4), hp.Int("units", 1, 8)), "declared twice with different settings"),
])
def test_bad_search_spaces_are_rejected_before_any_trial(declare, message, tmp_path):
    def build(hp):
        declare(hp)
        raise AssertionError("never reached: the space is rejected first")

    with pytest.raises(SearchSpaceError, match=message):
        tune.RandomSearch(build, max_trials=2, directory=tmp_path).search(np.zeros((4, 3)), np.zeros(4))


def build_grid(hp):
    model = ember.Sequential([layers.Dense(hp.Choice("units", [4, 8]), activation="relu", input_shape=(3,))])
    if hp.Boolean("extra"):
        model.add(layers.Dense(hp.Choice("extra_units", [2, 6]), activation="relu"))
    model.add(layers.Dense(3, activation="softmax"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_grid_search_covers_exactly_the_grid_with_conditional_parameters(data, tmp_path):
    x, y = data
    search = tune.GridSearch(build_grid, objective="val_accuracy", directory=tmp_path)
    expected = [{"units": u, "extra": False} for u in (4, 8)] + \
        [{"units": u, "extra": True, "extra_units": e} for u in (4, 8) for e in (2, 6)]
    assert sorted(search.points, key=json.dumps) == sorted(expected, key=json.dumps)
    search.search(x, y, epochs=1, validation_split=0.2)
    tried = [t.params for t in search.study.trials if t.state.name == "COMPLETE"]
    assert sorted(tried, key=json.dumps) == sorted(expected, key=json.dumps)
    assert len(search.study.trials) == 6


def test_enumerate_grid_needs_steps_for_floats():
    with pytest.raises(SearchSpaceError, match="has no step"):
        enumerate_grid(lambda hp: hp.Float("lr", 0.1, 0.5))
    assert enumerate_grid(lambda hp: hp.Float("lr", 0.1, 0.5, step=0.2)) == [{"lr": 0.1}, {"lr": 0.3}, {"lr": 0.5}]


@pytest.mark.parametrize("strategy", [tune.RandomSearch, tune.BayesianSearch])
def test_random_and_bayesian_search_repeat_under_a_seed(strategy, data, tmp_path):
    x, y = data
    runs = []
    for run in range(2):
        search = strategy(build_small, objective="val_accuracy", max_trials=6, seed=3, directory=tmp_path,
                          project_name=f"run{run}")
        search.search(x, y, epochs=1, validation_split=0.2)
        runs.append([(t.params, t.value) for t in search.study.trials])
    assert runs[0] == runs[1] and len(runs[0]) == 6


def test_best_models_carry_trained_weights_and_summary_and_plots(data, tmp_path):
    x, y = data
    search = tune.RandomSearch(build_small, objective="val_accuracy", max_trials=3, seed=0, directory=tmp_path)
    search.search(x[:200], y[:200], epochs=1, validation_data=(x[200:], y[200:]))
    best_value = search.completed_trials()[0].value
    best = search.get_best_models(1)[0]
    assert best.evaluate(x[200:], y[200:], verbose=0, return_dict=True)["accuracy"] == pytest.approx(best_value)
    assert set(search.best_hyperparameters().values) >= {"units", "extra", "learning_rate"}
    text = search.results_summary(print_fn=None)
    assert "val_accuracy (max)" in text and "3 complete" in text
    for path in search.plot():
        assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_failing_build_is_recorded_and_the_search_goes_on(data, tmp_path):
    x, y = data

    def build(hp):
        if hp.Int("depth", 1, 4) == 3:
            raise RuntimeError("no model of depth 3")
        return build_grid(HyperParameters())  # a fixed model: the grid is depth 1..4

    search = tune.GridSearch(build, objective="val_accuracy", directory=tmp_path)
    with pytest.warns(RuntimeWarning, match="failed .RuntimeError: no model of depth 3"):
        search.search(x, y, epochs=1, validation_split=0.2)
    trials = search.study.trials
    assert [t.state.name for t in trials].count("COMPLETE") == 3 and len(trials) == 4
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(failed) == 1 and failed[0].params["depth"] == 3
    assert "no model of depth 3" in failed[0].user_attrs["ember_traceback"]


def test_hyperband_prunes_unpromising_trials(data, tmp_path):
    x, y = data
    search = tune.Hyperband(build_small, objective="val_accuracy", max_epochs=9, max_trials=12, seed=0,
                            directory=tmp_path)
    search.search(x, y, validation_split=0.2)
    states = [t.state.name for t in search.study.trials]
    assert states.count("PRUNED") >= 1 and states.count("COMPLETE") >= 1 and len(states) == 12


def test_pruning_callback_stops_training(data):
    x, y = data

    class AlwaysPrune:
        def report(self, value, step):
            self.reported = (value, step)

        def should_prune(self):
            return True

    model = build_small(HyperParameters())
    callback = tune.PruningCallback(AlwaysPrune(), "val_accuracy")
    history = model.fit(x, y, epochs=5, validation_split=0.2, verbose=0, callbacks=[callback])
    assert callback.pruned and len(history.history["loss"]) == 1


def run_worker(tmp_path, trials, **extra_env):
    env = dict(os.environ, EMBER_TUNE_DIR=str(tmp_path), EMBER_TUNE_TRIALS=str(trials),
               EMBER_TUNE_LOG=str(tmp_path / "builds.jsonl"), **extra_env)
    return subprocess.Popen([sys.executable, "-m", "ember.cli", "tune", str(DEFINITION)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_search_resumes_from_its_sqlite_file(tmp_path):
    import optuna

    killed = run_worker(tmp_path, 5, EMBER_TUNE_KILL_AT="2")
    killed.communicate(timeout=300)
    assert killed.returncode != 0  # it died in the middle of trial 2
    storage = f"sqlite:///{tmp_path / 'workers.db'}"
    trials = optuna.load_study(study_name="workers", storage=storage).trials
    before = {t.number: (t.state.name, t.value) for t in trials}
    assert before[0][0] == before[1][0] == "COMPLETE" and before[2][0] == "RUNNING"

    resumed = run_worker(tmp_path, 5)
    output, errors = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, errors
    trials = optuna.load_study(study_name="workers", storage=storage).trials
    after = {t.number: (t.state.name, t.value) for t in trials}
    assert after[0] == before[0] and after[1] == before[1]  # finished trials kept as they were
    assert after[2][0] == "FAIL" and trials[2].user_attrs.get("ember_interrupted")
    assert sum(state == "COMPLETE" for state, _ in after.values()) == 5
    builds = [json.loads(line) for line in open(tmp_path / "builds.jsonl")]
    first_pid = builds[0]["pid"]
    # each run first builds once with default values (the space check); the resumed run then
    # trains only the 3 missing trials: finished trials are not rerun
    assert sum(b["pid"] == first_pid for b in builds) == 1 + 3
    assert sum(b["pid"] != first_pid for b in builds) == 1 + 3


def test_two_workers_share_one_postgresql_search(tmp_path):
    url = os.environ.get("EMBER_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("EMBER_TEST_POSTGRES_URL is not set; .ci/run starts PostgreSQL and sets it.")
        pytest.skip("no PostgreSQL server (set EMBER_TEST_POSTGRES_URL)")
    import optuna

    workers = [run_worker(tmp_path, 8, EMBER_TUNE_STORAGE=url, EMBER_TUNE_SLEEP="0.5") for _ in range(2)]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors
    study = optuna.load_study(study_name="workers", storage=url)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 8  # none lost
    assert len({t.number for t in complete}) == 8
    assert len({json.dumps(t.params, sort_keys=True) for t in complete}) == 8  # none done twice
    assert len({t.user_attrs["ember_worker"] for t in complete}) == 2  # the work was split
    optuna.delete_study(study_name="workers", storage=url)


def test_gaussian_process_search_with_several_executions_per_trial(data, tmp_path):
    x, y = data
    search = tune.BayesianSearch(build_small, objective="val_loss", sampler="gp", num_initial_points=2,
                                 max_trials=3, executions_per_trial=2, seed=0, directory=tmp_path)
    search.search(x, y, epochs=1, validation_split=0.2)
    assert search.direction == "min" and len(search.completed_trials()) == 3
