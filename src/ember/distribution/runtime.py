"""The process group behind ember's distribution: started from the launcher's environment
(`torchrun` sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) or from `initialize`'s
arguments, with NCCL on CUDA (one GPU per local rank) and gloo on the CPU.

A rank that dies leaves the others waiting in a collective; every collective here is bounded by
the group's timeout (`initialize(timeout=...)`, 300 s by default, `EMBER_DIST_TIMEOUT` seconds
under a launcher), after which the waiting ranks fail with torch's error instead of hanging.
"""

from __future__ import annotations

import datetime
import os

import torch
import torch.distributed as dist

DEFAULT_TIMEOUT_SECONDS = 300.0


def launched() -> bool:
    """Whether a launcher (torchrun, or a test) started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if is_initialized() else 0


def world_size() -> int:
    """How many processes train together (1 when not distributed)."""
    return dist.get_world_size() if is_initialized() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_primary() -> bool:
    """Whether this process does the run's side effects (progress bar, files): rank 0."""
    return rank() == 0


def compute_device() -> torch.device:
    """The device of this process's replica: its local GPU under CUDA, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank() % torch.cuda.device_count())
    return torch.device("cpu")


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, timeout: float | None = None) -> None:
    """Joins the process group (Keras's `distribution.initialize`): from the arguments, else from
    the launcher's environment. `coordinator_address` is "host:port" of rank 0. Idempotent.

    Raises a RuntimeError naming the address when the rendezvous fails within `timeout` seconds."""
    if is_initialized():
        return
    if coordinator_address is not None:
        host, _, port = coordinator_address.rpartition(":")
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = host, port
    if num_processes is not None:
        os.environ["WORLD_SIZE"] = str(num_processes)
    if process_id is not None:
        os.environ["RANK"] = str(process_id)
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK") if name not in os.environ]
    if missing:
        raise RuntimeError(f"ember.distribution.initialize: {', '.join(missing)} not set. Launch with torchrun "
                           "(torchrun --nproc_per_node=2 train.py) or pass coordinator_address, num_processes "
                           "and process_id.")
    seconds = timeout if timeout is not None else float(os.environ.get("EMBER_DIST_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(compute_device())
    address = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
    try:
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=seconds), **_attempt_store(seconds))
    except Exception as error:  # torch raises several types for an unreachable store
        raise RuntimeError(f"Could not join the process group at {address} (rank {os.environ['RANK']} of "
                           f"{os.environ['WORLD_SIZE']}, {backend}) within {seconds:g} s: {error}. Check that "
                           "rank 0 is running and that the address and port are reachable.") from error


def _attempt_store(seconds: float) -> dict:
    """Under torchrun's agent store, a store prefixed with the restart count: after a restart
    (`--max-restarts`) the ranks must not read the addresses the dead attempt's ranks left there."""
    restart = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    if restart is None or os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return {}
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False,
                          timeout=datetime.timedelta(seconds=seconds))
    return {"store": dist.PrefixStore(f"ember/attempt{restart}", store), "rank": int(os.environ["RANK"]),
            "world_size": int(os.environ["WORLD_SIZE"])}


def shutdown(timeout: float = 30.0) -> None:
    """Leaves the process group (at the end of a script, or in tests).

    The ranks first meet at a barrier (bounded by `timeout` seconds, so a rank that died does not
    hold the others): a rank that tore down its connections while another was still finishing its
    last collective made that rank's transport thread abort the process (SIGABRT)."""
    if not is_initialized():
        return
    try:
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=datetime.timedelta(seconds=timeout))
        else:
            dist.barrier()
    except RuntimeError:  # a rank is gone: leave anyway, the others' barrier names it
        pass
    dist.destroy_process_group()
