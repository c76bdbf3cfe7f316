"""Data-parallel training throughput at 1 and 2 processes, one run, same global batch: ember `fit`
under `DataParallel` against a plain PyTorch DistributedDataParallel loop (a DistributedSampler-
style split of a shared permutation, data already in memory, Adam, loss read at the end), on the
MNIST MLP and the CIFAR-10 CNN of benchmarks/mnist_mlp.py and benchmarks/cifar_cnn.py.

    EMBER_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/distributed.py [--processes 1 2]
    GPU machine: ... benchmarks/distributed.py --processes 1 gpu   (torchrun --nproc_per_node=gpu)

Each (workload, runner, process count) is one `torchrun --nproc_per_node=N` launch: one warm-up
epoch, then one timed epoch; samples/s counts the global batch (all processes together).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

WORKLOADS = {"mnist": ("mnist_mlp", 60_000, 128), "cifar": ("cifar_cnn", 10_000, 64)}


def _data(workload: str):
    module = __import__(WORKLOADS[workload][0])
    arguments = argparse.Namespace(samples=WORKLOADS[workload][1])
    return module, module.load(arguments)


def run_ember(workload: str) -> float:
    import ember

    module, (x, y, _, _) = _data(workload)
    ember.distribution.set_distribution(ember.distribution.DataParallel())
    ember.utils.set_random_seed(0)
    model = module.ember_model()
    batch = WORKLOADS[workload][2]
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    return len(x) / (time.perf_counter() - started)


def run_torch_ddp(workload: str) -> float:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    module, (x, y, _, _) = _data(workload)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if torch.cuda.is_available() else torch.device("cpu")
    torch.manual_seed(0)
    model = DistributedDataParallel(module.torch_model().to(device), device_ids=[device] if device.type == "cuda" else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    batch = WORKLOADS[workload][2]
    part = batch // world

    def epoch() -> None:
        order = torch.randperm(len(x), device=device)
        dist.broadcast(order, 0)
        total = torch.zeros((), device=device)
        for start in range(0, len(x) - batch + 1, batch):
            index = order[start + rank * part:start + (rank + 1) * part]
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach()
        float(total)

    epoch()
    started = time.perf_counter()
    epoch()
    return len(x) / (time.perf_counter() - started)


def worker(runner: str, workload: str) -> None:
    samples_per_second = {"ember": run_ember, "torch-ddp": run_torch_ddp}[runner](workload)
    if int(os.environ.get("RANK", 0)) == 0:
        print("RESULT " + json.dumps({"samples_per_second": samples_per_second}), flush=True)


def launch(runner: str, workload: str, processes: str) -> float:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", __file__, "--worker", runner,
               "--workload", workload]
    output = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    lines = [line for line in output.stdout.splitlines() if line.startswith("RESULT ")]
    if output.returncode or not lines:
        raise RuntimeError(f"{runner} {workload} x{processes} failed:\n{output.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])["samples_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", nargs="+", default=["1", "2"])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS))
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workload", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.workload)
        return
    print("| workload (global batch) | processes | ember samples/s | torch DDP samples/s | ember / torch |")
    print("|---|---|---|---|---|")
    for workload in args.workloads:
        for processes in args.processes:
            ours, theirs = launch("ember", workload, processes), launch("torch-ddp", workload, processes)
            print(f"| {workload} ({WORKLOADS[workload][2]}) | {processes} | {ours:,.0f} | {theirs:,.0f} | "
                  f"{ours / theirs:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
