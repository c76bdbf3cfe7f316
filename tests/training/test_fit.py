import numpy as np
import pandas as pd
import pytest
import torch

import ember
from ember import layers


def small_model(units=3, activation="softmax"):
    model = ember.Sequential([layers.Dense(16, activation="relu", input_shape=(4,)),
                              layers.Dense(units, activation=activation)])
    model.compile(ember.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_returns_history_with_validation_split_from_the_end(blobs):
    x, y = blobs
    model = small_model()
    history = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 3 and history.epoch == [0, 1, 2]
    val = model.evaluate(x[240:], y[240:], verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)


def test_fit_counts_every_sample_including_the_last_partial_batch(blobs):
    x, y = blobs
    model = small_model()
    seen = []
    counter = ember.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    model.fit(x[:70], y[:70], batch_size=32, epochs=1, verbose=0, callbacks=[counter])
    assert seen == [0, 1, 2]
    assert sum(model.metrics[0].batch_sizes) == 70


def test_same_seed_gives_same_losses(blobs):
    x, y = blobs
    runs = []
    for _ in range(2):
        ember.utils.set_random_seed(3)
        runs.append(small_model().fit(x, y, epochs=2, verbose=0).history["loss"])
    assert runs[0] == runs[1]


def test_validation_data_sample_weight_and_class_weight(blobs):
    x, y = blobs
    model = small_model()
    history = model.fit(x, y, validation_data=(x[:50], y[:50]), sample_weight=np.ones(len(y)),
                        class_weight={0: 1.0, 1: 2.0, 2: 1.0}, epochs=2, verbose=0)
    assert "val_accuracy" in history.history


def test_zero_sample_weights_mean_no_loss(blobs):
    x, y = blobs
    model = small_model()
    result = model.evaluate(x, y, sample_weight=np.zeros(len(y)), verbose=0, return_dict=True)
    assert result["loss"] == 0.0


def test_initial_epoch_and_steps_per_epoch(blobs):
    x, y = blobs
    history = small_model().fit(x, y, epochs=4, initial_epoch=2, steps_per_epoch=2, verbose=0)
    assert history.epoch == [2, 3]


def test_inputs_from_torch_pandas_and_lists(blobs):
    x, y = blobs
    model = small_model()
    model.fit(torch.from_numpy(x), torch.from_numpy(y), epochs=1, verbose=0)
    model.fit(pd.DataFrame(x), pd.Series(y), epochs=1, verbose=0)
    model.fit(x.tolist(), y.tolist(), epochs=1, verbose=0)


def test_dataloader_and_generator_inputs(blobs):
    x, y = blobs
    model = small_model()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         batch_size=32, shuffle=True)
    history = model.fit(loader, epochs=2, verbose=0, validation_data=loader)
    assert len(history.history["val_loss"]) == 2

    def generator():
        while True:
            for start in range(0, 300, 50):
                yield x[start:start + 50], y[start:start + 50]

    history = model.fit(generator(), steps_per_epoch=6, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(loader, verbose=0).shape == (300, 3)


def test_on_batch_methods(blobs):
    x, y = blobs
    model = small_model()
    loss, accuracy = model.train_on_batch(x[:32], y[:32])
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    assert set(model.test_on_batch(x[:32], y[:32], return_dict=True)) == {"loss", "accuracy"}
    assert model.predict_on_batch(x[:8]).shape == (8, 3)


def test_evaluate_returns_scalar_without_metrics(blobs):
    x, y = blobs
    model = ember.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse")
    assert isinstance(model.evaluate(x, y.astype("float32"), verbose=0), float)


def test_regression_targets_of_shape_n_fit_outputs_of_shape_n_1():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5], dtype="float32") + 0.3
    model = ember.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(ember.optimizers.SGD(0.1), "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 1e-3
    np.testing.assert_allclose(model.layers[0].get_weights()[0].ravel(), [1.0, -2.0, 0.5], atol=0.02)


def test_regularization_loss_is_part_of_the_reported_loss(blobs):
    x, y = blobs
    plain = ember.Sequential([layers.Dense(3, input_shape=(4,), kernel_initializer="ones")])
    penalized = ember.Sequential([layers.Dense(3, input_shape=(4,), kernel_initializer="ones",
                                               kernel_regularizer=ember.regularizers.L2(0.1))])
    for model in (plain, penalized):
        model.compile("sgd", ember.losses.SparseCategoricalCrossentropy(from_logits=True))
    difference = penalized.evaluate(x, y, verbose=0) - plain.evaluate(x, y, verbose=0)
    assert difference == pytest.approx(0.1 * 12, rel=1e-4)


def test_progress_bar_verbose_two_prints_one_line_per_epoch(blobs, capsys):
    x, y = blobs
    small_model().fit(x, y, epochs=2, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 2 and "loss:" in lines[0] and "accuracy:" in lines[0]


def test_progress_bar_verbose_one_shows_steps(blobs, capsys):
    x, y = blobs
    small_model().fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "10/10" in out


class _BatchSequence:
    """A Keras-style Sequence whose __getitem__ never raises IndexError (slices past the end are empty)."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.reads, self.epochs_ended = [], 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        self.reads.append(index)
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_a_batch_sequence_is_read_exactly_len_batches_per_epoch(blobs):
    x, y = blobs
    sequence = _BatchSequence(x, y, 64)  # 300 samples: 5 batches
    model = small_model()
    history = model.fit(sequence, epochs=2, verbose=0, validation_data=_BatchSequence(x[:100], y[:100], 50))
    # [0]: shapes are learnt; then each epoch reads every batch once, in a shuffled order (as Keras)
    assert sequence.reads[0] == 0 and sorted(sequence.reads[1:6]) == sorted(sequence.reads[6:]) == [0, 1, 2, 3, 4]
    assert sequence.epochs_ended == 2
    assert len(history.history["val_loss"]) == 2
    assert model.predict(_BatchSequence(x, y, 64), verbose=0).shape == (300, 3)


def test_a_torch_dataset_of_single_samples_is_refused_with_the_fix(blobs):
    x, y = blobs
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    with pytest.raises(TypeError, match="DataLoader\\(dataset, batch_size=32"):
        small_model().fit(dataset, verbose=0)


def test_a_model_without_trainable_weights_fits_evaluates_and_counts_its_steps():
    x = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    weightless = ember.Sequential([layers.Input((3,)), layers.Activation("relu")])
    weightless.compile("adam", "mse", metrics=["mae"])
    history = weightless.fit(x, np.maximum(x, 0), epochs=2, batch_size=10, verbose=0).history
    assert history["loss"] == [0.0, 0.0] and weightless.optimizer.iterations == 4
    frozen = ember.Sequential([layers.Input((3,)), layers.Dense(2)])
    frozen.trainable = False
    frozen.compile("adam", "mse", jit_compile=False)
    before = frozen.get_weights()
    frozen.fit(x, np.zeros((20, 2), "float32"), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, frozen.get_weights()))


def test_calling_a_model_or_layer_on_numpy_arrays_gives_tensors():
    model = ember.Sequential([layers.Input((3,)), layers.Dense(2)])
    x = np.random.default_rng(0).random((4, 3))  # float64, as NumPy makes it
    output = model(x)
    assert isinstance(output, torch.Tensor) and output.dtype == torch.float32
    torch.testing.assert_close(output, model(torch.as_tensor(x, dtype=torch.float32)))
    tokens = ember.Sequential([layers.Input((5,), dtype="int64"), layers.Embedding(10, 2)])
    assert tokens(np.arange(5)[None]).shape == (1, 5, 2)
    assert layers.Dense(2)(np.ones((1, 3), "uint8")).dtype == torch.float32
