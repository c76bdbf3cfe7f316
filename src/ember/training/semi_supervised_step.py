"""The semi-supervised training step: the compiled loss on a labeled batch plus the pseudo-label
loss on unlabeled samples (`ember.semi_supervised`), with `unlabeled_loss` and `pseudo_label_rate`
(the share of unlabeled samples confident enough to count) logged while training.

The unlabeled samples live on the device; each step takes the next `unlabeled_ratio * batch`
of a permutation that is drawn afresh whenever it runs out.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
import torch.nn.functional as F

from ember import losses, metrics as metrics_module
from ember import semi_supervised
from ember.training.autograd_step import EagerStep
from ember.training.objectives import Objectives
from ember.training.step import extra_losses


class SemiSupervisedLogs:
    """The compiled objectives, plus the unlabeled trackers while training (not in validation)."""

    def __init__(self, objectives: Objectives) -> None:
        self.objectives = objectives
        self.unlabeled_loss = metrics_module.Mean("unlabeled_loss")
        self.pseudo_label_rate = metrics_module.Mean("pseudo_label_rate")
        self.training = False

    @property
    def loss_tracker(self) -> Any:
        return self.objectives.loss_tracker

    def to(self, device: torch.device) -> "SemiSupervisedLogs":
        self.objectives.to(device)
        self.unlabeled_loss.to(device)
        self.pseudo_label_rate.to(device)
        return self

    def reset(self) -> None:
        self.objectives.reset()
        self.unlabeled_loss.reset_state()
        self.pseudo_label_rate.reset_state()

    def results(self) -> dict[str, torch.Tensor]:
        values = self.objectives.results()
        if self.training:
            values.update({tracker.name: tracker.result() for tracker in (self.unlabeled_loss, self.pseudo_label_rate)})
        return values

    def __getattr__(self, name: str) -> Any:  # the rest of Objectives' interface (update, resolve, ...)
        return getattr(self.objectives, name)


class SemiSupervisedStep(EagerStep):
    """`EagerStep` whose training loss adds the unlabeled term of `method`."""

    kind = "semi_supervised"

    def __init__(self, model: Any, logs: SemiSupervisedLogs, optimizer: Any, precision: Any, scale_loss: bool,
                 unlabeled: torch.Tensor, method: semi_supervised.SemiSupervisedMethod) -> None:
        super().__init__(model, logs.objectives, optimizer, precision, scale_loss)
        self.logs, self.unlabeled, self.method = logs, unlabeled, method
        self.from_logits = bool(getattr(logs.objectives.losses[0], "arguments", {}).get("from_logits", False))
        self.generator = None if method.seed is None else \
            torch.Generator(device=unlabeled.device).manual_seed(int(method.seed))
        self.order, self.position, self.steps_taken = torch.empty(0, dtype=torch.long), 0, 0
        self.alignment = semi_supervised.DistributionAlignment() if method.distribution_alignment else None
        self.thresholds = method.thresholds(len(unlabeled))

    def next_unlabeled(self, count: int) -> torch.Tensor:
        """The indices of the next `count` unlabeled samples of the current permutation (a new one
        when it runs out)."""
        if self.position + count > len(self.order):
            self.order = torch.randperm(len(self.unlabeled), device=self.unlabeled.device, generator=self.generator)
            self.position = 0
        rows = self.order[self.position:self.position + count]
        self.position += count
        return rows

    def log_probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        """`(batch, classes)` log-probabilities from the model's logits or probabilities."""
        return losses.log_probabilities(outputs, self.from_logits)

    def forward_and_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[torch.Tensor, Any]:
        """In training, one forward pass over the weakly augmented labeled batch with the unlabeled
        samples' weak views, and one over their strong views that leaves batch normalization's moving
        statistics as they were: the strong views (Cutout, contrast) would pull them away from the
        data the model sees in inference."""
        self.logs.training = self.model.training
        if not self.model.training:
            return super().forward_and_loss(x, y, sample_weight)
        method = self.method
        rows = self.next_unlabeled(method.unlabeled_ratio * len(x))
        samples = self.unlabeled[rows]
        with torch.no_grad():
            labeled_view = method.weak(x, self.generator)
            weak, strong = method.weak(samples, self.generator), method.strong(samples, self.generator)
        outputs = self.model(torch.cat([labeled_view, weak]))
        with moving_statistics_kept(self.model):
            strong_outputs = self.model(strong)
        labeled, count = rows_of(outputs, 0, len(x)), len(samples)
        loss = self.objectives.compute_loss(y, labeled, sample_weight, extra_losses(self._loss_layers))
        with torch.no_grad():
            probabilities = self.log_probabilities(outputs)[len(x):].exp()
            if self.alignment is not None:
                classes = probabilities.shape[-1]
                probabilities = self.alignment(probabilities, semi_supervised.label_frequencies(y, classes))
            pseudo_labels = probabilities.argmax(dim=-1)
            confident = self.thresholds(probabilities, rows)
        unlabeled_loss = (F.nll_loss(self.log_probabilities(strong_outputs), pseudo_labels, reduction="none")
                          * confident).mean()
        with torch.no_grad():
            self.logs.unlabeled_loss.update_with_batch_mean(unlabeled_loss, count)
            self.logs.pseudo_label_rate.update_with_batch_mean(confident.mean(), count)
        weight = method.weight_at(self.steps_taken)
        self.steps_taken += 1
        return loss + weight * unlabeled_loss, labeled

    def test(self, batch: tuple) -> None:
        self.logs.training = False
        super().test(batch)


