"""`train_stream`: a model trained on a stream's experiences in turn with a strategy, evaluated on
every experience after each one, and the measures of forgetting over the accuracy matrix.

    >>> results = train_stream(model, split_mnist(), Replay(1000), epochs=1)
    >>> results.accuracy_matrix      # [i, j]: accuracy on experience j after training on experience i
    >>> results.average_accuracy, results.forgetting, results.backward_transfer
    >>> results.plot("matrix.png")
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember import losses
from ember.continual.checkpoint import Progress, load_checkpoint, save_checkpoint
from ember.continual.stream import Experience, Stream
from ember.continual.strategies import Naive, Strategy, masked_log_probabilities


class ContinualLoss(losses.Loss):
    """Cross-entropy of the label in the targets' column 0 (over the experience's classes only in a
    task-incremental stream), plus the strategy's per-sample terms and its penalty."""

    def __init__(self, strategy: Strategy, model: Any, classes: tuple[int, ...] | None) -> None:
        super().__init__(name="continual_loss")
        self.strategy, self.model, self.classes = strategy, model, classes

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        targets = y_true.reshape(len(y_true), -1).float()
        log_probabilities = masked_log_probabilities(y_pred, self.classes)
        values = F.nll_loss(log_probabilities, targets[:, 0].long(), reduction="none")
        extra = self.strategy.extra_loss(targets, log_probabilities)
        if extra is not None:
            values = values + extra
        penalty = self.strategy.penalty(self.model)
        return values if penalty is None else values + penalty


@dataclass
class ContinualResults:
    """The accuracy matrix `(experiences, experiences)` and the measures made from it."""

    accuracy_matrix: np.ndarray
    history: list[dict[str, list[float]]] = field(default_factory=list)

    @property
    def average_accuracy(self) -> float:
        """The mean accuracy over all experiences after the last one."""
        return float(self.accuracy_matrix[-1].mean())

    @property
    def forgetting(self) -> float:
        """Mean over the experiences before the last of (best accuracy ever reached on it before the
        end - accuracy at the end) (Chaudhry et al. 2018); 0 for a single experience."""
        count = len(self.accuracy_matrix)
        if count < 2:
            return 0.0
        matrix = self.accuracy_matrix
        return float(np.mean([matrix[:count - 1, j].max() - matrix[-1, j] for j in range(count - 1)]))

    @property
    def backward_transfer(self) -> float:
        """Mean over the experiences before the last of (accuracy at the end - accuracy right after
        learning it) (Lopez-Paz & Ranzato 2017): negative when the model forgets."""
        count = len(self.accuracy_matrix)
        if count < 2:
            return 0.0
        matrix = self.accuracy_matrix
        return float(np.mean([matrix[-1, j] - matrix[j, j] for j in range(count - 1)]))

    def summary(self) -> dict[str, float]:
        return {"average_accuracy": self.average_accuracy, "forgetting": self.forgetting,
                "backward_transfer": self.backward_transfer}

    def plot(self, path: str | os.PathLike, title: str = "") -> str:
        """A PNG of the accuracy matrix; returns the path."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        count = len(self.accuracy_matrix)
        figure, axis = plt.subplots(figsize=(1 + 0.6 * count, 0.8 + 0.6 * count))
        image = axis.imshow(self.accuracy_matrix, vmin=0, vmax=1, cmap="viridis")
        for i in range(count):
            for j in range(count):
                axis.text(j, i, f"{self.accuracy_matrix[i, j]:.2f}", ha="center", va="center", fontsize=7,
                          color="white" if self.accuracy_matrix[i, j] < 0.6 else "black")
        axis.set_xlabel("tested on experience")
        axis.set_ylabel("after training on experience")
        axis.set_title(title or f"average accuracy {self.average_accuracy:.3f}")
        figure.colorbar(image, ax=axis)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
        return str(path)


def experience_accuracy(model: Any, experience: Experience, scenario: str, batch_size: int = 1024) -> float:
    """Accuracy on an experience's test set (among its own classes in a task-incremental stream)."""
    outputs = torch.from_numpy(model.predict(experience.x_test, batch_size=batch_size, verbose=0))
    if scenario == "task":
        allowed = torch.full((outputs.shape[1],), float("-inf"))
        allowed[list(experience.classes)] = 0.0
        outputs = torch.log(outputs.clamp_min(1e-12)) + allowed
    return float((outputs.argmax(dim=1).numpy() == experience.y_test).mean())


