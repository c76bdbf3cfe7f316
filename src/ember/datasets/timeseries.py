"""Real time series (CSV with a header row: date, value) from the Time Series Data Library."""

from __future__ import annotations

import csv

import numpy as np

from ember.datasets._files import locate

BASE_URL = "https://raw.githubusercontent.com/jbrownlee/Datasets/master/"
SERIES = {
    "airline-passengers": "8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
    "daily-min-temperatures": "8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da",
    "daily-max-temperatures": "4f4ab4d6134d9c0f8efb3d6af6edc30a0ad3c56573d0f20f45db010055d0371c",
    "monthly-sunspots": "c4ec8cc57d9f6fb6ecdb3e1f37f25b6f4badd5124c55931052b0cd2fc3bc71f3",
    "daily-total-female-births": "7a0c1bdb32d68f7fa359e561a4f7e1fe8fb2fc26a1ea624a434a97a63735dd72",
}


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """`(dates, values)`: date strings and float32 values of a named series, in time order.

    Names: airline-passengers (monthly, 1949-1960), daily-min-temperatures and daily-max-temperatures
    (Melbourne, 1981-1990), monthly-sunspots (1749-1983), daily-total-female-births (California, 1959).
    """
    if name not in SERIES:
        raise ValueError(f"Unknown series {name!r}; choose one of {sorted(SERIES)}.")
    path = locate("timeseries", f"{name}.csv", [f"{BASE_URL}{name}.csv"], SERIES[name])
    with open(path, newline="") as file:
        rows = [row for row in csv.reader(file) if row][1:]
    dates = np.array([row[0].strip('"') for row in rows])
    values = np.array([float(row[1].strip('"?')) for row in rows], dtype=np.float32)
    return dates, values
