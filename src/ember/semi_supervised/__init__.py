"""Semi-supervised learning as a training mode of ordinary classifiers: a few labeled samples plus
many unlabeled ones, through `fit(x, y, unlabeled_x=u, semi_supervised=FixMatch())`.

Each step takes a labeled batch (weakly augmented, as FixMatch does) and `unlabeled_ratio` times as
many unlabeled samples. The model's own prediction on a weakly augmented view of each unlabeled
sample becomes its pseudo-label where the model is confident (`threshold`); the cross-entropy of
the prediction on a strongly augmented view against it is added to the labeled loss, weighted by
`unlabeled_weight`.

- `FixMatch` (Sohn et al. 2020): weak = a random shift by whole pixels; strong = a random affine,
  contrast, then Cutout of up to half the side; threshold 0.95, ratio 7, weight 1.
- `distribution_alignment=True` (ReMixMatch, Berthelot et al. 2020): each pseudo-label
  distribution is scaled by (labeled class frequencies) / (the model's recent mean prediction on
  unlabeled samples) and renormalized, so that no class can take over the pseudo-labels.
- `FlexMatch` (Zhang et al. 2021): FixMatch with a threshold per class that follows how many
  unlabeled samples the model already predicts confidently as that class (curriculum pseudo-
  labelling): classes it has not learned yet get lower thresholds, and early on every
  pseudo-label counts, so training takes off sooner.
- `PseudoLabel` (Lee 2013): no augmentation by default; the weight ramps up from 0 over
  `rampup_steps` steps, since early pseudo-labels are mostly wrong.

Augmentations run on the device on whole batches, each sample drawn afresh. Images are
channels-last `(batch, height, width, channels)`; give `weak=`/`strong=` callables
`(batch tensor, torch.Generator | None) -> batch tensor` for other data.

Files: `augment.py` (the augmentations), `pseudo_labels.py` (thresholds and alignment: which
pseudo-labels count), `methods.py` (the methods and `get`).
"""

from ember.semi_supervised.augment import (Augmentation, cutout, identity, random_affine, random_contrast,
                                           random_translate, strong_augment, weak_augment)
from ember.semi_supervised.methods import (CLASSIFICATION_LOSSES, METHODS, FixMatch, FlexMatch, PseudoLabel,
                                           SemiSupervisedMethod, get)
from ember.semi_supervised.pseudo_labels import (CurriculumThresholds, DistributionAlignment, FixedThreshold,
                                                 label_frequencies)

__all__ = ["FixMatch", "FlexMatch", "PseudoLabel", "SemiSupervisedMethod", "DistributionAlignment", "FixedThreshold",
           "CurriculumThresholds", "label_frequencies", "Augmentation", "weak_augment", "strong_augment",
           "random_affine", "random_contrast", "random_translate", "cutout", "identity", "get"]
