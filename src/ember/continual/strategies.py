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
- `SynapticIntelligence(strength, damping)`: (Zenke et al. 2017) each weight's importance is its
  contribution to the drop of the loss along the training path, `sum -g * dw` over the steps,
  over its squared total change; the same quadratic penalty as EWC's with those importances.
- `AGEM(patterns_per_experience, sample_size)`: averaged gradient episodic memory (Chaudhry et al.
  2019): a step whose gradient would raise the loss on a sample of stored earlier data is projected
  so that it does not (`g - (g.g_ref / g_ref.g_ref) g_ref` when `g.g_ref < 0`).

EWC, SI and A-GEM act on the gradients through the optimizer's gradient hook (the penalties'
derivatives are written out, so the model keeps its fastest training step); Replay acts on the
data, LwF on the loss.
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

    def before_experience(self, model: Any, optimizer: Any, experience: Experience, stream: Stream) -> None:
        """Before training on an experience, with the (compiled) model and the optimizer that trains it."""

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        """After training on an experience (store samples, compute importances, ...)."""

    def detach(self) -> None:
        """Ends whatever `before_experience` attached (`train_stream` calls it when `fit` fails)."""

    def needs_loss_terms(self) -> bool:
        """Whether this strategy adds to the loss (`penalty` or `extra_loss` overridden): then
        `train_stream` trains with `ContinualLoss`, else with plain cross-entropy."""
        return type(self).penalty is not Strategy.penalty or type(self).extra_loss is not Strategy.extra_loss

    def state(self) -> dict[str, Any]:
        """Tensors, arrays and numbers that resume the strategy (`train_stream(..., start=k)` or
        its `checkpoint`)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restores `state()`."""


class Naive(Strategy):
    """Fine-tuning on each experience in turn, nothing more."""


