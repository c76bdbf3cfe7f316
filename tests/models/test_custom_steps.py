"""Keras 3's custom-step API on torch: models that override train_step / test_step /
compute_loss, their own trackers in `metrics`, `optimizer.apply`, a VAE and a GAN written the
keras.io way, all driven by `fit` / `evaluate` / `predict` through the same engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import layers, metrics, optimizers


class GuideModel(ember.Model):
    """The keras.io guide's first custom train_step (compiled loss and metrics, torch style)."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([weight.grad for weight in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}


def _regression(samples=256):
    rng = np.random.default_rng(0)
    x = rng.random((samples, 8)).astype("float32")
    return x, (x @ rng.random((8, 1)) + 0.1).astype("float32")


def test_a_functional_subclass_with_its_own_train_step_trains_through_fit(tmp_path):
    ember.utils.set_random_seed(0)
    inputs = ember.Input((8,))
    model = GuideModel(inputs, layers.Dense(1)(inputs))
    assert isinstance(model, GuideModel) and isinstance(model, ember.models.Functional)
    model.compile(optimizer=optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    x, y = _regression()
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, validation_split=0.25).history
    assert set(history) == {"loss", "mae", "val_loss", "val_mae"} and model.make_step().kind == "custom"
    assert history["loss"][-1] < history["loss"][0] / 2
    results = model.evaluate(x, y, verbose=0, return_dict=True)  # the default test_step
    assert results["loss"] == pytest.approx(float(np.mean((model.predict(x, verbose=0) - y) ** 2)), rel=1e-4)
    model.save(tmp_path / "guide.ember")
    loaded = ember.load_model(tmp_path / "guide.ember")
    assert type(loaded).__name__ == "GuideModel" and isinstance(loaded, GuideModel)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


class OwnTrackers(ember.Model):
    """Lower level: no compiled loss, its own trackers, reset by fit at each epoch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(1)
        self.loss_tracker, self.mae_metric = metrics.Mean(name="loss"), metrics.MeanAbsoluteError(name="mae")

    def call(self, inputs):
        return self.dense(inputs)

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        loss = torch.mean((self(x, training=True) - y) ** 2)
        loss.backward()
        with torch.no_grad():
            self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, self(x))
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        x, y = data
        self.mae_metric.update_state(y, self(x, training=False))
        return {"mae": self.mae_metric.result()}


def test_own_trackers_are_the_models_metrics_and_are_reset_each_epoch():
    ember.utils.set_random_seed(0)
    model = OwnTrackers()
    model.compile(optimizer=optimizers.SGD(0.1))  # no loss: Keras allows it for a custom step
    x, y = _regression(96)
    epochs = []
    recorder = ember.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append(
        model.loss_tracker.unweighted_count))
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[recorder]).history
    assert [m.name for m in model.metrics] == ["loss", "mae"]
    assert epochs == [3, 3, 3]  # one epoch's three batches each time: reset at every epoch
    assert history["loss"][-1] < history["loss"][0]
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"mae"}


class VAE(ember.Model):
    """keras.io's VAE in miniature: encoder, reparameterization, decoder, KL term, own trackers."""

    def __init__(self, latent=2, **kwargs):
        super().__init__(**kwargs)
        self.encoder = ember.Sequential([layers.Input((16,)), layers.Dense(8, activation="relu"),
                                         layers.Dense(2 * latent)])
        self.decoder = ember.Sequential([layers.Input((latent,)), layers.Dense(8, activation="relu"),
                                         layers.Dense(16, activation="sigmoid")])
        self.total_loss_tracker = metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = metrics.Mean(name="kl_loss")

    def call(self, inputs):
        z_mean, _ = self.encoder(inputs).chunk(2, dim=-1)
        return self.decoder(z_mean)

    def train_step(self, data):
        z_mean, z_log_var = self.encoder(data).chunk(2, dim=-1)
        z = z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)
        reconstruction = self.decoder(z)
        reconstruction_loss = torch.nn.functional.binary_cross_entropy(reconstruction, data, reduction="none").sum(1)
        kl_loss = (-0.5 * (1 + z_log_var - z_mean ** 2 - z_log_var.exp())).sum(1)
        total = (reconstruction_loss + kl_loss).mean()
        self.zero_grad()
        total.backward()
        with torch.no_grad():
            self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss.mean())
        self.kl_loss_tracker.update_state(kl_loss.mean())
        return {m.name: m.result() for m in self.metrics}


