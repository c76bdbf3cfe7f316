"""Forecasting tomorrow's minimum temperature in Melbourne (1981-1990) from the days before.

Two models, each compared with the naive forecast "tomorrow = today" on the last 20% of the series:
- the tutorials' sequence regressor: SimpleRNN(64, relu) on 10-day windows -> Dense(32) -> Dense(1);
- an LSTM forecaster on 30-day windows.
Saves `temperature_forecast.png` (forecast against actual over the test period).

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/temperature_forecast.py
"""

from __future__ import annotations

import numpy as np

import ember
from ember import layers
from ember.data import timeseries_windows


def windows(series: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(windows of `length` days, the next day's value) for every position."""
    return timeseries_windows(series[:-length], series[length:], sequence_length=length, batch_size=None).arrays()


def main(epochs: int = 20, plot_path: str | None = "temperature_forecast.png", verbose: int = 0) -> dict[str, float]:
    ember.utils.set_random_seed(0)
    dates, values = ember.datasets.timeseries.load("daily-min-temperatures")
    split = int(len(values) * 0.8)
    mean, std = values[:split].mean(), values[:split].std()
    scaled = (values - mean) / std

    results, forecasts = {}, {}
    for name, length, recurrent in (("simple_rnn", 10, lambda: layers.SimpleRNN(64, activation="relu")),
                                    ("lstm", 30, lambda: layers.LSTM(32))):
        x_train, y_train = windows(scaled[:split], length)
        x_test, y_test = windows(scaled[split - length:], length)
        model = ember.Sequential([layers.Input((length, 1)), recurrent(), layers.Dense(32, activation="relu"),
                                  layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=verbose,
                  callbacks=[ember.callbacks.EarlyStopping(patience=4, restore_best_weights=True)])
        predicted = model.predict(x_test, verbose=0)[:, 0] * std + mean
        actual = y_test * std + mean
        naive = x_test[:, -1, 0] * std + mean
        results[name] = float(np.sqrt(np.mean((predicted - actual) ** 2)))
        results[f"{name}_naive"] = float(np.sqrt(np.mean((naive - actual) ** 2)))
        forecasts[name] = (predicted, actual)
        print(f"{name}: test RMSE {results[name]:.3f} °C against {results[f'{name}_naive']:.3f} °C for "
              f"'tomorrow = today'")
    if plot_path:
        _plot(dates[split:], forecasts, plot_path)
    return results


def _plot(dates: np.ndarray, forecasts: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(10, 4))
    predicted, actual = forecasts["lstm"]
    days = np.arange(len(actual))
    axis.plot(days, actual, label="actual", linewidth=1)
    axis.plot(days, predicted, label="LSTM forecast", linewidth=1)
    axis.set_xlabel(f"days from {dates[0]}")
    axis.set_ylabel("minimum temperature (°C)")
    axis.set_title("Melbourne daily minimum temperature: one-day-ahead forecast on the test period")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
