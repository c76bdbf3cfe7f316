"""Streams of experiences for continual learning: the data arrives in parts, one after another,
and a model trained on each in turn should not forget the earlier ones.

Scenarios (van de Ven & Tolias 2019): "class" (class-incremental: new classes in each experience,
one head over all classes, the task unknown at test time), "task" (task-incremental: the task id
is known at test time, so each experience's classes are told apart only among themselves, a
multi-head model), "domain" (domain-incremental: the same classes in a changing input domain).

    >>> stream = split_mnist()                     # 5 experiences of 2 digits, class-incremental
    >>> stream = permuted_mnist(num_tasks=10)      # 10 pixel permutations, domain-incremental
    >>> stream = Stream.from_arrays(x, y, x_test, y_test, [[0, 1], [2, 3]], scenario="task")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SCENARIOS = ("class", "task", "domain")


@dataclass
class Experience:
    """One part of a stream: training and test arrays, the classes it holds, its position."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[int, ...]
    task_id: int


class Stream:
    """A sequence of `Experience`s in one scenario, over `num_classes` classes."""

    def __init__(self, experiences: list[Experience], scenario: str, num_classes: int, name: str = "stream") -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"scenario must be one of {list(SCENARIOS)}; got {scenario!r}.")
        if not experiences:
            raise ValueError("A stream needs at least one experience.")
        self.experiences, self.scenario, self.num_classes, self.name = experiences, scenario, num_classes, name

    def __len__(self) -> int:
        return len(self.experiences)

    def __getitem__(self, index: int) -> Experience:
        return self.experiences[index]

    def __iter__(self):
        return iter(self.experiences)

    @classmethod
    def from_arrays(cls, x_train: Any, y_train: Any, x_test: Any, y_test: Any, class_order: list[list[int]],
                    scenario: str = "class", name: str = "stream") -> "Stream":
        """Experience `i` holds the samples of the classes `class_order[i]` (integer labels)."""
        x_train, y_train = np.asarray(x_train), np.asarray(y_train).reshape(-1)
        x_test, y_test = np.asarray(x_test), np.asarray(y_test).reshape(-1)
        seen = [c for classes in class_order for c in classes]
        if len(seen) != len(set(seen)):
            raise ValueError(f"Each class may appear in one experience only; class_order is {class_order}.")
        experiences = []
        for task_id, classes in enumerate(class_order):
            train, test = np.isin(y_train, classes), np.isin(y_test, classes)
            if not train.any() or not test.any():
                raise ValueError(f"Experience {task_id} (classes {list(classes)}) has no training or no test samples.")
            experiences.append(Experience(x_train[train], y_train[train], x_test[test], y_test[test],
                                          tuple(int(c) for c in classes), task_id))
        num_classes = int(max(int(y_train.max()), int(y_test.max()))) + 1
        return cls(experiences, scenario, num_classes, name)


def _mnist_flat() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from ember.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    flat = lambda images: (images.reshape(len(images), -1) / 255.0).astype(np.float32)
    return flat(x_train), y_train.astype(np.int64), flat(x_test), y_test.astype(np.int64)


def split_mnist(scenario: str = "class") -> Stream:
    """MNIST in 5 experiences of 2 digits (0-1, 2-3, ..., 8-9), flat `(N, 784)` inputs in [0, 1]."""
    x_train, y_train, x_test, y_test = _mnist_flat()
    return Stream.from_arrays(x_train, y_train, x_test, y_test, [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]],
                              scenario, name="split_mnist")


def permuted_mnist(num_tasks: int = 10, seed: int = 0) -> Stream:
    """MNIST under `num_tasks` fixed random pixel permutations (the first is the identity), all ten
    digits in each: domain-incremental, flat `(N, 784)` inputs."""
    if not isinstance(num_tasks, int) or num_tasks < 1:
        raise ValueError(f"num_tasks must be a positive integer; got {num_tasks!r}.")
    x_train, y_train, x_test, y_test = _mnist_flat()
    rng = np.random.default_rng(seed)
    experiences = []
    for task_id in range(num_tasks):
        order = np.arange(784) if task_id == 0 else rng.permutation(784)
        experiences.append(Experience(x_train[:, order], y_train, x_test[:, order], y_test, tuple(range(10)), task_id))
    return Stream(experiences, "domain", 10, name="permuted_mnist")


def split_cifar10(scenario: str = "class") -> Stream:
    """CIFAR-10 in 5 experiences of 2 classes, images `(N, 32, 32, 3)` in [0, 1]."""
    from ember.datasets import cifar10

    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    scale = lambda images: (images / 255.0).astype(np.float32)
    return Stream.from_arrays(scale(x_train), y_train.reshape(-1), scale(x_test), y_test.reshape(-1),
                              [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]], scenario, name="split_cifar10")
