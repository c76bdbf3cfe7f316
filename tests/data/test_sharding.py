"""Splitting global batches over replicas, without processes: every sample once per epoch,
parts differing by one at most, the divisibility and small-remainder rules."""

import pytest
import torch

from ember.data.arrays import ArraySource
from ember.data.sharding import GlobalBatchSource, contiguous_shard, part_bounds


def _source(size, batch, shuffle=True):
    return ArraySource(torch.arange(size)[:, None].float(), torch.arange(size), None, batch, shuffle, torch.device("cpu"))


def test_the_replicas_parts_cover_every_sample_once_per_epoch():
    torch.manual_seed(0)
    order = torch.randperm(53)
    broadcast = lambda tensor: order.clone()  # noqa: E731  (what rank 0 drew, as every rank receives it)
    parts = [list(GlobalBatchSource(_source(53, 12), rank, 3, broadcast).epoch()) for rank in range(3)]
    assert [len(p) for p in parts] == [5, 5, 5]
    seen = torch.cat([batch[1] for rank_parts in parts for batch in rank_parts])
    assert sorted(seen.tolist()) == list(range(53))
    assert [batch.global_size for batch in parts[0]] == [12, 12, 12, 12, 5]
    assert [[len(batch[1]) for batch in rank_parts] for rank_parts in parts] == \
        [[4, 4, 4, 4, 2], [4, 4, 4, 4, 2], [4, 4, 4, 4, 1]]
    assert torch.equal(parts[0][0][1], order[:4]) and torch.equal(parts[1][0][1], order[4:8])


def test_part_bounds_differ_by_one_at_most():
    assert [part_bounds(10, r, 4) for r in range(4)] == [(0, 3), (3, 6), (6, 8), (8, 10)]


def test_a_global_batch_must_divide_over_the_replicas():
    with pytest.raises(ValueError, match="batch_size=10 is the global batch under DataParallel and must divide "
                                         "evenly over the 4 replicas; use a multiple of 4, e.g. 8"):
        GlobalBatchSource(_source(40, 10), 0, 4, lambda t: t)


def test_a_last_batch_smaller_than_the_replica_count_is_dropped_with_a_warning():
    with pytest.warns(UserWarning, match="the last batch of each epoch has 1 sample"):
        source = GlobalBatchSource(_source(33, 8), 0, 2, lambda t: t)
    assert len(source) == 4 and sum(len(b[1]) for b in source.epoch()) == 16


def test_contiguous_shards_tile_the_samples():
    shards = [contiguous_shard(_source(11, 4, shuffle=False), rank, 2) for rank in range(2)]
    assert [s.size for s in shards] == [6, 5] and [s.batch_size for s in shards] == [2, 2]
    assert torch.cat([s.y for s in shards]).tolist() == list(range(11))
