"""One adversarial training step per batch, and the running numbers it reports.

A step trains the discriminator on the real batch and as many fresh fakes; every `d_steps`
discriminator steps, the generator takes one step through the (frozen) discriminator. Logs stay
on the device until a callback reads them: `d_loss`, `g_loss`, `d_real_accuracy`, `d_fake_accuracy`.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from ember.metrics import Mean
from ember.gan import adversarial
from ember.training.objectives import LossTracker
from ember.training.step import Step


class GANTrackers:
    """Device-side running means of the adversarial losses and the discriminator's accuracies."""

    def __init__(self) -> None:
        self.d_loss, self.g_loss = LossTracker("d_loss"), LossTracker("g_loss")
        self.real_accuracy, self.fake_accuracy = Mean("d_real_accuracy"), Mean("d_fake_accuracy")
        self._all = [self.d_loss, self.g_loss, self.real_accuracy, self.fake_accuracy]

    @property
    def loss_tracker(self) -> LossTracker:
        """The tracker whose first non-finite step TerminateOnNaN reports (one entry per batch)."""
        return self.d_loss

    def to(self, device: torch.device) -> "GANTrackers":
        for tracker in self._all:
            tracker.to(device)
        return self

    def reset(self) -> None:
        for tracker in self._all:
            tracker.reset_state()

    def results(self) -> dict[str, torch.Tensor]:
        return {tracker.name: tracker.result() for tracker in self._all}


class GANStep(Step):
    """The training step of a `GAN` (see the module docstring); `train(batch)` is all the engine calls."""

    kind = "adversarial"

    def __init__(self, gan: Any, trackers: GANTrackers) -> None:
        self.gan, self.trackers = gan, trackers
        self._discriminator_weights = [p for p in gan.discriminator.parameters() if p.requires_grad]

    def train(self, batch: tuple) -> None:
        real, labels, _ = batch
        gan, size = self.gan, real.shape[0]
        real_scores, fake_scores, d_loss = self.discriminator_step(real, labels)
        real_accuracy, fake_accuracy = adversarial.decision_accuracy(gan.loss, real_scores, fake_scores)
        self.trackers.d_loss.update(d_loss, size)
        self.trackers.real_accuracy.update_state(real_accuracy)
        self.trackers.fake_accuracy.update_state(fake_accuracy)
        if gan.d_optimizer.iterations % gan.d_steps == 0:
            self.trackers.g_loss.update(self.generator_step(size, labels), size)

    def discriminator_step(self, real: torch.Tensor, labels: torch.Tensor | None) -> tuple:
        """One discriminator update on `real` images `(batch, *image_shape)` and as many fresh fakes;
        returns (real scores, fake scores, loss). The generator is not touched."""
        gan = self.gan
        with torch.no_grad():
            fake = gan.generator(gan.generator_input(len(real), labels, real.device))
        both = gan.discriminator_input(torch.cat([real, fake]), None if labels is None else torch.cat([labels, labels]))
        scores = adversarial.scores_of(gan.discriminator(both))
        real_scores, fake_scores = scores[:len(real)], scores[len(real):]
        loss = adversarial.discriminator_loss(gan.loss, real_scores, fake_scores, gan.label_smoothing)
        if gan.loss == "wasserstein-gp":
            penalty = adversarial.gradient_penalty(
                lambda images: gan.discriminator(gan.discriminator_input(images, labels)), real, fake)
            loss = loss + gan.gradient_penalty_weight * penalty
        gan.d_optimizer.zero_grad()
        loss.backward()
        gan.d_optimizer.step()
        return real_scores.detach(), fake_scores.detach(), loss.detach()

    def generator_step(self, size: int, labels: torch.Tensor | None) -> torch.Tensor:
        """One generator update through the frozen discriminator on `size` fakes; returns the loss."""
        gan = self.gan
        with frozen(self._discriminator_weights):  # the discriminator's weights get no gradient
            fake = gan.generator(gan.generator_input(size, labels, gan.device_of_weights()))
            scores = adversarial.scores_of(gan.discriminator(gan.discriminator_input(fake, labels)))
            loss = adversarial.generator_loss(gan.loss, scores)
            gan.g_optimizer.zero_grad()
            loss.backward()
        gan.g_optimizer.step()
        gan.update_generator_average()
        return loss.detach()


@contextlib.contextmanager
def frozen(weights: list[torch.nn.Parameter]) -> Iterator[None]:
    """Turns off gradients for `weights` for the duration of the block."""
    for weight in weights:
        weight.requires_grad_(False)
    try:
        yield
    finally:
        for weight in weights:
            weight.requires_grad_(True)
