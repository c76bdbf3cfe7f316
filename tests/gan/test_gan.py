"""GAN and ConditionalGAN: the two steps touch only their own network, bookkeeping, losses,
gradient penalty, weight averaging, save/resume, sampling and the checks on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import layers, models, optimizers
from ember.gan import adversarial
from ember.gan.step import GANStep, GANTrackers

LATENT = 8


def _generator(latent: int = LATENT, image: int = 8) -> models.Sequential:
    return models.Sequential([layers.Input((latent,)), layers.Dense(4 * 4 * 4), layers.LeakyReLU(0.2),
                              layers.Reshape((4, 4, 4)),
                              layers.Conv2DTranspose(1, 3, strides=image // 4, padding="same", activation="tanh")])


def _discriminator(channels: int = 1, image: int = 8) -> models.Sequential:
    return models.Sequential([layers.Input((image, image, channels)), layers.Conv2D(4, 3, strides=2, padding="same"),
                              layers.LeakyReLU(0.2), layers.Flatten(), layers.Dense(1)])


def _images(count: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.tanh(rng.normal(size=(count, 8, 8, 1))).astype("float32")


def _gan(**compile_arguments) -> ember.gan.GAN:
    gan = ember.gan.GAN(_generator(), _discriminator(), latent_dim=LATENT)
    gan.compile(optimizers.Adam(1e-3), optimizers.Adam(1e-3), **compile_arguments)
    return gan


def _snapshot(network) -> list[torch.Tensor]:
    return [p.detach().clone() for p in network.parameters()]


def _changed(before: list[torch.Tensor], network) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, network.parameters()))


def _step_ready(gan: ember.gan.GAN) -> GANStep:
    gan.d_optimizer.build(gan.discriminator.parameters())
    gan.g_optimizer.build(gan.generator.parameters())
    return GANStep(gan, GANTrackers())


def test_each_step_changes_only_its_own_network():
    gan = _gan()
    step = _step_ready(gan)
    real = torch.as_tensor(_images(16))
    generator_before, discriminator_before = _snapshot(gan.generator), _snapshot(gan.discriminator)
    step.discriminator_step(real, None)
    assert _changed(discriminator_before, gan.discriminator)
    assert not _changed(generator_before, gan.generator)
    discriminator_before = _snapshot(gan.discriminator)
    step.generator_step(16, None)
    assert _changed(generator_before, gan.generator)
    assert not _changed(discriminator_before, gan.discriminator)
    assert all(p.requires_grad for p in gan.discriminator.parameters())  # unfrozen again


def test_history_has_both_losses_and_accuracies_and_d_steps_thins_generator_steps():
    gan = _gan(d_steps=2)
    history = gan.fit(_images(64), epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy"}
    assert all(len(values) == 2 and np.isfinite(values).all() for values in history.history.values())
    assert gan.d_optimizer.iterations == 8 and gan.g_optimizer.iterations == 4


def test_epoch_losses_are_the_batch_weighted_means_of_the_steps():
    trackers = GANTrackers()
    trackers.d_loss.update(torch.tensor(1.0), 10)
    trackers.d_loss.update(torch.tensor(4.0), 5)
    assert float(trackers.results()["d_loss"]) == pytest.approx((10 + 20) / 15)


def test_adversarial_losses_match_their_formulas():
    real, fake = torch.tensor([[2.0], [-1.0]]), torch.tensor([[0.5], [-3.0]])
    log_sigmoid = torch.nn.functional.logsigmoid
    expected_bce = -(log_sigmoid(real).sum() + log_sigmoid(-fake).sum()) / 4
    assert float(adversarial.discriminator_loss("bce", real, fake)) == pytest.approx(float(expected_bce), rel=1e-6)
    smoothed = -(0.9 * log_sigmoid(real) + 0.1 * log_sigmoid(-real)).sum() / 4 - log_sigmoid(-fake).sum() / 4
    assert float(adversarial.discriminator_loss("bce", real, fake, 0.1)) == pytest.approx(float(smoothed), rel=1e-6)
    assert float(adversarial.discriminator_loss("hinge", real, fake)) == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2)
    assert float(adversarial.discriminator_loss("wasserstein-gp", real, fake)) == pytest.approx(-1.25 - 0.5)
    assert float(adversarial.generator_loss("bce", fake)) == pytest.approx(float(-log_sigmoid(fake).mean()))
    assert float(adversarial.generator_loss("hinge", fake)) == pytest.approx(1.25)
    real_accuracy, fake_accuracy = adversarial.decision_accuracy("bce", real, fake)
    assert (float(real_accuracy), float(fake_accuracy)) == (0.5, 0.5)


def test_sigmoid_discriminators_are_read_through_their_logits():
    output = ember.activations.sigmoid(torch.tensor([[3.0], [-2.0]]))
    assert torch.equal(adversarial.scores_of(output), torch.tensor([[3.0], [-2.0]]))


@pytest.mark.parametrize("weights, expected", [((3.0, 4.0), 16.0), ((0.6, 0.8), 0.0), ((1.0, 0.0), 0.0)])
def test_gradient_penalty_of_a_linear_critic_is_computed_by_hand(weights, expected):
    critic = layers.Dense(1, use_bias=False)
    critic.build_from_shapes((None, 2))
    critic.set_weights([np.array(weights, dtype="float32").reshape(2, 1)])
    real, fake = torch.randn(5, 2), torch.randn(5, 2)
    # the gradient of a linear critic is its weight vector everywhere: penalty = (||w|| - 1)^2
    assert float(adversarial.gradient_penalty(critic, real, fake).detach()) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("loss", ["hinge", "wasserstein-gp"])
def test_other_losses_train(loss):
    gan = _gan(loss=loss, d_steps=2 if loss == "wasserstein-gp" else 1)
    history = gan.fit(_images(32), epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["d_loss"]).all() and np.isfinite(history.history["g_loss"]).all()


def test_weight_average_follows_the_generator_with_its_decay():
    gan = _gan(ema_decay=0.9)
    step = _step_ready(gan)
    before = _snapshot(gan.generator_ema)
    assert all(torch.equal(a, b) for a, b in zip(before, gan.generator.parameters()))
    step.generator_step(8, None)
    for old, current, average in zip(before, gan.generator.parameters(), gan.generator_ema.parameters()):
        torch.testing.assert_close(average, 0.9 * old + 0.1 * current.detach())


def test_save_and_resume_continue_the_same_run(tmp_path):
    images = _images(48)
    ember.utils.set_random_seed(1)
    straight = _gan(ema_decay=0.95, label_smoothing=0.1)
    straight.fit(images, epochs=1, batch_size=16, verbose=0)
    ember.utils.set_random_seed(2)
    straight.fit(images, epochs=2, initial_epoch=1, batch_size=16, verbose=0)

    ember.utils.set_random_seed(1)
    first = _gan(ema_decay=0.95, label_smoothing=0.1)
    first.fit(images, epochs=1, batch_size=16, verbose=0)
    first.save(tmp_path / "gan.ember")
    resumed = models.load_model(tmp_path / "gan.ember")
    assert isinstance(resumed, ember.gan.GAN)
    assert (resumed.loss, resumed.label_smoothing, resumed.ema_decay) == ("bce", 0.1, 0.95)
    assert resumed.d_optimizer.iterations == first.d_optimizer.iterations == 3
    ember.utils.set_random_seed(2)
    resumed.fit(images, epochs=2, initial_epoch=1, batch_size=16, verbose=0)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_generate_uses_given_noise_and_the_average():
    gan = _gan(ema_decay=0.99)
    gan.fit(_images(32), epochs=1, batch_size=16, verbose=0)
    noise = np.random.default_rng(0).normal(size=(5, LATENT)).astype("float32")
    samples = gan.generate(noise=noise)
    assert samples.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(samples, gan.generate(noise=noise), atol=1e-6)
    assert not np.allclose(samples, gan.generate(noise=noise, use_average=False))
    assert gan.generate(3).shape == (3, 8, 8, 1)


def test_conditional_gan_feeds_labels_to_both_networks(tmp_path):
    gan = ember.gan.ConditionalGAN(_generator(LATENT + 3), _discriminator(1 + 3), latent_dim=LATENT, num_classes=3)
    gan.compile(optimizers.Adam(1e-3), optimizers.Adam(1e-3))
    labels = np.arange(32) % 3
    gan.fit(_images(32), labels, epochs=1, batch_size=16, verbose=0)
    seen = gan.discriminator_input(torch.zeros(2, 8, 8, 1), torch.tensor([0, 2]))
    assert seen.shape == (2, 8, 8, 4) and seen[0, :, :, 1].eq(1).all() and seen[1, :, :, 3].eq(1).all()
    assert gan.generate(4, labels=[0, 1, 2, 0]).shape == (4, 8, 8, 1)
    gan.save(tmp_path / "cgan.ember")
    loaded = models.load_model(tmp_path / "cgan.ember")
    assert isinstance(loaded, ember.gan.ConditionalGAN) and loaded.num_classes == 3
    noise = np.zeros((2, LATENT), "float32")
    np.testing.assert_allclose(loaded.generate(noise=noise, labels=[1, 2]), gan.generate(noise=noise, labels=[1, 2]),
                               atol=1e-6)


def test_gan_monitor_saves_a_grid_every_n_epochs(tmp_path):
    gan = _gan()
    monitor = ember.gan.GANMonitor(tmp_path / "grid_{epoch}.png", num_images=4, every=2)
    gan.fit(_images(32), epochs=4, batch_size=16, verbose=0, callbacks=[monitor])
    assert [p.split("/")[-1] for p in monitor.saved] == ["grid_2.png", "grid_4.png"]
    assert all((tmp_path / name).stat().st_size > 0 for name in ("grid_2.png", "grid_4.png"))


# ---------------------------------------------------------------------------------- bad input
def test_generator_output_that_the_discriminator_cannot_take_is_rejected_at_compile():
    gan = ember.gan.GAN(_generator(), _discriminator(image=16), latent_dim=LATENT)
    with pytest.raises(ValueError, match=r"output shape is \(None, 8, 8, 1\).*input shape is \(None, 16, 16, 1\)"):
        gan.compile()


def test_latent_dim_that_the_generator_cannot_take_is_rejected_at_compile():
    gan = ember.gan.GAN(_generator(latent=16), _discriminator(), latent_dim=LATENT)
    with pytest.raises(ValueError, match=r"inputs of shape \(None, 16\).*latent_dim \(8\)"):
        gan.compile()


def test_bad_compile_and_fit_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        _gan(loss="mse")
    with pytest.raises(ValueError, match="label_smoothing applies to the 'bce' loss only"):
        _gan(loss="hinge", label_smoothing=0.1)
    shared = optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer objects"):
        ember.gan.GAN(_generator(), _discriminator(), LATENT).compile(shared, shared)
    gan = _gan()
    with pytest.raises(ValueError, match=r"Scale them: x / 255"):
        gan.fit(_images(8) * 255, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(8, 8\) each.*x\[\.\.\., None\]"):
        gan.fit(_images(8)[..., 0], verbose=0)
    with pytest.raises(ValueError, match="pass labels \\(y\\) to a ConditionalGAN"):
        gan.fit(_images(8), np.zeros(8), verbose=0)
    conditional = ember.gan.ConditionalGAN(_generator(LATENT + 3), _discriminator(4), LATENT, num_classes=3)
    conditional.compile(optimizers.Adam(), optimizers.Adam())
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\); got values from 0 to 5"):
        conditional.fit(_images(8), np.arange(8) % 6, verbose=0)
    with pytest.raises(ValueError, match="needs class labels"):
        conditional.generate(2)
