"""Adversarial objectives: what the discriminator and the generator each minimise.

Scores are the discriminator's raw outputs (logits): a discriminator ending in
`Dense(1, activation="sigmoid")` is read through the logits its sigmoid kept, so both
`Dense(1)` and `Dense(1, activation="sigmoid")` work. Shapes: `(batch, ...)` scores, any
number per sample (one, or a patch map).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

LOSSES = ("bce", "hinge", "wasserstein-gp")


def scores_of(output: torch.Tensor) -> torch.Tensor:
    """The discriminator's logits, `(batch, -1)`."""
    if getattr(output, "_ember_logits_kind", None) == "sigmoid":
        output = output._ember_logits
    return output.reshape(output.shape[0], -1)


def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """bce: cross-entropy over the real (target 1 - label_smoothing) and fake (target 0) scores,
    averaged over both (Keras's DCGAN); hinge: mean(relu(1 - real)) + mean(relu(1 + fake));
    wasserstein-gp: mean(fake) - mean(real) (the gradient penalty is added by the caller)."""
    if kind == "bce":
        scores = torch.cat([real.reshape(-1), fake.reshape(-1)])
        targets = torch.cat([torch.full_like(real.reshape(-1), 1.0 - label_smoothing),
                             torch.zeros_like(fake.reshape(-1))])
        return F.binary_cross_entropy_with_logits(scores, targets)
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """bce: cross-entropy of the fake scores against target 1 (the non-saturating loss);
    hinge and wasserstein-gp: -mean(fake)."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    return -fake.mean()


def gradient_penalty(discriminator: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's mean((||grad_x D(x)|| - 1)^2) at random points x between real and fake samples."""
    weights = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), device=real.device, dtype=real.dtype)
    between = (weights * real + (1 - weights) * fake).requires_grad_(True)
    scores = scores_of(discriminator(between))
    (gradients,) = torch.autograd.grad(scores.sum(), between, create_graph=True)
    return ((gradients.reshape(len(gradients), -1).norm(dim=1) - 1.0) ** 2).mean()


def decision_accuracy(kind: str, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shares of real and of fake scores on the right side of the discriminator's threshold: logit 0
    (probability 0.5) for bce and hinge; for wasserstein-gp, which has none, the midpoint of the
    batch's mean real and mean fake scores."""
    threshold = (real.mean() + fake.mean()) / 2 if kind == "wasserstein-gp" else 0.0
    return (real > threshold).float().mean(), (fake < threshold).float().mean()
