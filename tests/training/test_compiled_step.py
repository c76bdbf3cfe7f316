"""jit_compile: the compiled step gives the eager step's losses and metrics, keeps padding masks,
is compiled once across fit calls, and falls back to eager with a notice when it cannot compile."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.conftest import blob_classifier
from ember import layers
from ember.training.steps import step_kind


def _model(jit_compile):
    return blob_classifier(jit_compile=jit_compile)


def test_auto_records_graphs_on_cuda_only_and_true_false_are_obeyed():
    assert step_kind("auto", torch.device("cuda")) == "graphed"
    assert step_kind("auto", torch.device("cpu")) == "hand_derived"
    assert step_kind(True, torch.device("cpu")) == "compiled" and step_kind(False, torch.device("cuda")) == "eager"


def test_compiled_and_eager_steps_agree_and_compile_once(blobs):
    x, y = blobs
    eager, compiled = _model(False), _model(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fallback notice: it really compiled
        histories = []
        for model in (eager, compiled):
            ember.utils.set_random_seed(1)  # the same shuffling for both
            histories.append(model.fit(x, y, epochs=3, batch_size=64, verbose=0).history)
        np.testing.assert_allclose(eager.evaluate(x, y, verbose=0), compiled.evaluate(x, y, verbose=0), rtol=1e-4)
        np.testing.assert_allclose(eager.predict(x, verbose=0), compiled.predict(x, verbose=0), atol=1e-5)
        step = compiled.make_step()
        compiled.fit(x, y, epochs=1, batch_size=64, verbose=0)
        assert compiled.make_step() is step and step.kind == "compiled"
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-4)
    np.testing.assert_allclose(histories[0]["accuracy"], histories[1]["accuracy"])  # 300 = 4 full + 1 short batch


def test_masks_survive_the_compiled_step():
    ember.utils.set_random_seed(0)
    model = ember.Sequential([layers.Input((5,), dtype="int64"), layers.Embedding(10, 4, mask_zero=True),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=True)
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 0, 0]] * 8)
    y = np.where(x > 0, 1, 0)  # padded steps have label 0: counted, they would lower the accuracy of "all 1"
    model.layers[-1].bias.data = torch.tensor([-5.0, 5.0])  # predicts 1 everywhere
    assert model.evaluate(x, y, verbose=0)[1] == 1.0  # only the valid steps are scored


def test_a_model_that_cannot_be_compiled_runs_eagerly_with_a_notice(blobs, monkeypatch):
    x, y = blobs
    model = _model(True)
    calls = []

    def compiler_failure(function):  # stands for any failure of torch.compile on a model
        def compiled(*args):
            calls.append(function)
            raise RuntimeError("backend compiler failed\nlong traceback ...")
        return compiled

    monkeypatch.setattr(torch, "compile", compiler_failure)
    with pytest.warns(RuntimeWarning, match=r"cannot be compiled \(RuntimeError: backend compiler failed\); it runs "
                                            "eagerly instead"):
        history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and model.make_step().kind == "compiled"
    assert len(calls) == 1  # dropped after the first failure: the other steps ran eagerly


def test_callbacks_that_set_the_learning_rate_or_stop_work_when_compiled(blobs):
    x, y = blobs
    model = _model(True)
    schedule = ember.callbacks.LearningRateScheduler(lambda epoch, rate: 0.01 / (epoch + 1))
    stop = ember.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training",
                                                                                    epoch == 2))
    history = model.fit(x, y, epochs=10, callbacks=[schedule, stop], verbose=0)
    assert len(history.history["loss"]) == 3 and model.optimizer.learning_rate == pytest.approx(0.01 / 3)
