"""A search definition for worker processes (`ember tune tests/tune/search_definition.py`).

Settings come from the environment: EMBER_TUNE_DIR (directory), EMBER_TUNE_STORAGE (database URL),
EMBER_TUNE_TRIALS (max_trials), EMBER_TUNE_KILL_AT (a trial number at which the process kills
itself mid-training), EMBER_TUNE_LOG (a file each build appends its trial's values to),
EMBER_TUNE_SLEEP (seconds each build waits, so that concurrent workers overlap).
"""

import json
import os
import signal
import time

import numpy as np

import ember
from ember import layers, tune

rng = np.random.default_rng(0)
labels = rng.integers(0, 3, 240)
features = (np.eye(3)[labels] * 2 + rng.normal(0, 0.5, (240, 3))).astype("float32")


class KillMidTrial(ember.callbacks.Callback):
    """Kills this process in the middle of trial number `at`, as a crash or an out-of-memory kill would."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if search.study.trials[-1].number == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def build_model(hp):
    units = hp.Int("units", 2, 64, step=2)
    rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
    with open(os.environ["EMBER_TUNE_LOG"], "a") as log:
        log.write(json.dumps({"pid": os.getpid(), "units": units, "learning_rate": rate}) + "\n")
    time.sleep(float(os.environ.get("EMBER_TUNE_SLEEP", "0")))
    model = ember.Sequential([layers.Dense(units, activation="relu", input_shape=(3,)),
                              layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


search = tune.RandomSearch(build_model, objective="val_accuracy", max_trials=int(os.environ["EMBER_TUNE_TRIALS"]),
                           seed=7, directory=os.environ["EMBER_TUNE_DIR"], project_name="workers",
                           storage=os.environ.get("EMBER_TUNE_STORAGE") or None, pruner=None)


def search_arguments():
    kill_at = os.environ.get("EMBER_TUNE_KILL_AT")
    callbacks = [KillMidTrial(int(kill_at))] if kill_at else []
    return dict(x=features, y=labels, epochs=2, validation_split=0.25, callbacks=callbacks)
