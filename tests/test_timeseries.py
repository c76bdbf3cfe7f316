import numpy as np
import pytest

import ember
from ember.data import timeseries_windows


def test_windows_pair_each_start_with_its_target():
    series = np.arange(10, dtype="float32")
    x, y = timeseries_windows(series[:-3], series[3:], sequence_length=3, batch_size=4).arrays()
    assert x.shape == (5, 3, 1)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]])
    np.testing.assert_array_equal(y, [3, 4, 5, 6, 7])  # the value after each window


def test_stride_sampling_rate_and_shuffle():
    data = np.arange(20)
    windows = timeseries_windows(data, None, sequence_length=3, sequence_stride=5, sampling_rate=2, batch_size=None)
    x, _ = windows.arrays()
    np.testing.assert_array_equal(x[:, :, 0], [[0, 2, 4], [5, 7, 9], [10, 12, 14], [15, 17, 19]])
    shuffled = timeseries_windows(data, data, 3, shuffle=True, seed=0, batch_size=None).arrays()[1]
    assert sorted(shuffled) == list(range(18)) and list(shuffled) != list(range(18))


def test_windows_feed_fit_directly():
    series = np.sin(np.arange(300) / 10).astype("float32")
    windows = timeseries_windows(series[:-10], series[10:], sequence_length=10, batch_size=32)
    model = ember.Sequential([ember.layers.Input((10, 1)), ember.layers.SimpleRNN(8), ember.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(windows, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and model.predict(windows, verbose=0).shape == (281, 1)


def test_too_short_series_is_reported():
    with pytest.raises(ValueError, match="too short for one window of 5 steps"):
        timeseries_windows(np.arange(3), None, sequence_length=5)


def test_real_series_load(real_data_dir, monkeypatch):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    dates, values = ember.datasets.timeseries.load("daily-min-temperatures")
    assert len(values) == 3650 and dates[0] == "1981-01-01" and values[0] == pytest.approx(20.7)
    with pytest.raises(ValueError, match="Unknown series"):
        ember.datasets.timeseries.load("stock-prices")
