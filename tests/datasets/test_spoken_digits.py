"""The Free Spoken Digit Dataset from the shared archive: both splits, and the archive-independent
digest that checks a download of the upstream release."""

import numpy as np

from ember.datasets import spoken_digits


def test_official_and_speaker_splits(real_data_dir, monkeypatch):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    (x_train, y_train, s_train), (x_test, y_test, s_test) = spoken_digits.load_data(return_speakers=True)
    assert x_train.shape == (2700, 8000) and x_test.shape == (300, 8000) and x_train.dtype == np.float32
    assert np.bincount(y_test).tolist() == [30] * 10 and set(s_test) == set(spoken_digits.SPEAKERS)
    assert 0.1 < np.abs(x_train).max() <= 1.0
    (x_train, _, s_train), (x_test, _, s_test) = spoken_digits.load_data("speaker", test_speaker="lucas",
                                                                         sequence_length=None, return_speakers=True)
    assert len(x_train) == 2500 and len(x_test) == 500 and set(s_test) == {"lucas"} and "lucas" not in set(s_train)
    assert len({len(clip) for clip in x_test}) > 10  # own lengths kept


def test_the_recordings_digest_ignores_the_archive_but_not_the_files():
    files = {"0_a_0.wav": b"one", "1_a_0.wav": b"two"}
    assert spoken_digits.recordings_digest(files) == spoken_digits.recordings_digest(dict(reversed(files.items())))
    assert spoken_digits.recordings_digest(files) != spoken_digits.recordings_digest({**files, "1_a_0.wav": b"tw0"})
