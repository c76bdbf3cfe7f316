"""Continual-learning strategies: what happens around each experience so that a model keeps what
it learned before. Each plugs into `fit` through the training data (replay), the loss (EWC's
penalty, LwF's distillation) or both; `train_stream` drives them.

- `Naive()`: plain fine-tuning on each experience (the lower bound).
- `Replay(buffer_size, policy="reservoir" | "class_balanced")`: stored samples of earlier
  experiences are trained on again with each new one.
- `EWC(strength, mode="separate" | "online", decay=1.0)`: elastic weight consolidation (Kirkpatrick
  et al. 2017): `strength / 2 * sum_i F_i (w_i - w*_i)^2`, F the diagonal empirical Fisher at the
  end of each experience; "online" keeps one decayed running Fisher (Schwarz et al. 2018).
- `LwF(alpha, temperature)`: learning without forgetting (Li & Hoiem 2016): the outputs of the model
  as it was before the experience, on the new data, are distilled into it for the old classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember import losses
from ember.continual.stream import Experience, Stream


class Strategy:
    """The hooks `train_stream` calls; the base class is naive fine-tuning."""

    def training_data(self, model: Any, experience: Experience, stream: Stream) -> tuple[np.ndarray, np.ndarray]:
        """The arrays `fit` trains on for this experience: `(x, targets)`, targets `(n, 1 + extra)`
        with the class in column 0 and whatever the loss terms need after it."""
        return experience.x_train, experience.y_train[:, None].astype(np.float32)

    def penalty(self, model: Any) -> torch.Tensor | None:
        """A scalar added to every batch's loss (None: nothing)."""
        return None

    def extra_loss(self, targets: torch.Tensor, log_probabilities: torch.Tensor) -> torch.Tensor | None:
        """Per-sample loss terms from the packed targets' extra columns (None: nothing)."""
        return None

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        """After training on an experience (store samples, compute importances, ...)."""

    def state(self) -> dict[str, Any]:
        """Arrays and numbers that resume the strategy (`train_stream(..., start=k)`)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restores `state()`."""


class Naive(Strategy):
    """Fine-tuning on each experience in turn, nothing more."""


