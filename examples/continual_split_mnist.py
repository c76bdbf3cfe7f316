"""Continual learning on MNIST: Split MNIST (5 experiences of 2 digits, class-incremental) and
Permuted MNIST (10 pixel permutations, domain-incremental), each strategy trained over the stream
and scored by its average accuracy at the end, forgetting and backward transfer (mean ± std over
seeds); `--benchmark cifar` runs Split CIFAR-10 (class-incremental) with a small CNN.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/continual_split_mnist.py [--seeds 0 1 2]
     [--epochs N] [--plot DIR] [--strategies NAME ...] [--benchmark split|permuted|cifar]
     (examples/continual_permuted_mnist.py: the same for Permuted MNIST)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import ember
from ember import continual, layers

STRATEGIES = {
    "split": {"naive": lambda seed: continual.Naive(),
              "replay (reservoir, 1000)": lambda seed: continual.Replay(1000, seed=seed),
              "replay (class-balanced, 1000)": lambda seed: continual.Replay(1000, "class_balanced", seed=seed),
              "replay (reservoir, 1000, half of each epoch)": lambda seed: continual.Replay(1000, seed=seed,
                                                                                           replay_share=0.5),
              "replay (reservoir, 1000, 90% of each epoch, 1 epoch)":
                  lambda seed: continual.Replay(1000, seed=seed, replay_share=0.9),
              "LwF": lambda seed: continual.LwF(alpha=1.0, temperature=2.0),
              "EWC (online)": lambda seed: continual.EWC(1000.0, mode="online", seed=seed)},
    "permuted": {"naive": lambda seed: continual.Naive(),
                 "EWC": lambda seed: continual.EWC(100.0, seed=seed),
                 "EWC (online, decay 0.9)": lambda seed: continual.EWC(100.0, mode="online", decay=0.9, seed=seed),
                 "replay (reservoir, 1000)": lambda seed: continual.Replay(1000, seed=seed),
                 "SI": lambda seed: continual.SynapticIntelligence(1.0),
                 "A-GEM (256 per experience)": lambda seed: continual.AGEM(256, 256, seed=seed)},
    "cifar": {"naive": lambda seed: continual.Naive(),
              "replay (reservoir, 1000)": lambda seed: continual.Replay(1000, seed=seed),
              "replay (reservoir, 1000, half of each epoch)": lambda seed: continual.Replay(1000, seed=seed,
                                                                                           replay_share=0.5)},
}
STRATEGIES["split"].update(SI=lambda seed: continual.SynapticIntelligence(1.0),
                           **{"A-GEM (256 per experience)": lambda seed: continual.AGEM(256, 256, seed=seed)})
SETTINGS = {"split": {"hidden": (400, 400), "epochs": 2}, "permuted": {"hidden": (512,), "epochs": 2},
            "cifar": {"epochs": 3}}
EPOCHS = {"replay (reservoir, 1000, 90% of each epoch, 1 epoch)": 1}  # rows that differ from SETTINGS
TITLES = {"split": "Split MNIST", "permuted": "Permuted MNIST", "cifar": "Split CIFAR-10"}
STREAMS = {"split": continual.split_mnist, "permuted": lambda: continual.permuted_mnist(10),
           "cifar": continual.split_cifar10}


def mlp(hidden: tuple[int, ...]) -> ember.Sequential:
    """The baselines' MLP: ReLU layers of `hidden` units, a 10-way softmax."""
    return ember.Sequential([layers.Input((784,))] + [layers.Dense(units, activation="relu") for units in hidden]
                            + [layers.Dense(10, activation="softmax")])


def cnn() -> ember.Sequential:
    """A small CNN for Split CIFAR-10: two blocks of two 3x3 convolutions and pooling, a Dense layer."""
    blocks = [layers.Input((32, 32, 3))]
    for filters in (32, 64):
        blocks += [layers.Conv2D(filters, 3, padding="same", activation="relu"),
                   layers.Conv2D(filters, 3, padding="same", activation="relu"), layers.MaxPooling2D(2)]
    return ember.Sequential(blocks + [layers.Flatten(), layers.Dense(256, activation="relu"),
                                      layers.Dense(10, activation="softmax")])


def main(benchmark: str = "split", seeds: tuple[int, ...] = (0, 1, 2), epochs: int | None = None,
         plot_dir: str | None = None, strategies: list[str] | None = None) -> dict[str, dict[str, float]]:
    stream = STREAMS[benchmark]()
    settings = SETTINGS[benchmark]
    table = {}
    for name, make in STRATEGIES[benchmark].items():
        if strategies is not None and name not in strategies:
            continue
        runs, seconds = [], []
        for seed in seeds:
            ember.utils.set_random_seed(seed)
            start = time.perf_counter()
            model = cnn() if benchmark == "cifar" else mlp(settings["hidden"])
            results = continual.train_stream(model, stream, make(seed), optimizer=ember.optimizers.Adam(1e-3),
                                             epochs=epochs or EPOCHS.get(name, settings["epochs"]), batch_size=128)
            seconds.append(time.perf_counter() - start)
            runs.append(results.summary())
            if plot_dir is not None and seed == seeds[0]:
                results.plot(Path(plot_dir) / f"{benchmark}_{name.split()[0].lower()}.png", title=name)
        table[name] = {key: (float(np.mean([run[key] for run in runs])), float(np.std([run[key] for run in runs])))
                       for key in runs[0]}
        table[name]["seconds"] = (float(np.mean(seconds)), float(np.std(seconds)))
        row = "  ".join(f"{key} {mean:.3f} ± {std:.3f}" for key, (mean, std) in table[name].items())
        print(f"{TITLES[benchmark]}, {name}: {row}", flush=True)
    return table


def run_from_command_line(benchmark: str) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--plot", default=None)
    parser.add_argument("--strategies", nargs="+", default=None, help="names as in the table (default: all)")
    parser.add_argument("--benchmark", choices=sorted(STREAMS), default=benchmark)
    arguments = parser.parse_args()
    main(arguments.benchmark, tuple(arguments.seeds), arguments.epochs, arguments.plot, arguments.strategies)


if __name__ == "__main__":
    run_from_command_line("split")
