"""The tutorials' MNIST MLP trained data-parallel on several processes or machines.

One machine, two processes:
    EMBER_DATA_DIR=../shared/datasets .venv/bin/torchrun --nproc_per_node=2 examples/distributed_mnist.py
Two machines (here: two launchers on this one, as the tests do), run on each with its node rank:
    .venv/bin/torchrun --nnodes=2 --node_rank=K --nproc_per_node=1 --rdzv-backend=c10d \\
        --rdzv-endpoint=127.0.0.1:29400 --rdzv-id=mnist examples/distributed_mnist.py
One process (the reference): .venv/bin/python examples/distributed_mnist.py

`batch_size` is the global batch: the same script gives the same training whatever the number of
processes. Rank 0 prints, shows the progress bar and saves the model.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import ember
from ember import layers


def main(epochs: int = 5, batch_size: int = 64, output: str | None = None, verbose: int | str = 2) -> float:
    ember.distribution.set_distribution(ember.distribution.DataParallel())  # the default under torchrun too
    ember.utils.set_random_seed(42)
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    model = ember.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
    seconds = time.perf_counter() - started
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    processes = ember.distribution.world_size()
    if ember.distribution.is_primary():
        print(f"MNIST MLP on {processes} process(es): test accuracy {accuracy:.4f} (loss {loss:.4f}), "
              f"{epochs} epochs in {seconds:.1f} s", flush=True)
        if output:
            model.save(os.path.join(output, "mnist_mlp.ember"))
            with open(os.path.join(output, "result.json"), "w") as file:
                json.dump({"accuracy": accuracy, "loss": loss, "processes": processes, "seconds": seconds}, file)
    ember.distribution.shutdown()
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--output", default=None, help="a folder for the saved model and result.json (rank 0)")
    arguments = parser.parse_args()
    main(arguments.epochs, arguments.batch_size, arguments.output)
