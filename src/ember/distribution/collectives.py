"""The few collectives ember's data-parallel training needs, on the process group's device
(CUDA tensors for NCCL, CPU tensors for gloo): broadcast a permutation, sum metric states, gather
predictions of different lengths, compare per-rank values."""

from __future__ import annotations

import torch
import torch.distributed as dist


def _group_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def broadcast(tensor: torch.Tensor, source: int = 0) -> torch.Tensor:
    """`tensor` as rank `source` holds it, on every rank (same shape and dtype everywhere)."""
    moved = tensor.to(_group_device())
    dist.broadcast(moved, source)
    return moved.to(tensor.device)


def sum_in_place(tensors: list[torch.Tensor]) -> None:
    """Each tensor replaced by its sum over the ranks (one flat all-reduce for all of them)."""
    if not tensors:
        return
    flat = torch.cat([t.detach().reshape(-1).to(_group_device(), torch.float64) for t in tensors])
    dist.all_reduce(flat)
    offset = 0
    for tensor in tensors:
        count = tensor.numel()
        tensor.copy_(flat[offset:offset + count].reshape(tensor.shape).to(tensor.device, tensor.dtype))
        offset += count


def gather_values(value: float | int) -> list[float]:
    """A number from every rank, in rank order, on every rank."""
    mine = torch.tensor([float(value)], dtype=torch.float64, device=_group_device())
    everyone = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(everyone, mine)
    return [float(v) for v in everyone]


def gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """The concatenation, in rank order, of every rank's `tensor` `(rows_r, ...)` (rows may differ)."""
    counts = [int(c) for c in gather_values(tensor.shape[0])]
    padded = torch.zeros((max(counts), *tensor.shape[1:]), dtype=tensor.dtype, device=_group_device())
    padded[:tensor.shape[0]] = tensor.to(padded.device)
    pieces = [torch.zeros_like(padded) for _ in counts]
    dist.all_gather(pieces, padded)
    return torch.cat([piece[:count] for piece, count in zip(pieces, counts)]).to(tensor.device)


def any_rank(flag: bool) -> bool:
    """Whether `flag` holds on at least one rank (the same answer everywhere)."""
    return max(gather_values(1.0 if flag else 0.0)) > 0