def check_experience(model: Any, experience: Experience) -> None:
    """A clear error when an experience does not fit the model's input or head."""
    shape = getattr(model, "input_spec_shape", None)
    if isinstance(shape, (tuple, list)) and shape and all(isinstance(d, (int, type(None))) for d in shape):
        expected = tuple(shape[1:])
        if expected and tuple(experience.x_train.shape[1:]) != expected:
            raise ValueError(f"Experience {experience.task_id} has inputs of shape {experience.x_train.shape[1:]}, but "
                             f"the model takes {expected}.")
    outputs = model.predict(experience.x_train[:1], verbose=0).shape[-1]
    if max(experience.classes) >= outputs:
        raise ValueError(f"Experience {experience.task_id} holds classes {list(experience.classes)}, but the model's "
                         f"head has {outputs} outputs (classes 0-{outputs - 1}). Give the last layer at least "
                         f"{max(experience.classes) + 1} units (one per class of the whole stream).")


def train_stream(model: Any, stream: Stream, strategy: Strategy | None = None, optimizer: Any = "adam",
                 epochs: int = 1, batch_size: int = 32, verbose: int = 0, start: int = 0,
                 accuracy_matrix: np.ndarray | None = None, checkpoint: str | os.PathLike | None = None,
                 **fit_options: Any) -> ContinualResults:
    """Trains `model` on each experience of `stream` in turn with `strategy` (default: `Naive()`),
    evaluating every experience after each one.

    Args:
        model: a classifier with one output per class of the whole stream (softmax or logits).
        optimizer: for `compile`; the same optimizer object carries on across experiences.
        epochs, batch_size, verbose, **fit_options: passed to each experience's `fit`.
        start, accuracy_matrix: resume at experience `start` (with the strategy's state loaded and the
            rows already measured).
        checkpoint: a file rewritten after each experience (weights, optimizer and strategy state,
            the matrix so far); when it exists at the start, the run resumes from it.
    Returns a `ContinualResults`.
    """
    strategy = strategy or Naive()
    count = len(stream)
    matrix = np.zeros((count, count)) if accuracy_matrix is None else np.array(accuracy_matrix, dtype=np.float64)
    from ember import optimizers as optimizers_module

    optimizer = optimizers_module.get(optimizer)
    history: list[dict[str, list[float]]] = []
    if checkpoint is not None and os.path.exists(checkpoint):
        progress = _resume(model, optimizer, strategy, stream, checkpoint)
        start, matrix, history = progress.next_experience, progress.accuracy_matrix, progress.history
    for index in range(start, count):
        experience = stream[index]
        check_experience(model, experience)
        x, targets = strategy.training_data(model, experience, stream)
        loss, targets = _loss_and_targets(model, strategy, stream, experience, targets)
        model.compile(optimizer, loss=loss)
        strategy.before_experience(model, optimizer, experience, stream)
        try:
            fitted = model.fit(x, targets, epochs=epochs, batch_size=batch_size, verbose=verbose, **fit_options)
        except BaseException:
            strategy.detach()
            raise
        history.append(fitted.history)
        strategy.after_experience(model, experience, stream)
        matrix[index] = [experience_accuracy(model, other, stream.scenario) for other in stream]
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, strategy, Progress(index + 1, matrix, history))
    return ContinualResults(matrix, history)


def _loss_and_targets(model: Any, strategy: Strategy, stream: Stream, experience: Experience,
                      targets: np.ndarray) -> tuple[Any, np.ndarray]:
    """`ContinualLoss` and the packed targets where the strategy adds loss terms or the stream is
    task-incremental; otherwise plain sparse cross-entropy on the labels (which lets `fit` take its
    fastest step, e.g. the hand-derived one of a Dense stack on the CPU)."""
    if strategy.needs_loss_terms() or stream.scenario == "task":
        return ContinualLoss(strategy, model, experience.classes if stream.scenario == "task" else None), targets
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = model(torch.as_tensor(experience.x_train[:1]).to(next(model.parameters()).device))
    model.train(was_training)
    from_logits = getattr(outputs, "_ember_logits_kind", None) != "softmax"
    return losses.SparseCategoricalCrossentropy(from_logits=from_logits), targets[:, 0].astype(np.int64)


def _resume(model: Any, optimizer: Any, strategy: Strategy, stream: Stream, path: str | os.PathLike) -> Progress:
    """Loads a checkpoint into the model (compiled with `optimizer` first, so that its state has a
    home) and the strategy; checks that it belongs to this stream."""
    check_experience(model, stream[0])
    model.compile(optimizer, loss="sparse_categorical_crossentropy")
    progress = load_checkpoint(path, model, strategy)
    if progress.accuracy_matrix.shape != (len(stream), len(stream)):
        raise ValueError(f"The checkpoint {os.fspath(path)} is of a stream of {len(progress.accuracy_matrix)} "
                         f"experiences; this stream has {len(stream)}. Use another checkpoint path for this run.")
    return progress
