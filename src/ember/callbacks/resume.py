"""Resuming a `fit` where a backup left it (`callbacks.BackupAndRestore`): at the saved epoch and,
for mid-epoch backups, after the batches already trained, with the epoch's batch order, random
state and partial logs as they were, so that the resumed run ends where an uninterrupted one ends.

The callback hands the engine a `ResumePoint` through `model._resume_point` in `on_train_begin`;
the engine starts at its epoch and, in that epoch, lets it set the random state before the batch
order is drawn, skips the trained batches, then lets it restore the random state and the trackers
as they were when the backup was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


def random_state() -> dict[str, torch.Tensor]:
    """torch's CPU generator state and each CUDA device's, as uint8 tensors."""
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index in range(torch.cuda.device_count()):
            state[f"cuda{index}"] = torch.cuda.get_rng_state(index)
    return state


def set_random_state(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["cpu"])
    for key, value in state.items():
        if key.startswith("cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state(value, int(key[4:]))


@dataclass
class ResumePoint:
    """Where to resume: `epoch`, with `batches_done` of its batches already trained.

    `epoch_random_state` is the random state at that epoch's start (its batch order comes from it),
    `random_state` the state after `batches_done` batches; `restore_trackers(objectives)` puts the
    epoch's partial loss and metrics back."""

    epoch: int
    batches_done: int = 0
    epoch_random_state: dict[str, torch.Tensor] | None = None
    random_state: dict[str, torch.Tensor] | None = None
    tracker_states: list[dict[str, torch.Tensor]] = field(default_factory=list)

    def mid_epoch(self, epoch: int) -> bool:
        return epoch == self.epoch and self.batches_done > 0

    def before_epoch(self, epoch: int) -> int:
        """Called before `epoch` begins (before its batch order is drawn): the random state as it
        was then; returns how many of its batches to skip."""
        if epoch != self.epoch:
            return 0
        if not self.mid_epoch(epoch):  # a backup between epochs: its state is the next epoch's start
            if self.random_state is not None:
                set_random_state(self.random_state)
            return 0
        if self.epoch_random_state is not None:
            set_random_state(self.epoch_random_state)
        return self.batches_done

    def after_skipping(self, objectives: Any) -> None:
        """Called once the trained batches are skipped: the random state and trackers as saved."""
        if self.random_state is not None:
            set_random_state(self.random_state)
        for tracker, saved in zip(objectives.all_trackers(), self.tracker_states):
            load_tracker_state(tracker, saved)


def tracker_state(tracker: Any) -> dict[str, torch.Tensor]:
    """A tracker's accumulated state as tensors (the loss tracker's weighted total and count)."""
    if hasattr(tracker, "weighted_total"):
        return {"weighted_total": tracker.weighted_total().cpu()}
    tracker.fold_host_counts()
    return {name: value.detach().cpu().clone() for name, value in tracker._states.items()}


def load_tracker_state(tracker: Any, saved: dict[str, torch.Tensor]) -> None:
    if "weighted_total" in saved:
        tracker.set_total(saved["weighted_total"])
        return
    for name, value in saved.items():
        tracker._states[name].copy_(value.to(tracker._states[name].device))
