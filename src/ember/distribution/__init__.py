"""Training on many processes and machines with Keras 3's distribution API, on torch.distributed.

    import ember
    ember.distribution.set_distribution(ember.distribution.DataParallel())  # optional under torchrun
    model.fit(x, y, batch_size=256)   # 256 is the global batch: 128 per process with two

Launch with `torchrun --nproc_per_node=N train.py` (one machine) or `torchrun --nnodes=M
--node_rank=K --rdzv-backend=c10d --rdzv-endpoint=HOST:PORT --nproc_per_node=N train.py`.
"""

from ember.distribution.api import (DataParallel, DeviceMesh, FullyShardedDataParallel, distribution, list_devices,
                                    set_distribution)
from ember.distribution.runtime import initialize, is_primary, rank, shutdown, world_size

__all__ = ["DataParallel", "DeviceMesh", "FullyShardedDataParallel", "distribution", "initialize", "is_primary", "list_devices", "rank",
           "set_distribution", "shutdown", "world_size"]
