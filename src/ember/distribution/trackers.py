"""Loss and metric trackers summed over data-parallel replicas, so every rank logs the whole data's
values: each tracker's state tensors are additive (totals and counts, confusion counts), and the
loss tracker contributes its weighted total and count (`weighted_total` / `set_total`)."""

from __future__ import annotations

from typing import Any

from ember.distribution import collectives


def reduce_over_replicas(trackers: list[Any]) -> None:
    """Sums the trackers' states over the replicas in one all-reduce, in place."""
    states, losses = [], []
    for tracker in trackers:
        if hasattr(tracker, "weighted_total"):
            losses.append(tracker)
            continue
        tracker.fold_host_counts()
        states.extend(tracker._states.values())
    totals = [tracker.weighted_total() for tracker in losses]
    collectives.sum_in_place(states + totals)
    for tracker, total in zip(losses, totals):
        tracker.set_total(total)