def test_a_vae_with_its_own_train_step_fits_on_x_alone():
    ember.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((128, 16)) > 0.5).astype("float32")
    vae = VAE()
    vae.compile(optimizer=optimizers.Adam(0.01))
    history = vae.fit(x, epochs=5, batch_size=32, verbose=0).history
    assert set(history) == {"total_loss", "reconstruction_loss", "kl_loss"}
    assert history["total_loss"][-1] < history["total_loss"][0]
    assert vae.predict(x[:5], verbose=0).shape == (5, 16)


class KerasStyleGAN(ember.Model):
    """keras.io's GAN: own compile with two optimizers, a train_step, its metrics property."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
        self.d_loss_tracker, self.g_loss_tracker = metrics.Mean(name="d_loss"), metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real_images):
        size = real_images.shape[0]
        fake = self.generator(torch.randn(size, self.latent_dim))
        images = torch.cat([fake.detach(), real_images])
        labels = torch.cat([torch.ones(size, 1), torch.zeros(size, 1)])
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(images))
        d_loss.backward()
        weights = self.discriminator.trainable_weights
        self.d_optimizer.apply([w.grad for w in weights], weights)
        self.zero_grad()
        g_loss = self.loss_fn(torch.zeros(size, 1), self.discriminator(self.generator(torch.randn(size,
                                                                                                  self.latent_dim))))
        g_loss.backward()
        weights = self.generator.trainable_weights
        self.g_optimizer.apply([w.grad for w in weights], weights)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def test_a_gan_written_the_keras_io_way_trains_through_fit():
    ember.utils.set_random_seed(0)
    discriminator = ember.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    generator = ember.Sequential([layers.Input((3,)), layers.Dense(6, activation="tanh")])
    gan = KerasStyleGAN(discriminator, generator, latent_dim=3)
    gan.compile(optimizers.Adam(1e-3), optimizers.Adam(1e-3), ember.losses.BinaryCrossentropy(from_logits=True))
    before = [w.detach().clone() for w in generator.trainable_weights]
    real = np.tanh(np.random.default_rng(0).normal(size=(64, 6))).astype("float32")
    history = gan.fit(real, epochs=2, batch_size=16, verbose=0).history
    assert set(history) == {"d_loss", "g_loss"} and len(history["d_loss"]) == 2
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 8
    assert any(not torch.equal(a, b) for a, b in zip(before, generator.trainable_weights))


class ReturnsWrong(ember.Model):
    def __init__(self, result, **kwargs):
        super().__init__(**kwargs)
        self.dense, self.result = layers.Dense(1), result

    def call(self, inputs):
        return self.dense(inputs)

    def train_step(self, data):
        return self.result


@pytest.mark.parametrize("result, message", [
    (torch.tensor(1.0), r"train_step must return a dict of scalars .* it returned Tensor"),
    ({"loss": torch.ones(3)}, r"its value for 'loss' is .* of shape \(3,\)"),
])
def test_a_train_step_that_returns_no_dict_of_scalars_says_what_it_returned(result, message):
    model = ReturnsWrong(result)
    model.compile(optimizer="sgd")
    x, y = _regression(32)
    with pytest.raises(TypeError, match=message):
        model.fit(x, y, verbose=0)


def test_no_loss_to_minimize_and_a_foreign_variable_get_clear_errors():
    model = ember.Sequential([layers.Input((8,)), layers.Dense(1)])
    model.compile(optimizer="adam")  # no loss, no add_loss, the built-in step
    x, y = _regression(32)
    with pytest.raises(ValueError, match="There is no loss to minimize"):
        model.fit(x, y, verbose=0)
    optimizer = optimizers.SGD(0.1)
    mine, other = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))
    optimizer.apply([torch.ones(2)], [mine])
    assert torch.allclose(mine, torch.full((2,), 0.9))
    with pytest.raises(ValueError, match="was not built on"):
        optimizer.apply([torch.ones(3)], [other])


class OwnLoss(ember.Model):
    """Overrides compute_loss alone: the default train_step uses it, and logs it as "loss"."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(1)

    def call(self, inputs):
        return self.dense(inputs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return torch.mean(torch.abs(y_pred - y)) + 0.0 * sum(w.sum() for w in self.trainable_weights)


def test_overriding_compute_loss_alone_trains_with_the_default_step():
    ember.utils.set_random_seed(0)
    model = OwnLoss()
    model.compile(optimizer=optimizers.Adam(0.05), metrics=["mse"])
    x, y = _regression(128)
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0).history
    assert set(history) == {"loss", "mse"} and model.make_step().kind == "custom"
    assert history["loss"][-1] < history["loss"][0]
    evaluated = model.evaluate(x, y, verbose=0, return_dict=True)  # the default test_step, the same loss
    assert evaluated["loss"] == pytest.approx(float(np.mean(np.abs(model.predict(x, verbose=0) - y))), rel=1e-5)
