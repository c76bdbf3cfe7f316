"""Autoencoder and VAE: inputs as targets, anomaly scores, the KL term against torch's closed
form, the logged losses, keras.io's list-output encoder, bad sizes, plots, save and load."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import ember
from ember import layers
from ember.models.autoencoder import kl_divergence


def _plane_data(samples=512, seed=0):
    """Points on a 2-D plane inside 8-D space (normal data) and points off it (anomalies)."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(8, 2)))[0].T
    normal = (rng.uniform(-1, 1, (samples, 2)) @ basis).astype("float32")
    anomalies = rng.uniform(-1, 1, (64, 8)).astype("float32")
    return normal, anomalies


def _coder(inputs, outputs, activation=None):
    return ember.Sequential([layers.Input((inputs,)), layers.Dense(16, activation="tanh"),
                             layers.Dense(outputs, activation=activation)])


def test_an_autoencoder_learns_its_inputs_and_scores_what_is_unlike_them(tmp_path):
    ember.utils.set_random_seed(0)
    normal, anomalies = _plane_data()
    model = ember.models.Autoencoder(_coder(8, 2), _coder(2, 8))
    model.compile(ember.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(normal, epochs=40, batch_size=64, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] / 5
    assert model.encode(normal).shape == (512, 2) and model.reconstruct(normal).shape == (512, 8)
    scores = model.anomaly_scores(np.concatenate([normal[:64], anomalies]))
    np.testing.assert_allclose(scores[:64], np.mean((model.reconstruct(normal[:64]) - normal[:64]) ** 2, axis=1),
                               rtol=1e-5)
    assert roc_auc_score(np.r_[np.zeros(64), np.ones(64)], scores) > 0.95
    assert model.evaluate(normal, verbose=0) == pytest.approx(float(np.mean(scores[:64] * 0 + np.mean(
        (model.reconstruct(normal) - normal) ** 2))), rel=1e-4)
    model.save(tmp_path / "ae.ember")
    loaded = ember.load_model(tmp_path / "ae.ember")
    assert type(loaded) is ember.models.Autoencoder
    np.testing.assert_allclose(loaded.reconstruct(normal), model.reconstruct(normal), rtol=1e-6)


def test_a_denoising_autoencoder_fits_noisy_inputs_to_clean_targets():
    ember.utils.set_random_seed(1)
    normal, _ = _plane_data()
    noisy = normal + np.random.default_rng(1).normal(0, 0.2, normal.shape).astype("float32")
    model = ember.models.Autoencoder(_coder(8, 2), _coder(2, 8))
    model.compile(ember.optimizers.Adam(1e-2), loss="mse")
    model.fit(noisy, normal, epochs=40, batch_size=64, verbose=0)
    denoised = model.reconstruct(noisy)
    assert np.mean((denoised - normal) ** 2) < 0.5 * np.mean((noisy - normal) ** 2)


def test_the_kl_term_is_the_closed_form_kl_to_a_standard_normal():
    rng = np.random.default_rng(2)
    z_mean, z_log_var = (torch.tensor(rng.normal(size=(5, 3))) for _ in range(2))
    posterior = torch.distributions.Normal(z_mean, torch.exp(0.5 * z_log_var))
    prior = torch.distributions.Normal(torch.zeros(5, 3, dtype=torch.float64), torch.ones(5, 3, dtype=torch.float64))
    expected = torch.distributions.kl_divergence(posterior, prior).sum(dim=1)
    torch.testing.assert_close(kl_divergence(z_mean, z_log_var), expected)


def _vae(latent_dim=2, encoder_outputs=None, beta=1.0):
    encoder = _coder(16, encoder_outputs or 2 * latent_dim)
    return ember.models.VAE(encoder, _coder(latent_dim, 16, "sigmoid"), latent_dim=latent_dim, beta=beta)


def test_a_vae_logs_reconstruction_and_kl_and_its_loss_is_their_sum(tmp_path):
    ember.utils.set_random_seed(3)
    x = (np.random.default_rng(3).random((256, 16)) > 0.5).astype("float32")
    vae = _vae(beta=0.5)
    vae.compile(ember.optimizers.Adam(1e-2))
    history = vae.fit(x, epochs=5, batch_size=64, verbose=0, validation_split=0.25).history
    assert set(history) == {"loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss",
                            "val_kl_loss"}
    assert history["loss"][-1] < history["loss"][0]
    results = vae.evaluate(x, verbose=0, return_dict=True)  # inference: decoded from the means
    assert results["loss"] == pytest.approx(results["reconstruction_loss"] + 0.5 * results["kl_loss"], rel=1e-5)
    reconstruction = np.clip(vae.reconstruct(x), 1e-7, 1 - 1e-7)
    expected = -np.mean(np.sum(x * np.log(reconstruction) + (1 - x) * np.log(1 - reconstruction), axis=1))
    assert results["reconstruction_loss"] == pytest.approx(expected, rel=1e-4)
    assert vae.sample(7, seed=0).shape == (7, 16) and vae.encode(x).shape == (256, 2)
    np.testing.assert_allclose(vae.sample(3, seed=5), vae.sample(3, seed=5))
    for name, draw in [("latent.png", lambda p: vae.plot_latent_space(x, x[:, 0], p)),
                       ("grid.png", lambda p: vae.plot_latent_grid(p, size=5)),
                       ("pairs.png", lambda p: vae.plot_reconstructions(x, p, count=4))]:
        assert (tmp_path / name).exists() is False and draw(tmp_path / name) and (tmp_path / name).stat().st_size > 0
    vae.save(tmp_path / "vae.ember")
    loaded = ember.load_model(tmp_path / "vae.ember")
    assert type(loaded) is ember.models.VAE and loaded.beta == 0.5 and loaded.latent_dim == 2
    np.testing.assert_allclose(loaded.encode(x), vae.encode(x), rtol=1e-6)


class _KerasIOEncoder(ember.Model):
    """keras.io's encoder returns [z_mean, z_log_var, z]."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.mean, self.log_var = layers.Dense(8, activation="relu"), layers.Dense(2), layers.Dense(2)

    def call(self, inputs):
        hidden = self.hidden(inputs)
        z_mean, z_log_var = self.mean(hidden), self.log_var(hidden)
        return [z_mean, z_log_var, z_mean]


def test_a_keras_io_style_encoder_with_three_outputs_works():
    x = np.random.default_rng(4).random((64, 16)).astype("float32")
    vae = ember.models.VAE(_KerasIOEncoder(), _coder(2, 16, "sigmoid"), latent_dim=2)
    vae.compile("adam")
    vae.fit(x, epochs=1, verbose=0)
    assert vae.encode(x).shape == (64, 2)


def test_wrong_sizes_and_arguments_are_named():
    x = np.random.default_rng(5).random((8, 16)).astype("float32")
    vae = _vae(latent_dim=2, encoder_outputs=3)
    vae.compile("adam")
    with pytest.raises(ValueError, match=r"encoder outputs shape \('batch', 3\), but latent_dim=2 needs \(batch, 4\)"):
        vae.fit(x, verbose=0, batch_size=8)
    with pytest.raises(ValueError, match="computes its own loss"):
        _vae().compile("adam", loss="mse")
    with pytest.raises(ValueError, match="beta must be a number >= 0"):
        _vae(beta=-1.0)
    with pytest.raises(ValueError, match="plot_latent_grid draws a 2-D latent space"):
        _vae(latent_dim=3).plot_latent_grid("never.png")
