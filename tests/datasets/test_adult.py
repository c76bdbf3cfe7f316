"""UCI Adult from the shared files: the canonical row counts, encoded features, labels, sensitive attributes."""

import numpy as np

import ember


def test_real_adult_loads_with_sensitive_attributes(real_data_dir, monkeypatch):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    (x_train, y_train, s_train), (x_test, y_test, s_test) = ember.datasets.adult.load_data()
    assert x_train.shape[0] == 32561 and x_test.shape[0] == 16281
    assert x_train.shape[1] == x_test.shape[1] == len(ember.datasets.adult.feature_names())
    assert x_train.dtype == np.float32 and set(np.unique(y_test)) == {0, 1}
    assert abs(y_train.mean() - 7841 / 32561) < 1e-9  # the documented 24% earning >50K
    assert set(s_train["sex"]) == {"Female", "Male"} and len(s_test["race"]) == 16281