class Replay(Strategy):
    """Experience replay from a buffer of at most `buffer_size` stored samples.

    Args:
        buffer_size: the samples kept (> 0).
        policy: "reservoir" (every sample seen so far equally likely to be in the buffer, Vitter's
            algorithm) or "class_balanced" (an equal share for each class seen).
        seed: the random draws.
    """

    def __init__(self, buffer_size: int = 1000, policy: str = "reservoir", seed: int | None = 0) -> None:
        if not isinstance(buffer_size, int) or buffer_size <= 0:
            raise ValueError(f"buffer_size must be a positive integer; got {buffer_size!r}.")
        if policy not in ("reservoir", "class_balanced"):
            raise ValueError(f"policy must be 'reservoir' or 'class_balanced'; got {policy!r}.")
        self.buffer_size, self.policy = buffer_size, policy
        self.rng = np.random.default_rng(seed)
        self.buffer_x: np.ndarray | None = None
        self.buffer_y: np.ndarray | None = None
        self.seen = 0

    def training_data(self, model: Any, experience: Experience, stream: Stream) -> tuple[np.ndarray, np.ndarray]:
        x, y = experience.x_train, experience.y_train
        if self.buffer_x is not None:
            x, y = np.concatenate([x, self.buffer_x]), np.concatenate([y, self.buffer_y])
        return x, y[:, None].astype(np.float32)

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        self.add(experience.x_train, experience.y_train)

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Offers new samples to the buffer (in a random order)."""
        if self.policy == "reservoir":
            self._reservoir(x, y)
        else:
            self._class_balanced(x, y)

    def _reservoir(self, x: np.ndarray, y: np.ndarray) -> None:
        keep_x = list(self.buffer_x) if self.buffer_x is not None else []
        keep_y = list(self.buffer_y) if self.buffer_y is not None else []
        for index in self.rng.permutation(len(x)):
            self.seen += 1
            if len(keep_x) < self.buffer_size:
                keep_x.append(x[index])
                keep_y.append(y[index])
            else:
                slot = int(self.rng.integers(0, self.seen))
                if slot < self.buffer_size:
                    keep_x[slot], keep_y[slot] = x[index], y[index]
        self.buffer_x, self.buffer_y = np.stack(keep_x), np.asarray(keep_y)

    def _class_balanced(self, x: np.ndarray, y: np.ndarray) -> None:
        all_x = x if self.buffer_x is None else np.concatenate([self.buffer_x, x])
        all_y = y if self.buffer_y is None else np.concatenate([self.buffer_y, y])
        classes = np.unique(all_y)
        share = self.buffer_size // len(classes)
        rows = np.concatenate([self.rng.permutation(np.flatnonzero(all_y == c))[:share] for c in classes])
        self.buffer_x, self.buffer_y = all_x[rows], all_y[rows]
        self.seen += len(x)

    def state(self) -> dict[str, Any]:
        return {"buffer_x": self.buffer_x, "buffer_y": self.buffer_y, "seen": self.seen}

    def load_state(self, state: dict[str, Any]) -> None:
        self.buffer_x, self.buffer_y, self.seen = state["buffer_x"], state["buffer_y"], int(state["seen"])


class EWC(Strategy):
    """Elastic weight consolidation; see the module docstring.

    Args:
        strength: lambda (>= 0), the penalty's weight.
        mode: "separate" (one Fisher and anchor per past experience) or "online" (one running Fisher,
            `decay * F_old + F_new`, anchored at the latest weights).
        decay: gamma of the online mode.
        fisher_samples: training samples whose per-sample gradients estimate the Fisher (all when None).
    """

    def __init__(self, strength: float, mode: str = "separate", decay: float = 1.0,
                 fisher_samples: int | None = 1000, seed: int | None = 0) -> None:
        if not isinstance(strength, (int, float)) or strength < 0:
            raise ValueError(f"EWC strength must be a number >= 0; got {strength!r}.")
        if mode not in ("separate", "online"):
            raise ValueError(f"mode must be 'separate' or 'online'; got {mode!r}.")
        self.strength, self.mode, self.decay, self.fisher_samples = float(strength), mode, float(decay), fisher_samples
        self.rng = np.random.default_rng(seed)
        self.importances: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = []  # (Fisher, anchor) pairs

    def penalty(self, model: Any) -> torch.Tensor | None:
        if not self.importances or not self.strength:
            return None
        weights = [w for w in model.parameters() if w.requires_grad]
        total = None
        for fisher, anchor in self.importances:
            differences = torch._foreach_sub(weights, anchor)
            terms = torch._foreach_mul(torch._foreach_mul(differences, differences), fisher)
            value = torch.stack([term.sum() for term in terms]).sum()
            total = value if total is None else total + value
        return 0.5 * self.strength * total

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        rows = np.arange(len(experience.x_train))
        if self.fisher_samples is not None and len(rows) > self.fisher_samples:
            rows = self.rng.choice(rows, self.fisher_samples, replace=False)
        fisher = fisher_diagonal(model, experience.x_train[rows], experience.y_train[rows],
                                 experience.classes if stream.scenario == "task" else None)
        anchor = [w.detach().clone() for w in model.parameters() if w.requires_grad]
        if self.mode == "online" and self.importances:
            previous, _ = self.importances[0]
            fisher = [self.decay * old + new for old, new in zip(previous, fisher)]
            self.importances = []
        self.importances.append((fisher, anchor))

    def state(self) -> dict[str, Any]:
        return {"importances": [([f.cpu() for f in fisher], [a.cpu() for a in anchor])
                                for fisher, anchor in self.importances]}

    def load_state(self, state: dict[str, Any]) -> None:
        self.importances = [(list(fisher), list(anchor)) for fisher, anchor in state["importances"]]


class LwF(Strategy):
    """Learning without forgetting; see the module docstring.

    Args:
        alpha: the distillation term's weight.
        temperature: softens both distributions (2 in the paper).
    """

    def __init__(self, alpha: float = 1.0, temperature: float = 2.0) -> None:
        if alpha < 0 or temperature <= 0:
            raise ValueError(f"alpha must be >= 0 and temperature > 0; got {alpha!r} and {temperature!r}.")
        self.alpha, self.temperature = float(alpha), float(temperature)
        self.old_classes: list[int] = []

    def training_data(self, model: Any, experience: Experience, stream: Stream) -> tuple[np.ndarray, np.ndarray]:
        labels = experience.y_train[:, None].astype(np.float32)
        if not self.old_classes:
            return experience.x_train, labels
        probabilities = model.predict(experience.x_train, batch_size=1024, verbose=0)
        logits = np.log(np.clip(probabilities[:, self.old_classes], 1e-7, None))  # the old model's view
        soft = torch.softmax(torch.from_numpy(logits) / self.temperature, dim=1).numpy()
        return experience.x_train, np.concatenate([labels, soft.astype(np.float32)], axis=1)

    def extra_loss(self, targets: torch.Tensor, log_probabilities: torch.Tensor) -> torch.Tensor | None:
        if targets.shape[1] == 1 or not self.old_classes:
            return None
        old = log_probabilities[:, self.old_classes] / self.temperature
        distilled = -(targets[:, 1:] * F.log_softmax(old, dim=1)).sum(dim=1)
        return self.alpha * self.temperature ** 2 * distilled

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        self.old_classes = sorted(set(self.old_classes) | set(experience.classes))

    def state(self) -> dict[str, Any]:
        return {"old_classes": list(self.old_classes)}

    def load_state(self, state: dict[str, Any]) -> None:
        self.old_classes = [int(c) for c in state["old_classes"]]


def fisher_diagonal(model: Any, x: np.ndarray, y: np.ndarray, classes: tuple[int, ...] | None = None) -> list[torch.Tensor]:
    """The diagonal empirical Fisher: the mean over samples of each weight's squared gradient of
    the sample's log-likelihood of its label (restricted to `classes` in a task-incremental stream)."""
    weights = [w for w in model.parameters() if w.requires_grad]
    totals = [torch.zeros_like(w) for w in weights]
    device = weights[0].device
    was_training = model.training
    model.eval()
    for index in range(len(x)):
        sample = torch.as_tensor(x[index:index + 1]).to(device)
        log_probabilities = masked_log_probabilities(model(sample), classes)
        gradients = torch.autograd.grad(log_probabilities[0, int(y[index])], weights)
        for total, gradient in zip(totals, gradients):
            total.add_(gradient.square())
    model.train(was_training)
    return [total / max(len(x), 1) for total in totals]


def masked_log_probabilities(outputs: torch.Tensor, classes: Any = None) -> torch.Tensor:
    """Log-probabilities `(batch, classes)` of a classifier ending in a softmax activation (or
    giving logits); with `classes`, renormalized over those only (the others -inf): a multi-head
    model's view of one task."""
    from_logits = getattr(outputs, "_ember_logits_kind", None) != "softmax"
    log_probabilities = losses.log_probabilities(outputs, from_logits=from_logits)
    if classes is None:
        return log_probabilities
    mask = torch.full_like(log_probabilities, float("-inf"))
    mask[:, list(classes)] = 0.0
    return torch.log_softmax(log_probabilities + mask, dim=1)
