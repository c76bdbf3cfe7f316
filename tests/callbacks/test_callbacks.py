import csv
import glob
import math
import os

import numpy as np
import pytest

import ember
from ember import callbacks, layers
from tests.conftest import blob_classifier


def model_for(blobs, learning_rate=0.01):
    model = ember.Sequential([layers.Dense(16, activation="relu", input_shape=(4,)),
                              layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_early_stopping_stops_and_restores_best_weights(blobs):
    x, y = blobs
    model = model_for(blobs)
    recorded = []
    watcher = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: recorded.append(model.get_weights()))
    stopper = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[watcher, stopper])
    assert len(history.history["loss"]) == 2
    for restored, best in zip(model.get_weights(), recorded[0]):
        np.testing.assert_array_equal(restored, best)


def test_model_checkpoint_saves_best_only(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "best.ember"
    checkpoint = callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)
    model_for(blobs).fit(x, y, epochs=3, validation_split=0.2, verbose=0, callbacks=[checkpoint])
    assert path.exists() and checkpoint.best > 0.3
    assert ember.load_model(path).predict(x[:2], verbose=0).shape == (2, 3)


def test_model_checkpoint_formats_the_path_per_epoch(blobs, tmp_path):
    x, y = blobs
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}-{loss:.2f}.weights.safetensors"),
                                           save_weights_only=True)
    model_for(blobs).fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert len(glob.glob(str(tmp_path / "w-0*.weights.safetensors"))) == 2


def test_reduce_lr_on_plateau_and_scheduler_change_the_learning_rate(blobs):
    x, y = blobs
    model = model_for(blobs)
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[plateau])
    # the first epoch sets the best value; each later one fails to beat it by min_delta
    assert model.optimizer.learning_rate == pytest.approx(0.01 * 0.5 ** 2)
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005])
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[scheduler])
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    assert model.optimizer.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_csv_logger_writes_a_row_per_epoch(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "log.csv"
    model_for(blobs).fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == 3 and set(rows[0]) == {"epoch", "loss", "accuracy"}


def test_tensorboard_writes_event_files(blobs, tmp_path):
    x, y = blobs
    model_for(blobs).fit(x, y, epochs=2, validation_split=0.2, verbose=0,
                         callbacks=[callbacks.TensorBoard(log_dir=tmp_path)])
    assert glob.glob(str(tmp_path / "train" / "events.out.tfevents.*"))
    assert glob.glob(str(tmp_path / "validation" / "events.out.tfevents.*"))


def test_nan_loss_stops_training_and_keeps_the_best_checkpoint(blobs, tmp_path):
    x, y = blobs
    model = model_for(blobs)
    path = tmp_path / "best.ember"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ModelCheckpoint(path, monitor="loss",
                                                                             save_best_only=True)])
    saved = os.path.getmtime(path), ember.load_model(path).get_weights()
    model.optimizer.learning_rate = 1e30
    bad_x = x * 1e30
    with pytest.warns(RuntimeWarning, match=r"loss became .* at epoch 1, step \d+; training stopped"):
        history = model.fit(bad_x, y, epochs=5, verbose=0,
                            callbacks=[callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True)])
    assert len(history.history["loss"]) == 1 and not math.isfinite(history.history["loss"][0])
    assert model.stop_training and model.stopped_on_nonfinite_loss
    for kept, before in zip(ember.load_model(path).get_weights(), saved[1]):
        np.testing.assert_array_equal(kept, before)


def test_history_plot_writes_png(blobs, tmp_path):
    x, y = blobs
    history = model_for(blobs).fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(ValueError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_finish=print)


@pytest.mark.parametrize("steps_per_execution", [1, 2])
def test_model_checkpoint_saves_every_n_batches_across_epochs(blobs, tmp_path, steps_per_execution):
    x, y = blobs  # 300 samples, batch 60: 5 batches per epoch, 10 in two epochs
    model = blob_classifier(steps_per_execution=steps_per_execution)
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}-{loss:.3f}.weights.safetensors"), save_freq=4)
    model.fit(x, y, batch_size=60, epochs=2, verbose=0, callbacks=[checkpoint])
    saved = sorted(os.listdir(tmp_path))
    assert [name.split("-")[0] for name in saved] == ["e1", "e2"]  # after batches 4 and 8 (10 is not due)
    model.load_weights(tmp_path / saved[-1])
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive number of batches"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.ember"), save_freq="batch")
