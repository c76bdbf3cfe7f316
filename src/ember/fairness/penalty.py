"""A differentiable fairness penalty added to the training loss (in-processing mitigation).

The loss needs each sample's group, so the targets carry it in a second column:

    >>> model.compile("adam", loss=fairness.FairnessPenalty("binary_crossentropy", strength=2.0),
    ...               metrics=[fairness.LabelsOnly("binary_accuracy")])
    >>> model.fit(x, fairness.pack_targets(y, sex), epochs=5)

The penalty is the largest gap between groups in the batch of the mean predicted probability
(demographic parity), of that mean among positives (equal opportunity), or the larger of the gaps
among positives and among negatives (equalized odds): soft versions of the criteria in
`ember.fairness.metrics`, computed on the device without a host sync.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ember import losses, metrics, registry
from ember.fairness.metrics import group_indices

CONSTRAINTS = ("demographic_parity", "equal_opportunity", "equalized_odds")


def pack_targets(y: Any, sensitive_features: Any) -> np.ndarray:
    """Targets `(samples, 2)` for FairnessPenalty: the label, then the group's index (groups sorted)."""
    labels = np.asarray(y, dtype=np.float32).reshape(-1)
    groups, _ = group_indices(sensitive_features, len(labels))
    return np.stack([labels, groups.astype(np.float32)], axis=1)


def group_gap(probability: torch.Tensor, groups: torch.Tensor, num_groups: int,
              among: torch.Tensor | None = None) -> torch.Tensor:
    """Largest minus smallest mean of `probability` `(batch,)` over the groups present in the batch
    (restricted to the samples where `among` `(batch,)` is 1); 0 with fewer than two groups."""
    members = torch.zeros(len(groups), num_groups, dtype=probability.dtype, device=probability.device)
    members.scatter_(1, groups.unsqueeze(1), 1.0)
    if among is not None:
        members = members * among.to(probability.dtype).unsqueeze(1)
    counts = members.sum(0)
    means = (members * probability.unsqueeze(1)).sum(0) / counts.clamp_min(1.0)
    present = counts > 0
    highest = torch.where(present, means, torch.full_like(means, -torch.inf)).max()
    lowest = torch.where(present, means, torch.full_like(means, torch.inf)).min()
    return torch.where(present.sum() > 1, highest - lowest, torch.zeros_like(highest))


@registry.register_keras_serializable("ember")
class FairnessPenalty(losses.Loss):
    """`loss(labels, y_pred) + strength * gap`, with targets from `pack_targets(y, sensitive)`.

    Args:
        loss: the task's loss (a name or Loss) on the labels; the model outputs one probability
            per sample `(batch, 1)` (sigmoid), or logits with `from_logits=True`.
        strength: the weight of the penalty, >= 0 (0: the plain loss).
        constraint: one of "demographic_parity", "equal_opportunity", "equalized_odds".
        num_groups: how many groups the sensitive feature has (the second target column's range).
    """

    def __init__(self, loss: Any = "binary_crossentropy", strength: float = 1.0,
                 constraint: str = "demographic_parity", num_groups: int = 2, from_logits: bool = False,
                 name: str = "fairness_penalty", reduction: str | None = "sum_over_batch_size") -> None:
        super().__init__(name=name, reduction=reduction)
        if constraint not in CONSTRAINTS:
            raise ValueError(f"FairnessPenalty: constraint must be one of {list(CONSTRAINTS)}; got {constraint!r}.")
        if not strength >= 0:
            raise ValueError(f"FairnessPenalty: strength must be >= 0; got {strength!r}.")
        if not isinstance(num_groups, int) or num_groups < 2:
            raise ValueError(f"FairnessPenalty: num_groups must be an int >= 2; got {num_groups!r}.")
        self.loss = losses.get(loss)
        self.strength, self.constraint, self.num_groups = float(strength), constraint, num_groups
        self.from_logits = bool(from_logits)

    def __call__(self, y_true: torch.Tensor, y_pred: torch.Tensor,
                 sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        labels, groups = y_true[:, 0], y_true[:, 1].long()
        task_loss = self.loss(labels, y_pred, sample_weight)
        probability = (torch.sigmoid(y_pred) if self.from_logits else y_pred).reshape(len(labels))
        if self.constraint == "demographic_parity":
            gap = group_gap(probability, groups, self.num_groups)
        else:
            gap = group_gap(probability, groups, self.num_groups, among=labels == 1)
            if self.constraint == "equalized_odds":
                gap = torch.maximum(gap, group_gap(probability, groups, self.num_groups, among=labels == 0))
        return task_loss + self.strength * gap

    def validate_targets(self, y_true: torch.Tensor, output_shape: tuple) -> None:
        if y_true.ndim != 2 or y_true.shape[1] != 2:
            raise ValueError(f"FairnessPenalty needs targets (samples, 2) holding the label and the group; got "
                             f"shape {tuple(y_true.shape)}. Build them with fairness.pack_targets(y, sensitive).")
        if output_shape[-1:] not in ((1,), ()):
            raise ValueError(f"FairnessPenalty needs one output per sample (batch, 1); the model outputs "
                             f"{tuple(output_shape)}.")
        groups = y_true[:, 1]
        if y_true.numel() and (groups.min() < 0 or groups.max() >= self.num_groups):
            raise ValueError(f"FairnessPenalty(num_groups={self.num_groups}) got group index "
                             f"{int(groups.max().item())}; pass num_groups= the number of groups.")
        self.loss.validate_targets(y_true[:, 0], output_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "loss": losses.serialize(self.loss), "strength": self.strength,
                "constraint": self.constraint, "num_groups": self.num_groups, "from_logits": self.from_logits}


@registry.register_keras_serializable("ember")
class LabelsOnly(metrics.MeanMetricWrapper):
    """A mean metric (e.g. "binary_accuracy") on the label column of `pack_targets`' targets."""

    def __init__(self, metric: str = "binary_accuracy", name: str | None = None, dtype: Any = None) -> None:
        inner = metrics.get(metric)
        if not isinstance(inner, metrics.MeanMetricWrapper):
            raise TypeError(f"LabelsOnly wraps a mean metric such as 'binary_accuracy'; got {metric!r}.")
        function, arguments = inner.function, inner.arguments
        super().__init__(lambda y_true, y_pred: function(y_true[:, 0], y_pred, **arguments), name=name or inner.name)
        self.metric = metric

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric}
