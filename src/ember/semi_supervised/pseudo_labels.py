"""Which pseudo-labels count, and what they say: a fixed confidence threshold (FixMatch),
FlexMatch's class-wise curriculum thresholds, and ReMixMatch's distribution alignment. Each keeps
its state on the device for one fit.
"""

from __future__ import annotations

import torch


class DistributionAlignment:
    """Running class frequencies of the labels and of the model's unlabeled predictions, and the
    pseudo-label distributions aligned with them (ReMixMatch's distribution alignment).

    `momentum`: the weight of the old frequencies in each update (0.99: about the last 100 steps).
    """

    def __init__(self, momentum: float = 0.99) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"The alignment's momentum must be in [0, 1); got {momentum!r}.")
        self.momentum = float(momentum)
        self.labels: torch.Tensor | None = None
        self.predictions: torch.Tensor | None = None

    def _average(self, old: torch.Tensor | None, new: torch.Tensor) -> torch.Tensor:
        return new if old is None else self.momentum * old + (1.0 - self.momentum) * new

    def __call__(self, probabilities: torch.Tensor, label_frequencies: torch.Tensor) -> torch.Tensor:
        """`probabilities`: `(batch, classes)` predictions on unlabeled samples; `label_frequencies`:
        `(classes,)` the labeled batch's class shares. Records both, then returns the predictions times
        labels' / predictions' running frequencies, each row renormalized to sum to 1."""
        self.labels = self._average(self.labels, label_frequencies)
        self.predictions = self._average(self.predictions, probabilities.mean(dim=0))
        aligned = probabilities * (self.labels + 1e-6) / (self.predictions + 1e-6)
        return aligned / aligned.sum(dim=-1, keepdim=True)


def label_frequencies(y: torch.Tensor, classes: int) -> torch.Tensor:
    """`(classes,)` the share of each class in a batch of integer labels (`(batch,)` or `(batch, 1)`)
    or of one-hot / soft labels (`(batch, classes)`)."""
    if y.is_floating_point() and y.ndim == 2 and y.shape[-1] == classes and classes > 1:
        return y.float().mean(dim=0)
    labels = y.reshape(-1).long()
    counts = torch.zeros(classes, device=y.device).index_add_(0, labels, torch.ones(len(labels), device=y.device))
    return counts / len(labels)


class FixedThreshold:
    """Pseudo-labels count where their confidence reaches `threshold` (FixMatch)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def __call__(self, probabilities: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """`probabilities`: `(batch, classes)`. Returns `(batch,)` 1.0 where the pseudo-label (the
        likeliest class) counts, else 0.0."""
        return (probabilities.max(dim=-1).values >= self.threshold).float()


class CurriculumThresholds:
    """FlexMatch's class-wise thresholds (curriculum pseudo-labelling, Zhang et al. 2021).

    Each unlabeled sample remembers the class of its last prediction whose confidence reached
    `threshold` (none at first). A class's learning effect `beta` is its number of such samples
    over the largest class's number (with `warmup`: over the number of samples with none yet, if
    larger), and its threshold is `threshold * beta / (2 - beta)`: 0 for classes not learned yet,
    `threshold` for the best-learned class. Pseudo-labels are masked with the thresholds of the step
    before, then the memory is updated.
    """

    def __init__(self, threshold: float, samples: int, warmup: bool = True) -> None:
        self.threshold, self.samples, self.warmup = threshold, samples, warmup
        self.remembered: torch.Tensor | None = None  # (samples,) a class, or -1 for none yet
        self.counts: torch.Tensor | None = None  # (1 + classes,) samples with none yet, then per class
        self.learning_effect: torch.Tensor | None = None  # (classes,) beta, in [0, 1]

    def class_thresholds(self) -> torch.Tensor:
        """`(classes,)` the thresholds in force."""
        beta = self.learning_effect
        return self.threshold * beta / (2.0 - beta)

    def __call__(self, probabilities: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """`probabilities`: `(batch, classes)`; `rows`: `(batch,)` the samples' indices among all the
        unlabeled ones. Returns `(batch,)` 1.0 where the pseudo-label (the likeliest class) counts."""
        confidence, pseudo_labels = probabilities.max(dim=-1)
        classes = probabilities.shape[-1]
        if self.remembered is None:
            self.remembered = torch.full((self.samples,), -1, dtype=torch.long, device=probabilities.device)
            self.counts = torch.zeros(classes + 1, dtype=probabilities.dtype, device=probabilities.device)
            self.counts[0] = self.samples
            self.learning_effect = torch.zeros(classes, dtype=probabilities.dtype, device=probabilities.device)
        mask = (confidence >= self.class_thresholds()[pseudo_labels]).to(probabilities.dtype)
        # `rows` are distinct (a slice of a permutation): move each changed sample between the counts
        # instead of recounting all of them (and no host sync, as torch.bincount has on CUDA)
        before = self.remembered[rows]
        after = torch.where(confidence >= self.threshold, pseudo_labels, before)
        self.remembered[rows] = after
        ones = torch.ones_like(confidence)
        self.counts.index_add_(0, before + 1, -ones).index_add_(0, after + 1, ones)
        unused, per_class = self.counts[0], self.counts[1:]
        largest = torch.maximum(per_class.max(), unused) if self.warmup else per_class.max()
        self.learning_effect = per_class / largest.clamp(min=1.0)
        return mask


__all__ = ["DistributionAlignment", "label_frequencies", "FixedThreshold", "CurriculumThresholds"]