class GradientStrategy(Strategy):
    """A strategy that adjusts each step's gradients (`adjust_gradients`) through the optimizer's
    gradient hook while it trains on an experience."""

    def __init__(self) -> None:
        self._handle: Any = None
        self._weights: list[torch.nn.Parameter] = []

    def before_experience(self, model: Any, optimizer: Any, experience: Experience, stream: Stream) -> None:
        self.detach()
        self._weights = [w for w in model.parameters() if w.requires_grad]
        self._handle = optimizer.register_gradient_hook(lambda _: self.adjust_gradients(self._weights))

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        self.detach()

    def detach(self) -> None:
        """Takes the hook off the optimizer."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def adjust_gradients(self, weights: list[torch.nn.Parameter]) -> None:
        """Reads and changes the weights' `.grad` in place, before the optimizer's update."""


class Replay(Strategy):
    """Experience replay from a buffer of at most `buffer_size` stored samples.

    Args:
        buffer_size: the samples kept (> 0).
        replay_share: None: the buffer is added once to each experience's data; a fraction (e.g.
            0.5, as Avalanche's replay batches): stored samples are drawn again, with replacement,
            until they make that share of the training data, so that old classes are not outnumbered.
        policy: "reservoir" (every sample seen so far equally likely to be in the buffer, Vitter's
            algorithm) or "class_balanced" (an equal share for each class seen).
        seed: the random draws.
    """

    def __init__(self, buffer_size: int = 1000, policy: str = "reservoir", seed: int | None = 0,
                 replay_share: float | None = None) -> None:
        if not isinstance(buffer_size, int) or buffer_size <= 0:
            raise ValueError(f"buffer_size must be a positive integer; got {buffer_size!r}.")
        if replay_share is not None and not 0 < replay_share < 1:
            raise ValueError(f"replay_share must be in (0, 1) or None; got {replay_share!r}.")
        self.replay_share = replay_share
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
            rows = np.arange(len(self.buffer_x))
            if self.replay_share is not None:  # stored samples drawn again until they make that share
                wanted = int(round(len(x) * self.replay_share / (1 - self.replay_share)))
                rows = self.rng.choice(rows, max(wanted, len(rows)), replace=wanted > len(rows))
            x, y = np.concatenate([x, self.buffer_x[rows]]), np.concatenate([y, self.buffer_y[rows]])
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
        self.buffer_x, self.buffer_y = _array_or_none(state["buffer_x"]), _array_or_none(state["buffer_y"])
        self.seen = int(state["seen"])


class EWC(GradientStrategy):
    """Elastic weight consolidation; see the module docstring.

    The penalty's derivative, `strength * sum_t F_t (w - w*_t)`, is added to each step's gradients
    (the update is the one through the loss; History's loss is the cross-entropy alone, and
    `penalty_value(model)` gives the term itself).

    Args:
        strength: lambda (>= 0), the penalty's weight.
        mode: "separate" (one Fisher and anchor per past experience) or "online" (one running Fisher,
            `decay * F_old + F_new`, anchored at the latest weights).
        decay: gamma of the online mode.
        fisher_samples: training samples whose per-sample gradients estimate the Fisher (all when None).
    """

    def __init__(self, strength: float, mode: str = "separate", decay: float = 1.0,
                 fisher_samples: int | None = 1000, seed: int | None = 0) -> None:
        super().__init__()
        if not isinstance(strength, (int, float)) or strength < 0:
            raise ValueError(f"EWC strength must be a number >= 0; got {strength!r}.")
        if mode not in ("separate", "online"):
            raise ValueError(f"mode must be 'separate' or 'online'; got {mode!r}.")
        self.strength, self.mode, self.decay, self.fisher_samples = float(strength), mode, float(decay), fisher_samples
        self.rng = np.random.default_rng(seed)
        self.importances: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = []  # (Fisher, anchor) pairs

    def before_experience(self, model: Any, optimizer: Any, experience: Experience, stream: Stream) -> None:
        super().before_experience(model, optimizer, experience, stream)
        device = self._weights[0].device
        self.importances = [([f.to(device) for f in fisher], [a.to(device) for a in anchor])
                            for fisher, anchor in self.importances]

    def penalty_value(self, model: Any) -> torch.Tensor:
        """`strength / 2 * sum_t sum_i F_t,i (w_i - w*_t,i)^2` for the model's current weights."""
        weights = [w for w in model.parameters() if w.requires_grad]
        return 0.5 * self.strength * sum((_weighted_square_distance(weights, fisher, anchor)
                                          for fisher, anchor in self.importances), torch.zeros(()))

    def adjust_gradients(self, weights: list[torch.nn.Parameter]) -> None:
        if self.strength:
            for fisher, anchor in self.importances:
                _add_quadratic_pull(weights, fisher, anchor, self.strength)

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        super().after_experience(model, experience, stream)
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


