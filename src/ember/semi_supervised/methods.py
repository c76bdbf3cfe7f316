"""The semi-supervised methods `fit(..., semi_supervised=...)` takes: their settings, the
augmentations they use and the pseudo-label mask each makes for a fit.
"""

from __future__ import annotations

from ember import losses
from ember.semi_supervised.augment import Augmentation, identity, strong_augment, weak_augment
from ember.semi_supervised.pseudo_labels import CurriculumThresholds, FixedThreshold


class SemiSupervisedMethod:
    """Pseudo-labels from a weak view, a loss on a strong view (see the module docstring).

    Args:
        threshold: the confidence (largest class probability) a pseudo-label needs to count.
        unlabeled_ratio: unlabeled samples per labeled sample in each step (mu in FixMatch).
        unlabeled_weight: the weight of the unlabeled loss (lambda_u).
        rampup_steps: the weight grows linearly from 0 over this many steps (0: at once).
        weak, strong: augmentations `(batch, generator) -> batch`.
        seed: seeds the augmentations and the order of the unlabeled samples.
        distribution_alignment: align the pseudo-label distributions with the labels' class
            frequencies (see `DistributionAlignment`) before thresholding them.
    """

    def __init__(self, threshold: float, unlabeled_ratio: int, unlabeled_weight: float, rampup_steps: int,
                 weak: Augmentation, strong: Augmentation, seed: int | None = None,
                 distribution_alignment: bool = False) -> None:
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1) (a class probability); got {threshold!r}.")
        if not isinstance(unlabeled_ratio, int) or unlabeled_ratio < 1:
            raise ValueError(f"unlabeled_ratio must be a positive integer (7 in FixMatch); got {unlabeled_ratio!r}.")
        if unlabeled_weight < 0 or rampup_steps < 0:
            raise ValueError(f"unlabeled_weight and rampup_steps must be >= 0; got {unlabeled_weight!r} and "
                             f"{rampup_steps!r}.")
        self.threshold, self.unlabeled_ratio = float(threshold), unlabeled_ratio
        self.unlabeled_weight, self.rampup_steps = float(unlabeled_weight), int(rampup_steps)
        self.weak, self.strong, self.seed = weak, strong, seed
        self.distribution_alignment = bool(distribution_alignment)

    def thresholds(self, samples: int) -> FixedThreshold | CurriculumThresholds:
        """The pseudo-label mask `(probabilities, rows) -> (batch,) floats` for one fit over
        `samples` unlabeled samples."""
        return FixedThreshold(self.threshold)

    def weight_at(self, step: int) -> float:
        """The unlabeled loss's weight at training step `step` (from 0)."""
        if self.rampup_steps == 0:
            return self.unlabeled_weight
        return self.unlabeled_weight * min(1.0, step / self.rampup_steps)


class FixMatch(SemiSupervisedMethod):
    """FixMatch (Sohn et al. 2020): confident pseudo-labels of weak views teach the strong views."""

    def __init__(self, threshold: float = 0.95, unlabeled_ratio: int = 7, unlabeled_weight: float = 1.0,
                 rampup_steps: int = 0, weak: Augmentation = weak_augment, strong: Augmentation = strong_augment,
                 seed: int | None = None, distribution_alignment: bool = False) -> None:
        super().__init__(threshold, unlabeled_ratio, unlabeled_weight, rampup_steps, weak, strong, seed,
                         distribution_alignment)


class FlexMatch(FixMatch):
    """FlexMatch (Zhang et al. 2021): FixMatch whose threshold is class-wise and rises with what the
    model has learned of each class (`CurriculumThresholds`); `threshold_warmup` keeps every threshold
    low while most unlabeled samples have no confident prediction yet."""

    def __init__(self, threshold: float = 0.95, unlabeled_ratio: int = 7, unlabeled_weight: float = 1.0,
                 rampup_steps: int = 0, weak: Augmentation = weak_augment, strong: Augmentation = strong_augment,
                 seed: int | None = None, distribution_alignment: bool = False, threshold_warmup: bool = True) -> None:
        super().__init__(threshold, unlabeled_ratio, unlabeled_weight, rampup_steps, weak, strong, seed,
                         distribution_alignment)
        self.threshold_warmup = bool(threshold_warmup)

    def thresholds(self, samples: int) -> CurriculumThresholds:
        return CurriculumThresholds(self.threshold, samples, self.threshold_warmup)


class PseudoLabel(SemiSupervisedMethod):
    """Pseudo-labelling (Lee 2013): the model's confident predictions on unlabeled samples become
    targets, with a weight that ramps up over `rampup_steps`."""

    def __init__(self, threshold: float = 0.95, unlabeled_ratio: int = 1, unlabeled_weight: float = 1.0,
                 rampup_steps: int = 1000, weak: Augmentation = identity, strong: Augmentation = identity,
                 seed: int | None = None, distribution_alignment: bool = False) -> None:
        super().__init__(threshold, unlabeled_ratio, unlabeled_weight, rampup_steps, weak, strong, seed,
                         distribution_alignment)


CLASSIFICATION_LOSSES = (losses.SparseCategoricalCrossentropy, losses.CategoricalCrossentropy)
METHODS = {"fixmatch": FixMatch, "flexmatch": FlexMatch, "pseudo_label": PseudoLabel}


def get(method: str | SemiSupervisedMethod | None) -> SemiSupervisedMethod:
    """A method object from a name ("fixmatch", "flexmatch", "pseudo_label"), an instance, or None
    (FixMatch)."""
    if method is None:
        return FixMatch()
    if isinstance(method, SemiSupervisedMethod):
        return method
    if isinstance(method, str) and method.lower().replace("-", "_") in METHODS:
        return METHODS[method.lower().replace("-", "_")]()
    raise ValueError(f"semi_supervised must be one of {list(METHODS)} or a FixMatch/FlexMatch/PseudoLabel object; "
                     f"got {method!r}.")


__all__ = ["SemiSupervisedMethod", "FixMatch", "FlexMatch", "PseudoLabel", "CLASSIFICATION_LOSSES", "METHODS", "get"]
