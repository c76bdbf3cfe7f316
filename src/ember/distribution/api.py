"""Keras 3's distribution API on torch.distributed: `DeviceMesh`, `DataParallel`,
`list_devices`, `set_distribution`, `distribution`.

`DataParallel()` trains one replica of the model per process: `fit`'s `batch_size` is the global
batch, split over the replicas; gradients are averaged by torch's DistributedDataParallel
(bucketed, overlapped with the backward pass); logs are reduced over the ranks. Under a launcher
(`torchrun --nproc_per_node=N train.py`) a script that sets nothing gets `DataParallel()` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import torch

from ember.distribution import runtime


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices of this machine ember can train on: "cuda:0", ... or "cpu:0" (Keras's names)."""
    kind = device_type or ("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "gpu":
        kind = "cuda"
    if kind == "cuda":
        return [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if kind == "cpu":
        return ["cpu:0"]
    raise ValueError(f"list_devices: unknown device type {device_type!r}; expected 'cpu', 'gpu' or 'cuda'.")


@dataclass(frozen=True)
class DeviceMesh:
    """A named grid of devices (Keras's `DeviceMesh`): `DeviceMesh((4,), ["batch"], devices)`."""

    shape: tuple[int, ...]
    axis_names: Sequence[str]
    devices: Sequence[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        if len(self.shape) != len(self.axis_names):
            raise ValueError(f"DeviceMesh: shape {self.shape} has {len(self.shape)} axes but axis_names "
                             f"{list(self.axis_names)} name {len(self.axis_names)}.")
        size = 1
        for dim in self.shape:
            size *= dim
        if self.devices is not None and len(self.devices) != size:
            raise ValueError(f"DeviceMesh: shape {self.shape} holds {size} devices; got {len(self.devices)}.")


@dataclass
class DataParallel:
    """Data parallelism over all processes of the group: one replica per process.

    Args:
        device_mesh: a one-axis mesh (its size must equal the number of processes), or None.
        devices: the replicas' devices (one per process), or None for one per process.
    """

    device_mesh: DeviceMesh | None = None
    devices: Sequence[str] | None = None
    batch_dim_name: str = field(default="batch")
    shards_weights: ClassVar[bool] = False

    def __post_init__(self) -> None:
        runtime.initialize() if runtime.launched() else None
        replicas = len(self.devices) if self.devices is not None else (
            self.device_mesh.shape[0] if self.device_mesh is not None else runtime.world_size())
        if replicas != runtime.world_size():
            raise ValueError(f"DataParallel: {replicas} devices were given, but {runtime.world_size()} process(es) "
                             "train (one replica per process). Launch as many processes as devices, e.g. "
                             f"torchrun --nproc_per_node={replicas} train.py, or pass devices=None.")
        if self.device_mesh is None:
            self.device_mesh = DeviceMesh((replicas,), [self.batch_dim_name], self.devices)

    @property
    def num_replicas(self) -> int:
        return runtime.world_size()

    @property
    def active(self) -> bool:
        """Whether more than one replica trains (a one-process DataParallel is ordinary training)."""
        return self.num_replicas > 1


class FullyShardedDataParallel(DataParallel):
    """Data parallelism with every layer's weights, gradients and optimizer state sharded over the
    replicas (torch's FSDP2, `fully_shard` on each top-level layer and on the model), for models
    too large to hold whole on each device. Each layer's weights are gathered for its forward and
    backward pass and dropped after; gradients are reduce-scattered. `evaluate`/`predict` gather
    the whole weights once for their duration. `model.save` (called on every rank) gathers them and
    rank 0 writes an ordinary ember file, which loads in a one-process run."""

    shards_weights: ClassVar[bool] = True


_current: DataParallel | None = None


def set_distribution(value: DataParallel | None) -> None:
    """Makes `value` the distribution every later `fit`/`evaluate`/`predict` uses (None: one process)."""
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution takes a DataParallel (or None); got {value!r}.")
    _current = value


def distribution() -> DataParallel | None:
    """The distribution in force: the one set, else `DataParallel()` when a launcher started several
    processes, else None."""
    global _current
    if _current is None and runtime.launched():
        _current = DataParallel()
    return _current


def active() -> DataParallel | None:
    """The distribution when it spans more than one process, else None."""
    current = distribution()
    return current if current is not None and current.active else None