class SynapticIntelligence(GradientStrategy):
    """Synaptic Intelligence; see the module docstring. The penalty `strength * sum_i
    Omega_i (w_i - w*_i)^2` acts on the gradients as EWC's does. A weight whose path made the loss
    rise overall gets importance 0 (not a negative one, which would push it away from its anchor).

    Args:
        strength: c (>= 0), the penalty's weight.
        damping: xi (> 0) in `Omega = sum_steps(-g * dw) / (total change^2 + xi)`.
    """

    def __init__(self, strength: float = 1.0, damping: float = 0.1) -> None:
        super().__init__()
        if not isinstance(strength, (int, float)) or strength < 0:
            raise ValueError(f"SynapticIntelligence strength must be a number >= 0; got {strength!r}.")
        if not isinstance(damping, (int, float)) or damping <= 0:
            raise ValueError(f"SynapticIntelligence damping must be a number > 0; got {damping!r}.")
        self.strength, self.damping = float(strength), float(damping)
        self.importance: list[torch.Tensor] | None = None  # Omega, summed over the experiences so far
        self.anchor: list[torch.Tensor] | None = None
        self._path: list[torch.Tensor] = []  # this experience's sum of -g * dw
        self._start: list[torch.Tensor] = []
        self._previous: list[torch.Tensor] = []
        self._gradient: list[torch.Tensor] = []
        self._stepped = False  # whether _gradient and _previous hold a step not yet in the path

    def before_experience(self, model: Any, optimizer: Any, experience: Experience, stream: Stream) -> None:
        super().before_experience(model, optimizer, experience, stream)
        if self.importance is not None:
            device = self._weights[0].device
            self.importance, self.anchor = [t.to(device) for t in self.importance], [t.to(device) for t in self.anchor]
        self._start = [w.detach().clone() for w in self._weights]
        self._previous = [w.detach().clone() for w in self._weights]
        self._path = [torch.zeros_like(w) for w in self._weights]
        self._gradient = [torch.zeros_like(w) for w in self._weights]  # the last step's, filled in place
        self._stepped = False

    def adjust_gradients(self, weights: list[torch.nn.Parameter]) -> None:
        with torch.no_grad():
            self._add_last_step(weights)
            torch._foreach_copy_(self._gradient, [_gradient_or_zeros(w) for w in weights])  # the task's gradient
            torch._foreach_copy_(self._previous, [w.detach() for w in weights])
            self._stepped = True
            if self.importance is not None and self.strength:
                _add_quadratic_pull(weights, self.importance, self.anchor, 2.0 * self.strength)

    def _add_last_step(self, weights: list[torch.nn.Parameter]) -> None:
        """Adds the previous step's `-g * dw` (its update is now in the weights) to the path."""
        if self._stepped:
            change = torch._foreach_sub([w.detach() for w in weights], self._previous)
            torch._foreach_addcmul_(self._path, self._gradient, change, value=-1.0)

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        weights = self._weights
        super().after_experience(model, experience, stream)
        with torch.no_grad():
            self._add_last_step(weights)
            now = [w.detach().clone() for w in weights]
            total = torch._foreach_sub(now, self._start)
            new = [(path / (change.square() + self.damping)).clamp_min(0.0) for path, change in zip(self._path, total)]
            self.importance = new if self.importance is None else torch._foreach_add(self.importance, new)
            self.anchor = now
        self._stepped = False

    def penalty_value(self, model: Any) -> torch.Tensor:
        """`strength * sum_i Omega_i (w_i - w*_i)^2` for the model's current weights."""
        if self.importance is None:
            return torch.zeros(())
        weights = [w for w in model.parameters() if w.requires_grad]
        return self.strength * _weighted_square_distance(weights, self.importance, self.anchor)

    def state(self) -> dict[str, Any]:
        if self.importance is None:
            return {}
        return {"importance": [t.cpu() for t in self.importance], "anchor": [t.cpu() for t in self.anchor]}

    def load_state(self, state: dict[str, Any]) -> None:
        self.importance = list(state["importance"]) if state.get("importance") else None
        self.anchor = list(state["anchor"]) if state.get("anchor") else None


