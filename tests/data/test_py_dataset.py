"""utils.PyDataset: len() batches an epoch, shuffled batch order, epoch hooks, parallel loading by
threads and processes (in order, bounded queue), errors raised in the training process."""

import os
import threading
import time

import numpy as np
import pytest

import ember
from ember import layers
from ember.data.py_dataset import batches_in_order


class Batches(ember.utils.PyDataset):
    """Batch i holds the rows i*8 .. i*8+7 of a fixed regression set; records who asked for what."""

    def __init__(self, count=6, delay=0.0, **kwargs):
        super().__init__(**kwargs)
        rng = np.random.default_rng(0)
        self.x = rng.random((count * 8, 3)).astype("float32")
        self.y = self.x.sum(1, keepdims=True)
        self.count, self.delay = count, delay
        self.requested, self.events = [], []
        self.lock = threading.Lock()
        self.running = self.most_running = 0

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        with self.lock:
            self.requested.append(index)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        time.sleep(self.delay)
        with self.lock:
            self.running -= 1
        rows = slice(index * 8, index * 8 + 8)
        return self.x[rows], self.y[rows]

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")


def _model():
    model = ember.Sequential([ember.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_fit_reads_every_batch_once_per_epoch_in_a_new_order():
    data = Batches()
    _model().fit(data, epochs=3, verbose=0)
    assert data.requested[0] == 0   # fit looks at batch 0 once, for the shapes, before the epochs
    epochs = [data.requested[1 + i * 6:1 + (i + 1) * 6] for i in range(3)]
    assert data.events == ["begin", "end"] * 3
    assert all(sorted(epoch) == list(range(6)) for epoch in epochs[:3])
    assert len({tuple(epoch) for epoch in epochs}) > 1   # shuffled, as Keras's fit does


def test_no_shuffle_keeps_the_index_order_and_evaluate_reads_in_order():
    data = Batches()
    model = _model()
    model.fit(data, epochs=1, shuffle=False, verbose=0)
    model.evaluate(data, verbose=0)
    assert data.requested == ([0] + list(range(6))) * 2   # a look at batch 0 for the shapes, then the epoch


def test_threads_load_batches_at_the_same_time_and_in_order():
    data = Batches(count=12, delay=0.05, workers=4, max_queue_size=6)
    started = time.perf_counter()
    batches = list(batches_in_order(data, range(12)))
    elapsed = time.perf_counter() - started
    assert data.most_running > 1 and elapsed < 12 * 0.05
    for index, (x, _) in enumerate(batches):
        np.testing.assert_array_equal(x, data.x[index * 8:index * 8 + 8])


def test_the_queue_is_bounded_and_stopping_early_leaves_nothing_running():
    data = Batches(count=40, delay=0.01, workers=2, max_queue_size=3)
    threads_before = threading.active_count()
    iterator = batches_in_order(data, range(40))
    next(iterator)
    time.sleep(0.1)
    assert len(data.requested) <= 1 + 3  # the consumed batch plus the queue
    iterator.close()
    assert threading.active_count() == threads_before


class ProcessBatches(ember.utils.PyDataset):
    def __len__(self):
        return 5

    def __getitem__(self, index):
        x = np.full((4, 3), index, dtype="float32")
        return x, np.full((4, 1), os.getpid(), dtype="float32")


def test_processes_load_batches_in_order_in_other_processes():
    data = ProcessBatches(workers=2, use_multiprocessing=True)
    batches = list(batches_in_order(data, range(5)))
    assert [int(x[0, 0]) for x, _ in batches] == list(range(5))
    assert all(int(y[0, 0]) != os.getpid() for _, y in batches)
    model = _model()
    history = model.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


class Failing(ember.utils.PyDataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 2:
            raise KeyError("sample 17 is missing")
        return np.zeros((2, 3), "float32"), np.zeros((2, 1), "float32")


@pytest.mark.parametrize("processes", [False, True])
def test_an_error_in_a_worker_reaches_the_training_process(processes):
    with pytest.raises(KeyError, match="sample 17 is missing"):
        _model().fit(Failing(workers=2, use_multiprocessing=processes), epochs=1, shuffle=False, verbose=0)


class Endless(ember.utils.PyDataset):
    def __getitem__(self, index):
        return np.full((2, 3), index, "float32"), np.zeros((2, 1), "float32")


def test_an_endless_dataset_needs_steps_per_epoch():
    assert Endless().num_batches is None
    history = _model().fit(Endless(), epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="steps_per_epoch"):
        _model().fit(Endless(), epochs=1, verbose=0)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        Batches(workers=0)
    assert ember.utils.Sequence is ember.utils.PyDataset
