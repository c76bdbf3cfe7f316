"""Every argument Keras's compile, fit and summary take does what Keras does: weighted_metrics,
run_eagerly, steps_per_execution, auto_scale_loss, validation_steps, summary's columns."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import layers
from tests.conftest import blob_classifier


def test_metrics_ignore_sample_weights_and_weighted_metrics_use_them(blobs):
    x, y = blobs
    model = blob_classifier(weighted_metrics=["accuracy"])
    weights = np.where(y == 0, 3.0, 0.0).astype("float32")  # only class 0 counts when weighted
    results = model.evaluate(x, y, sample_weight=weights, return_dict=True, verbose=0)
    predicted = model.predict(x, verbose=0).argmax(1)
    assert results["accuracy"] == pytest.approx(float(np.mean(predicted == y)), abs=1e-6)
    assert results["weighted_accuracy"] == pytest.approx(float(np.mean(predicted[y == 0] == 0)), abs=1e-6)
    history = model.fit(x, y, class_weight={0: 1.0, 1: 0.0, 2: 0.0}, epochs=1, verbose=0).history
    assert set(history) == {"loss", "accuracy", "weighted_accuracy"}


def test_weighted_metrics_and_the_other_settings_survive_saving(blobs, tmp_path):
    x, y = blobs
    model = blob_classifier(weighted_metrics=["accuracy"], steps_per_execution=4, run_eagerly=True)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.ember")
    loaded = ember.load_model(tmp_path / "m.ember")
    config = loaded.get_compile_config()
    assert (config["weighted_metrics"], config["steps_per_execution"], config["run_eagerly"]) == (["accuracy"], 4, True)
    assert set(loaded.evaluate(x, y, return_dict=True, verbose=0)) == {"loss", "accuracy", "weighted_accuracy"}


def test_run_eagerly_overrides_jit_compile(blobs):
    x, y = blobs
    fast, eager = blob_classifier(), blob_classifier(run_eagerly=True, jit_compile=True)
    for model in (fast, eager):
        ember.utils.set_random_seed(1)
        model.fit(x, y, epochs=1, verbose=0)
    assert fast.make_step().kind == "hand_derived" and eager.make_step().kind == "eager"


def test_steps_per_execution_calls_batch_callbacks_once_per_group(blobs):
    x, y = blobs  # 300 samples: 10 batches of 30
    seen = []
    recorder = ember.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(("begin", batch)),
                                              on_train_batch_end=lambda batch, logs: seen.append(("end", batch)))
    grouped, plain = blob_classifier(steps_per_execution=4), blob_classifier()
    ember.utils.set_random_seed(2)
    grouped_history = grouped.fit(x, y, batch_size=30, epochs=2, verbose=0, callbacks=[recorder]).history
    ember.utils.set_random_seed(2)
    plain_history = plain.fit(x, y, batch_size=30, epochs=2, verbose=0).history
    first_epoch = seen[:len(seen) // 2]
    assert first_epoch == [("begin", 0), ("end", 3), ("begin", 4), ("end", 7), ("begin", 8), ("end", 9)]
    np.testing.assert_allclose(grouped_history["loss"], plain_history["loss"], rtol=1e-6)  # the same training
    assert len(grouped.predict(x, batch_size=30, verbose=0)) == 300


def test_auto_scale_loss_false_trains_float16_without_a_loss_scaler(blobs):
    x, y = blobs
    scaled, unscaled = (blob_classifier(precision="mixed_float16", jit_compile=False, auto_scale_loss=flag)
                        for flag in (True, False))
    for model in (scaled, unscaled):
        model.fit(x, y, epochs=1, verbose=0)
    assert scaled.make_step().scaler is not None and unscaled.make_step().scaler is None


def test_validation_steps_limits_the_validation_batches(blobs):
    x, y = blobs
    model = blob_classifier()
    seen = []
    counter = ember.callbacks.LambdaCallback(on_test_batch_end=lambda batch, logs: seen.append(batch))
    model.fit(x, y, validation_data=(x, y), validation_steps=2, batch_size=30, epochs=1, verbose=0,
              callbacks=[counter])
    assert seen == [0, 1]


@pytest.mark.parametrize("arguments, message", [
    ({"steps_per_execution": 0}, "steps_per_execution must be a positive integer"),
    ({"run_eagerly": "yes"}, "run_eagerly must be True or False"),
    ({"weighted_metrics": ["no_such_metric"]}, "no_such_metric"),
])
def test_bad_compile_arguments_say_what_is_expected(arguments, message):
    with pytest.raises((ValueError, TypeError), match=message):
        blob_classifier(**arguments)


def test_bad_fit_loop_arguments_say_what_is_expected(blobs):
    x, y = blobs
    model = blob_classifier()
    for arguments, message in (({"validation_freq": 0}, "validation_freq must be a positive integer"),
                               ({"batch_size": 0}, "batch_size must be a positive integer"),
                               ({"epochs": 1.5}, "epochs must be an integer")):
        with pytest.raises(ValueError, match=message):
            model.fit(x, y, verbose=0, **arguments)


def test_summary_columns_nested_layers_and_trainable_flags():
    inner = ember.Sequential([layers.Input((4,)), layers.Dense(3, name="inner_dense")], name="inner")
    model = ember.Sequential([layers.Input((4,)), inner, layers.Dense(2, name="head")])
    model.get_layer("head").trainable = False
    lines = []
    model.summary(print_fn=lines.append, expand_nested=True, show_trainable=True)
    text = lines[0]
    assert "Trainable" in text and "  inner_dense (Dense)" in text
    rows = {line.split("│")[1].strip(): line.split("│")[-2].strip() for line in text.splitlines()
            if line.startswith("│ ") and "(" in line.split("│")[1]}
    assert rows["inner (Sequential)"] == "Y" and rows["head (Dense)"] == "N"
    narrow = []
    model.summary(print_fn=narrow.append, line_length=60, positions=[0.5, 0.8, 1.0])
    assert {len(line) for line in narrow[0].splitlines()[1:6]} == {60}
    with pytest.raises(ValueError, match="needs 3 column ends"):
        model.summary(positions=[0.5, 1.0])
