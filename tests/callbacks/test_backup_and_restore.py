"""BackupAndRestore: a run killed mid-epoch (SIGKILL) and started again ends with the weights and
History of an uninterrupted run; with two data-parallel processes the same, and the surviving
rank stops with an error soon after its peer dies instead of hanging."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from tests.distribution import workers

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(path):
    with np.load(path, allow_pickle=False) as arrays:
        return dict(arrays)


def _assert_reports_equal(got, expected, atol=0.0):
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=0, atol=atol, err_msg=key)


def test_a_killed_run_resumes_mid_epoch_and_ends_like_an_uninterrupted_one(tmp_path):
    command = [sys.executable, "-c", "import sys; from tests.distribution import workers; "
               f"workers.backup_worker({str(tmp_path)!r}, kill_at=10)"]
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == -9, first.stderr[-2000:]
    assert os.path.exists(tmp_path / "backup" / "backup.ember") and not os.path.exists(tmp_path / "report.npz")
    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr[-2000:]
    assert not os.path.exists(tmp_path / "backup")  # deleted once fit ended normally
    reference = workers.train_with_backup(str(tmp_path / "reference"), None, dropout=0.3)
    _assert_reports_equal(_load(tmp_path / "report.npz"), reference, atol=1e-6)


def test_epoch_backups_resume_at_the_next_epoch(tmp_path):
    x, y = workers.data()

    def run(epochs, backup_dir, delete):
        model = workers.model("adam")
        backup = ember.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=delete)
        return model, model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, callbacks=[backup])

    run(2, tmp_path / "b", delete=False)  # as if killed after two epochs: the backup stays
    resumed, history = run(4, tmp_path / "b", delete=True)
    uninterrupted, expected = run(4, tmp_path / "fresh", delete=True)
    assert history.history["loss"] == pytest.approx(expected.history["loss"], abs=1e-6)
    assert history.epoch == [0, 1, 2, 3]
    for got, want in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_bad_save_freq_is_refused():
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int; got 0"):
        ember.callbacks.BackupAndRestore("somewhere", save_freq=0)


def test_two_processes_killed_and_relaunched_end_like_one_uninterrupted_run(tmp_path):
    folder = str(tmp_path)
    first = workers.run_each(workers.data_parallel_backup_worker, 2, workers.free_port(), folder, 10, timeout=90)
    (survivor_code, survivor_seconds), (killed_code, killed_seconds) = first
    assert killed_code == -9
    assert survivor_code not in (0, None), "rank 0 must stop with an error when rank 1 dies"
    assert survivor_seconds - killed_seconds < 45  # the group's timeout (30 s) bounds the wait
    second = workers.run_each(workers.data_parallel_backup_worker, 2, workers.free_port(), folder, 10, timeout=90)
    assert [code for code, _ in second] == [0, 0]
    reference = workers.train_with_backup(str(tmp_path / "reference"), None, dropout=0.0)
    for rank in (0, 1):
        _assert_reports_equal(_load(tmp_path / f"report_{rank}.npz"), reference, atol=1e-5)

