"""Few-shot learning: episodes (`EpisodeSampler`), prototypical networks and MAML, trained and
evaluated through `compile`/`fit`/`evaluate`, with `adapt(support_x, support_y)` for a new task.
Omniglot loads from `ember.datasets.omniglot`."""

from ember.fewshot.episodes import EpisodeSampler, mean_and_confidence
from ember.fewshot.learners import MAML, FewShotLearner, PrototypeClassifier, PrototypicalNetwork, prototypes_of

__all__ = ["EpisodeSampler", "mean_and_confidence", "PrototypicalNetwork", "PrototypeClassifier", "MAML",
           "FewShotLearner", "prototypes_of"]
