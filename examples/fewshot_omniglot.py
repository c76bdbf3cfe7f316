"""Few-shot learning on Omniglot's small background splits: a prototypical network and MAML trained
on episodes of some alphabets, tested on characters of alphabets they never saw (5- and 20-way,
1- and 5-shot, mean accuracy with its 95% confidence interval), and on Lake et al.'s 20 one-shot
runs (20-way 1-shot; human error 4.5%).

Only the two small background splits are in the shared data (242 distinct characters; Greek and
Latin are in both), not the 964-character background set the papers train on, so expect lower
accuracies than theirs (ProtoNet's paper: 98.8% 5-way 1-shot, 96.0% 20-way 1-shot).

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/fewshot_omniglot.py
     [--episodes 2000] [--test-episodes 600] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ember
from ember import fewshot, layers
from ember.datasets import omniglot

TEST_ALPHABETS = ("Greek", "Latin", "Tagalog")


def characters() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Both small splits, each character once."""
    first, first_y, first_names = omniglot.load_data("background_small1")
    second, second_y, second_names = omniglot.load_data("background_small2")
    new = np.array([second_names[label] not in set(first_names) for label in second_y])
    names = sorted(set(first_names) | set(second_names))
    index = {name: i for i, name in enumerate(names)}
    labels = np.concatenate([[index[first_names[label]] for label in first_y],
                             [index[second_names[label]] for label in second_y[new]]])
    return np.concatenate([first, second[new]]), labels.astype(np.int64), names


def split_by_alphabet(x: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[tuple, tuple]:
    """`(train x, y), (test x, y)`: the test alphabets' characters are never trained on; the
    training characters are rotated by 90, 180 and 270 degrees into new classes."""
    held_out = np.array([names[label].split("/")[0] in TEST_ALPHABETS for label in y])
    train_x, train_y = x[~held_out], np.unique(y[~held_out], return_inverse=True)[1]
    train_x, train_y, _ = omniglot.with_rotations(train_x, train_y, [""] * (int(train_y.max()) + 1))
    return (train_x, train_y), (x[held_out], np.unique(y[held_out], return_inverse=True)[1])


def conv_net(outputs: int | None = None) -> ember.Sequential:
    """The few-shot papers' 4 blocks of 64 3x3 convolutions, batch norm, ReLU and 2x2 pooling (28 -> 1);
    a Dense head of `outputs` classes for MAML, the 64 features for a prototypical network."""
    blocks = [layers.Input((28, 28, 1))]
    for _ in range(4):
        blocks += [layers.Conv2D(64, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(),
                   layers.MaxPooling2D(2)]
    return ember.Sequential(blocks + [layers.Flatten()] + ([layers.Dense(outputs)] if outputs else []))


def evaluate(learner: fewshot.FewShotLearner, x: np.ndarray, y: np.ndarray, settings: list[tuple[int, int]],
             episodes: int, seed: int) -> dict[str, str]:
    results = {}
    for n_way, k_shot in settings:
        scores = learner.evaluate(fewshot.EpisodeSampler(x, y, n_way, k_shot, num_queries=15 if n_way == 5 else 5,
                                                         num_episodes=episodes, seed=seed + 1000))
        results[f"{n_way}-way {k_shot}-shot"] = f"{scores['accuracy']:.3f} ± {scores['accuracy_ci95']:.3f}"
    return results


def lake_error_rate(learner: fewshot.PrototypicalNetwork) -> float:
    """The mean error over the 20 one-shot runs, each classifying 20 drawings by 20 examples."""
    errors = []
    for run in omniglot.one_shot_runs():
        classifier = learner.adapt(run["support"], run["support_labels"])
        predicted = classifier.predict(run["queries"], verbose=0).argmax(axis=1)
        errors.append(float(np.mean(predicted != run["query_labels"])))
    return float(np.mean(errors))


def main(episodes: int = 2000, test_episodes: int = 600, seed: int = 0, verbose: int = 2) -> dict[str, object]:
    (train_x, train_y), (test_x, test_y) = split_by_alphabet(*characters())
    results: dict[str, object] = {"train_classes": int(train_y.max()) + 1, "test_classes": int(test_y.max()) + 1}
    steps = max(1, episodes // 10)

    ember.utils.set_random_seed(seed)
    protonet = fewshot.PrototypicalNetwork(conv_net())
    protonet.compile(ember.optimizers.Adam(1e-3))
    start = time.perf_counter()
    protonet.fit(fewshot.EpisodeSampler(train_x, train_y, n_way=20, k_shot=1, num_queries=5, num_episodes=steps),
                 epochs=10, verbose=verbose)
    results["protonet_seconds"] = round(time.perf_counter() - start, 1)
    results["protonet"] = evaluate(protonet, test_x, test_y, [(5, 1), (5, 5), (20, 1), (20, 5)], test_episodes, seed)
    results["protonet_lake_error"] = lake_error_rate(protonet)

    for n_way in (5, 20):  # MAML's head has one output per way: one model for each, as in the paper
        ember.utils.set_random_seed(seed)
        maml = fewshot.MAML(conv_net(n_way), inner_learning_rate=0.4, inner_steps=1, evaluation_inner_steps=3,
                            meta_batch_size=4)
        maml.compile(ember.optimizers.Adam(1e-3))
        start = time.perf_counter()
        maml.fit(fewshot.EpisodeSampler(train_x, train_y, n_way=n_way, k_shot=1, num_queries=15 if n_way == 5 else 5,
                                        num_episodes=steps), epochs=10, verbose=verbose)
        results[f"maml_{n_way}way_seconds"] = round(time.perf_counter() - start, 1)
        results[f"maml_{n_way}way"] = evaluate(maml, test_x, test_y, [(n_way, 1), (n_way, 5)], test_episodes, seed)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--test-episodes", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    for name, value in main(arguments.episodes, arguments.test_episodes, arguments.seed).items():
        print(f"{name}: {value}")
