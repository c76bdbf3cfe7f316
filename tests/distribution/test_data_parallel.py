"""Data-parallel fit on 2 local processes (gloo, 127.0.0.1) against the one-process run with the
same global batch: weights after training, History, evaluate and predict, files on rank 0 only,
EarlyStopping deciding alike on both ranks."""

import os

import numpy as np
import pytest

from tests.distribution import workers


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("ddp"))
    workers.run_processes(workers.data_parallel_worker, 2, workers.free_port(), folder)
    return folder


def _load(folder, name):
    with np.load(os.path.join(folder, name), allow_pickle=False) as arrays:
        return dict(arrays)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_two_replicas_train_like_one_process_with_the_same_global_batch(two_process_run, optimizer, tmp_path):
    reference = workers.train_and_report(optimizer, str(tmp_path), rank=0)
    ranks = [_load(two_process_run, f"report_{optimizer}_{rank}.npz") for rank in (0, 1)]
    assert str(reference.pop("step_kind")) != "data_parallel"
    assert all(str(report.pop("step_kind")) == "data_parallel" for report in ranks)
    for key, expected in reference.items():
        for rank, report in enumerate(ranks):
            np.testing.assert_allclose(report[key], expected, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{key} on rank {rank} ({optimizer})")
    for key in ranks[0]:
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=f"{key} differs between the ranks")


def test_a_two_input_two_output_model_with_validation_split_and_weights_trains_alike(two_process_run, tmp_path):
    reference = workers.train_two_input_model(str(tmp_path), rank=0)
    for rank in (0, 1):
        report = _load(two_process_run, f"two_inputs_{rank}.npz")
        assert sorted(report) == sorted(reference)
        for key, expected in reference.items():
            np.testing.assert_allclose(report[key], expected, rtol=1e-5, atol=1e-6, err_msg=f"{key} on rank {rank}")


def test_only_rank_zero_writes_files(two_process_run):
    written = sorted(name for name in os.listdir(two_process_run) if not name.endswith(".npz"))
    assert written == ["log_adam_0.csv", "log_sgd_0.csv", "model_adam_0.ember", "model_sgd_0.ember"]


def test_early_stopping_stops_both_ranks_at_the_same_epoch(two_process_run):
    epochs = [int(_load(two_process_run, f"early_{rank}.npz")["epochs"]) for rank in (0, 1)]
    assert epochs == [2, 2]


def test_ranks_given_different_data_both_stop_with_the_amounts_named(tmp_path):
    codes = workers.run_each(workers.unequal_data_worker, 2, workers.free_port(), str(tmp_path), timeout=90)
    assert [code for code, _ in codes] == [0, 0]
    for rank in (0, 1):
        message = (tmp_path / f"error_{rank}.txt").read_text()
        assert "the ranks were given different data (rank 0: 100, rank 1: 90 samples)" in message


def test_an_unreachable_rendezvous_fails_naming_the_address_within_the_timeout():
    import subprocess
    import sys
    import time

    port = workers.free_port()  # nobody listens there
    code = ("import ember; ember.distribution.initialize(coordinator_address='127.0.0.1:%d', num_processes=2, "
            "process_id=1, timeout=3)" % port)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and time.monotonic() - started < 30
    assert f"Could not join the process group at 127.0.0.1:{port} (rank 1 of 2, gloo) within 3 s" in result.stderr


def test_data_parallel_needs_one_process_per_device():
    import ember

    with pytest.raises(ValueError, match="2 devices were given, but 1 process"):
        ember.distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    assert ember.distribution.list_devices("cpu") == ["cpu:0"]
    mesh = ember.distribution.DeviceMesh((1,), ["batch"], ["cpu:0"])
    assert ember.distribution.DataParallel(device_mesh=mesh).num_replicas == 1
