"""Omniglot from the shared archives: the small background splits, rotations as new classes,
and Lake et al.'s 20 one-shot runs."""

import numpy as np
import pytest

from ember.datasets import omniglot


def test_small_background_splits_and_rotations(real_data_dir, monkeypatch):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    x, y, names = omniglot.load_data("background_small1")
    assert x.shape == (2720, 28, 28, 1) and x.dtype == np.float32 and len(names) == 136
    assert np.bincount(y).tolist() == [20] * 136 and names[0] == "Balinese/character01"
    assert 0.03 < x.mean() < 0.2 and x.max() <= 1.0  # ink is 1 and covers a small part
    turned, labels, turned_names = omniglot.with_rotations(x[:40], y[:40], names[:2])
    assert turned.shape == (160, 28, 28, 1) and sorted(set(labels.tolist())) == list(range(8))
    np.testing.assert_array_equal(turned[40], np.rot90(x[0], 1, axes=(0, 1)))
    assert turned_names[2] == "Balinese/character01@90"
    with pytest.raises(ValueError, match="split must be one of"):
        omniglot.load_data("test")


def test_the_twenty_one_shot_runs(real_data_dir, monkeypatch):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    runs = omniglot.one_shot_runs()
    assert len(runs) == 20 and runs[0]["support"].shape == (20, 28, 28, 1) and runs[0]["queries"].shape == (20, 28, 28, 1)
    assert runs[0]["query_labels"][:3].tolist() == [7, 8, 1]  # run01: item01 -> class08, item02 -> class09, ...
    assert all(sorted(run["query_labels"].tolist()) == list(range(20)) for run in runs)