class AGEM(GradientStrategy):
    """Averaged gradient episodic memory; see the module docstring.

    Args:
        patterns_per_experience: samples of each experience kept in the memory (> 0).
        sample_size: memory samples drawn at each step for the reference gradient (> 0).
        seed: the draws.
    """

    def __init__(self, patterns_per_experience: int = 256, sample_size: int = 256, seed: int | None = 0) -> None:
        super().__init__()
        for name, value in (("patterns_per_experience", patterns_per_experience), ("sample_size", sample_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"AGEM {name} must be a positive integer; got {value!r}.")
        self.patterns_per_experience, self.sample_size = patterns_per_experience, sample_size
        self.rng = np.random.default_rng(seed)
        self.memory_x: np.ndarray | None = None
        self.memory_y: np.ndarray | None = None
        self.memory_classes: np.ndarray | None = None  # (n, outputs) True where a sample's task allows
        self._model: Any = None
        self._memory: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # x, y, classes on the device
        self._scenario = "class"

    def before_experience(self, model: Any, optimizer: Any, experience: Experience, stream: Stream) -> None:
        super().before_experience(model, optimizer, experience, stream)
        self._model, self._scenario = model, stream.scenario
        self._memory = None
        if self.memory_x is not None:  # on the device once per experience, not at every step
            device = self._weights[0].device
            self._memory = tuple(torch.as_tensor(array).to(device)
                                 for array in (self.memory_x, self.memory_y.astype(np.int64), self.memory_classes))

    def adjust_gradients(self, weights: list[torch.nn.Parameter]) -> None:
        if self._memory is None:
            return
        memory_x, memory_y, memory_classes = self._memory
        rows = torch.as_tensor(self.rng.choice(len(memory_x), min(self.sample_size, len(memory_x)), replace=False),
                               device=memory_x.device)
        with torch.enable_grad():
            log_probabilities = masked_log_probabilities(self._model(memory_x[rows]))
            if self._scenario == "task":
                allowed = torch.zeros(log_probabilities.shape, dtype=torch.bool, device=memory_x.device)
                allowed[:, :memory_classes.shape[1]] = memory_classes[rows]
                log_probabilities = torch.log_softmax(log_probabilities.masked_fill(~allowed, float("-inf")), dim=1)
            loss = F.nll_loss(log_probabilities, memory_y[rows])
            reference = torch.autograd.grad(loss, weights, allow_unused=True)
        with torch.no_grad():
            pairs = [(w.grad, r) for w, r in zip(weights, reference) if w.grad is not None and r is not None]
            if not pairs:
                return
            gradients, references = [g for g, _ in pairs], [r for _, r in pairs]
            dot = torch.stack([(g * r).sum() for g, r in pairs]).sum()
            norm = torch.stack([r.square().sum() for r in references]).sum()
            scale = dot.clamp(max=0.0) / (norm + 1e-12)  # 0 unless the step would raise the memory's loss
            torch._foreach_add_(gradients, torch._foreach_mul(references, -scale))

    def after_experience(self, model: Any, experience: Experience, stream: Stream) -> None:
        super().after_experience(model, experience, stream)
        count = min(self.patterns_per_experience, len(experience.x_train))
        rows = self.rng.choice(len(experience.x_train), count, replace=False)
        outputs = stream.num_classes
        allowed = np.zeros((count, outputs), dtype=bool)
        allowed[:, list(experience.classes)] = True
        x, y = experience.x_train[rows], experience.y_train[rows]
        if self.memory_x is None:
            self.memory_x, self.memory_y, self.memory_classes = x, y, allowed
        else:
            self.memory_x = np.concatenate([self.memory_x, x])
            self.memory_y = np.concatenate([self.memory_y, y])
            self.memory_classes = np.concatenate([self.memory_classes, allowed])
        self._model, self._memory = None, None

    def state(self) -> dict[str, Any]:
        if self.memory_x is None:
            return {}
        return {"memory_x": self.memory_x, "memory_y": self.memory_y, "memory_classes": self.memory_classes}

    def load_state(self, state: dict[str, Any]) -> None:
        self.memory_x, self.memory_y = _array_or_none(state.get("memory_x")), _array_or_none(state.get("memory_y"))
        self.memory_classes = _array_or_none(state.get("memory_classes"))


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


def _weighted_square_distance(weights: list[torch.Tensor], importance: list[torch.Tensor],
                              anchor: list[torch.Tensor]) -> torch.Tensor:
    """`sum_i importance_i (w_i - anchor_i)^2` over all the tensors."""
    return torch.stack([(i * (w - a).square()).sum() for w, i, a in zip(weights, importance, anchor)]).sum()


def _add_quadratic_pull(weights: list[torch.nn.Parameter], importance: list[torch.Tensor],
                        anchor: list[torch.Tensor], scale: float) -> None:
    """Adds `scale * importance * (w - anchor)` (the derivative of `scale / 2 * importance * (w - anchor)^2`)
    to the gradients of the weights that have one."""
    with torch.no_grad():
        rows = [i for i, w in enumerate(weights) if w.grad is not None]
        pull = torch._foreach_sub([weights[i].detach() for i in rows], [anchor[i] for i in rows])
        torch._foreach_mul_(pull, [importance[i] for i in rows])
        torch._foreach_add_([weights[i].grad for i in rows], pull, alpha=scale)


def _gradient_or_zeros(weight: torch.nn.Parameter) -> torch.Tensor:
    return weight.grad if weight.grad is not None else torch.zeros_like(weight)


def _array_or_none(value: Any) -> np.ndarray | None:
    """A stored array back as NumPy (states come back from a checkpoint as tensors)."""
    if value is None:
        return None
    return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