@contextlib.contextmanager
def moving_statistics_kept(model: torch.nn.Module) -> Iterator[None]:
    """Batch normalization layers (ember's and torch's) keep their moving statistics inside: a
    training-mode forward pass normalizes with its batch's statistics but records none (the update
    runs with a weight of 0 for the batch, since autograd may hold the statistics tensors)."""
    changed = []
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):  # momentum: the new batch's weight
            changed.append((module, module.momentum, module.num_batches_tracked.clone()))
            module.momentum = 0.0
        elif isinstance(getattr(module, "moving_mean", None), torch.Tensor) and hasattr(module, "momentum"):
            changed.append((module, module.momentum, None))  # Keras's momentum: the old statistics' weight
            module.momentum = 1.0
    try:
        yield
    finally:
        for module, momentum, count in changed:
            module.momentum = momentum
            if count is not None:
                module.num_batches_tracked.copy_(count)


def rows_of(outputs: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """Rows `start:stop` of a model's outputs, keeping the logits a softmax layer attached (the
    stable fused cross-entropy reads them)."""
    part = outputs[start:stop]
    logits = getattr(outputs, "_ember_logits", None)
    if logits is not None:
        part._ember_logits, part._ember_logits_kind = logits[start:stop], outputs._ember_logits_kind
    return part


def prepare_unlabeled(unlabeled_x: Any, x: Any, device: torch.device) -> torch.Tensor:
    """The unlabeled samples as one device tensor, checked against the labeled inputs' shape."""
    from ember.data import arrays

    if not isinstance(x, (torch.Tensor,)) and not hasattr(x, "shape"):
        raise ValueError("Semi-supervised fit takes the labeled inputs x as one array (not a dataset or a list of "
                         "inputs), with unlabeled_x an array of the same sample shape.")
    unlabeled = arrays.to_tensor(unlabeled_x, "unlabeled_x")
    if tuple(unlabeled.shape[1:]) != tuple(x.shape[1:]):
        raise ValueError(f"unlabeled_x has samples of shape {tuple(unlabeled.shape[1:])}, but x has samples of shape "
                         f"{tuple(x.shape[1:])}: they must match.")
    if len(unlabeled) == 0:
        raise ValueError("unlabeled_x is empty; pass the unlabeled samples, or fit without unlabeled_x.")
    arrays.check_finite(unlabeled, "unlabeled_x")
    return unlabeled.to(device)


def repeat_labeled(x: Any, y: Any, sample_weight: Any, unlabeled_count: int, ratio: int) -> tuple[Any, Any, Any]:
    """The labeled arrays repeated so that an epoch, one pass over the unlabeled samples at `ratio`
    unlabeled per labeled sample, sees each labeled sample about equally often."""
    import numpy as np

    wanted = -(-unlabeled_count // ratio)
    copies = max(1, -(-wanted // len(x)))
    if copies == 1:
        return x, y, sample_weight
    repeat = (lambda a: None if a is None else
              (a.repeat(copies, *[1] * (a.ndim - 1)) if isinstance(a, torch.Tensor)
               else np.concatenate([np.asarray(a)] * copies)))
    return repeat(x), repeat(y), repeat(sample_weight)
