"""Continual learning: streams of experiences (`split_mnist`, `permuted_mnist`, `split_cifar10`,
`Stream.from_arrays`), strategies that keep what was learned (`Naive`, `Replay`, `EWC`, `LwF`,
`SynapticIntelligence`, `AGEM`), `train_stream` with checkpoints that resume a stream, and the
accuracy matrix with average accuracy, forgetting and backward transfer."""

from ember.continual.checkpoint import Progress, load_checkpoint, save_checkpoint
from ember.continual.strategies import (AGEM, EWC, GradientStrategy, LwF, Naive, Replay, Strategy, SynapticIntelligence,
                                     fisher_diagonal, masked_log_probabilities)
from ember.continual.stream import SCENARIOS, Experience, Stream, permuted_mnist, split_cifar10, split_mnist
from ember.continual.training import ContinualLoss, ContinualResults, experience_accuracy, train_stream

__all__ = ["Stream", "Experience", "SCENARIOS", "split_mnist", "permuted_mnist", "split_cifar10", "Strategy", "Naive",
           "Replay", "EWC", "LwF", "SynapticIntelligence", "SI", "AGEM", "GradientStrategy", "fisher_diagonal",
           "masked_log_probabilities", "train_stream", "ContinualResults", "ContinualLoss", "experience_accuracy",
           "save_checkpoint", "load_checkpoint", "Progress"]

SI = SynapticIntelligence
