"""Denormal floats are flushed to zero on every CPU thread while ember computes, and only then."""

import numpy as np
import pytest
import torch

import ember
from ember import config, layers
from ember.callbacks import Callback
from ember.training import denormals


def _flushed_elements() -> float:
    """The fraction of a large denormal array that an op (split over torch's threads) flushes to zero."""
    # made from integer bits: converting 1e-39 to float32 would itself be flushed on a flushing thread
    tiny = torch.full((4_000_000,), 1 << 20, dtype=torch.int32).view(torch.float32)  # 2**-129 each
    return float(((tiny * 1.0001) == 0).float().mean())


class RecordFlushing(Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(_flushed_elements())

    def on_test_batch_end(self, batch, logs=None):
        self.seen.append(_flushed_elements())

    def on_predict_batch_end(self, batch, logs=None):
        self.seen.append(_flushed_elements())


def _model():
    model = ember.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.fixture
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    config.set_thread_tuning(False)  # a change of thread count makes new pool threads, which inherit the flag
    yield
    torch.set_num_threads(threads)
    config.set_flush_denormals(True)
    config.set_thread_tuning(True)


def test_fit_evaluate_predict_flush_denormals_on_all_threads_and_restore(two_threads):
    config.set_device("cpu")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 2), "float32")
    model, record = _model(), RecordFlushing()
    assert _flushed_elements() == 0.0
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[record], validation_data=(x, y))
    model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[record])
    model.predict(x, batch_size=4, verbose=0, callbacks=[record])
    assert len(record.seen) == 2 + 2 + 2 + 2 and set(record.seen) == {1.0}
    assert _flushed_elements() == 0.0  # PyTorch's default is back for code outside ember
    config.set_device(None)


def test_flush_can_be_switched_off(two_threads):
    config.set_device("cpu")
    config.set_flush_denormals(False)
    record = RecordFlushing()
    _model().fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0, callbacks=[record])
    assert record.seen == [0.0]
    config.set_device(None)


def test_a_user_who_flushes_already_keeps_flushing(two_threads):
    denormals.set_flush(True)
    try:
        with denormals.flushed():
            assert _flushed_elements() == 1.0
        assert _flushed_elements() == 1.0
    finally:
        denormals.set_flush(False)


def test_the_openmp_runtime_reached_is_torchs_own_not_another_packages():
    import os

    import sklearn.metrics  # noqa: F401  (scikit-learn's wheels load a second libgomp)

    torch_folder = os.path.dirname(torch.__file__)
    bundled = [name for name in os.listdir(os.path.join(torch_folder, "lib")) if name.startswith("libgomp")]
    if not bundled:
        pytest.skip("this torch build does not bundle libgomp")
    assert denormals._loaded_libgomp().startswith(torch_folder)
