"""FullyShardedDataParallel (FSDP2) on 2 local processes: a Transformer's loss curve matches the
DataParallel run's, its weights are really sharded, and its saved file loads in one process with
the same predictions."""

import os

import numpy as np
import pytest

import ember
from tests.distribution import workers


@pytest.fixture(scope="module")
def sharded_run(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("fsdp"))
    workers.run_processes(workers.sharded_worker, 2, workers.free_port(), folder, timeout=180)
    return folder


def _report(folder, rank):
    with np.load(os.path.join(folder, f"sharded_{rank}.npz"), allow_pickle=False) as arrays:
        return dict(arrays)


def test_sharded_training_follows_the_data_parallel_loss_curve(sharded_run):
    for rank in (0, 1):
        report = _report(sharded_run, rank)
        np.testing.assert_allclose(report["fsdp_loss"], report["ddp_loss"], rtol=1e-4)
        np.testing.assert_allclose(report["fsdp_val_loss"], report["ddp_val_loss"], rtol=1e-4)
        np.testing.assert_allclose(report["fsdp_predict"], report["ddp_predict"], atol=1e-4)
        assert int(report["fsdp_local_kernel"]) < int(report["ddp_local_kernel"]) == 32  # half of (16, 2) each
        assert report["fsdp_weights_0"].shape == (40, 16)  # get_weights gathers the whole weight


def test_a_sharded_runs_file_loads_in_one_process_with_the_same_predictions(sharded_run):
    x, _ = workers.token_data()
    loaded = ember.models.load_model(os.path.join(sharded_run, "fsdp.ember"))
    assert type(loaded).__name__ == "Sequential"
    np.testing.assert_allclose(loaded.predict(x, verbose=0), _report(sharded_run, 0)["fsdp_predict"], atol=1e-5)
    assert sorted(n for n in os.listdir(sharded_run) if n.endswith(".ember")) == ["ddp.ember", "fsdp.ember"]


def test_a_sharded_model_under_another_distribution_says_what_to_do(sharded_run):
    message = str(_report(sharded_run, 1)["other_distribution_error"])
    assert "was sharded by FullyShardedDataParallel and stays sharded" in message and "Save it" in message
