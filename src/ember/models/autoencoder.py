"""Autoencoders: `Autoencoder(encoder, decoder)` learns to reproduce its input through a
bottleneck; `VAE(encoder, decoder, latent_dim, beta)` is the variational form (Kingma & Welling
2014) with the reparameterization trick and a KL term, trained the keras.io way.

    >>> autoencoder = ember.models.Autoencoder(encoder, decoder)
    >>> autoencoder.compile("adam", loss="binary_crossentropy")
    >>> autoencoder.fit(x_train, epochs=10)                 # targets are the inputs
    >>> scores = autoencoder.anomaly_scores(x_test)         # (samples,) reconstruction errors

    >>> vae = ember.models.VAE(encoder, decoder, latent_dim=2)
    >>> vae.compile("adam")
    >>> vae.fit(x_train, epochs=30, batch_size=128)         # History: loss, reconstruction_loss, kl_loss
    >>> digits = vae.sample(16)                             # (16, *input shape), NumPy

Shapes: the encoder maps `(batch, *input_shape)` to codes `(batch, latent_dim)` (a VAE's encoder
to `(batch, 2 * latent_dim)`, the means then the log-variances, or to a list `[z_mean,
z_log_var, ...]` as keras.io writes it); the decoder maps codes back to `(batch, *input_shape)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember import metrics as metrics_module
from ember.data import arrays
from ember.layers.serialization import deserialize_layer, serialize_layer
from ember.models.model import Model
from ember.training.custom_step import unpack

RECONSTRUCTION_LOSSES = ("binary_crossentropy", "mse")


class Autoencoder(Model):
    """An encoder and a decoder trained to reproduce the input: `fit(x)` uses `x` as the targets.

    Args:
        encoder: a model (or layer) from `(batch, *input_shape)` to codes `(batch, ...)`.
        decoder: a model (or layer) from codes back to `(batch, *input_shape)`.
    A denoising autoencoder is `fit(noisy_x, clean_x)`, or a `layers.GaussianNoise` (training only,
    on the device) at the start of the encoder. Calling the model gives reconstructions.
    """

    def __init__(self, encoder: Any, decoder: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.encoder, self.decoder = encoder, decoder

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(inputs))

    @property
    def layers(self) -> list:
        return [self.encoder, self.decoder]

    def fit(self, x: Any = None, y: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """`Model.fit` with the inputs as the targets when `y` is None (Keras's arguments)."""
        if y is None and not _is_batched_source(x):
            y = x
        return super().fit(x, y, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """`Model.evaluate` with the inputs as the targets when `y` is None."""
        if y is None and not _is_batched_source(x):
            y = x
        return super().evaluate(x, y, **kwargs)

    # --------------------------------------------------------------- the codes
    def encode(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """The codes of `x`: `(samples, ...)` NumPy (a VAE gives the means)."""
        return _run_in_batches(lambda part: self.codes_of(part), x, batch_size, self)

    def codes_of(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.encoder(inputs)

    def decode(self, codes: Any, batch_size: int = 256) -> np.ndarray:
        """The decoder's outputs for `codes`: `(samples, *input_shape)` NumPy."""
        return _run_in_batches(lambda part: self.decoder(part), codes, batch_size, self)

    def reconstruct(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """`decode(encode(x))`, in inference mode: `(samples, *input_shape)` NumPy."""
        return _run_in_batches(lambda part: self(part), x, batch_size, self)

    def anomaly_scores(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Each sample's mean squared reconstruction error `(samples,)`: high for inputs unlike the
        training data (use them with a threshold, or `sklearn.metrics.roc_auc_score`)."""
        def errors(part: torch.Tensor) -> torch.Tensor:
            return (self(part).float() - part.float()).square().flatten(1).mean(dim=1)
        return _run_in_batches(errors, x, batch_size, self)

    # --------------------------------------------------------------------- plots
    def plot_reconstructions(self, x: Any, path: Any, count: int = 10) -> str:
        """A PNG of `count` inputs (top row) over their reconstructions (bottom row); returns the path."""
        from ember.models.autoencoder_plots import plot_pairs

        images = arrays.to_tensor(x, "x")[:count]
        return plot_pairs(images.numpy(), self.reconstruct(images), path)

    def plot_latent_space(self, x: Any, labels: Any, path: Any) -> str:
        """A PNG scatter of the 2-D codes of `x`, coloured by `labels`; returns the path."""
        from ember.models.autoencoder_plots import plot_codes

        return plot_codes(self.encode(x), np.asarray(labels), path)

    # -------------------------------------------------------------------- saving
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "encoder": serialize_layer(self.encoder), "decoder": serialize_layer(self.decoder)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Autoencoder":
        config = dict(config)
        encoder = deserialize_layer(config.pop("encoder"), custom_objects)
        return cls(encoder, deserialize_layer(config.pop("decoder"), custom_objects), **config)


class VAE(Autoencoder):
    """A variational autoencoder: the encoder gives a Gaussian over codes, the decoder draws the
    input back from a sample of it; the loss is reconstruction + `beta` * KL(q(z|x) || N(0, I)).

    Args:
        encoder: from `(batch, *input_shape)` to `(batch, 2 * latent_dim)` (means, then
            log-variances) or to a list `[z_mean, z_log_var, ...]` of `(batch, latent_dim)` each.
        decoder: from `(batch, latent_dim)` to `(batch, *input_shape)`; ending in a sigmoid for the
            default binary cross-entropy reconstruction loss (inputs scaled to [0, 1]).
        latent_dim: size of the codes.
        beta: weight of the KL term (1.0: the evidence lower bound; above 1: a beta-VAE).
        reconstruction_loss: "binary_crossentropy" or "mse", summed over each sample's values and
            averaged over the batch, as keras.io's VAE does (so the loss is per image, in nats).
    `fit(x)` logs `loss`, `reconstruction_loss` and `kl_loss`; calling the model reconstructs from
    the means (inference) or from a sample (training); `sample(n)` decodes draws from N(0, I).
    """

    def __init__(self, encoder: Any, decoder: Any, latent_dim: int, beta: float = 1.0,
                 reconstruction_loss: str = "binary_crossentropy", name: str | None = None, **kwargs: Any) -> None:
        super().__init__(encoder, decoder, name=name, **kwargs)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer; got {latent_dim!r}.")
        if not isinstance(beta, (int, float)) or beta < 0:
            raise ValueError(f"beta must be a number >= 0 (1.0 for the plain VAE); got {beta!r}.")
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction_loss must be one of {list(RECONSTRUCTION_LOSSES)}; got "
                             f"{reconstruction_loss!r}.")
        self.latent_dim, self.beta, self.reconstruction_loss = latent_dim, float(beta), reconstruction_loss
        self.total_loss_tracker = metrics_module.Mean(name="loss")
        self.reconstruction_loss_tracker = metrics_module.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = metrics_module.Mean(name="kl_loss")

    def compile(self, optimizer: Any = "adam", **kwargs: Any) -> None:  # type: ignore[override]
        """Sets the optimizer (the loss is the VAE's own; `loss=` is refused)."""
        if kwargs.get("loss") is not None:
            raise ValueError("A VAE computes its own loss (reconstruction + beta * KL); choose the reconstruction "
                             "term with VAE(..., reconstruction_loss='binary_crossentropy' or 'mse'), not loss=.")
        super().compile(optimizer=optimizer, **kwargs)

    # ----------------------------------------------------------------- the codes
    def distribution(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(z_mean, z_log_var)`, each `(batch, latent_dim)`."""
        out = self.encoder(inputs)
        if isinstance(out, (list, tuple)):
            if len(out) < 2:
                raise ValueError(f"A VAE's encoder returning a list must give [z_mean, z_log_var, ...]; got "
                                 f"{len(out)} tensor(s).")
            z_mean, z_log_var = out[0], out[1]
        else:
            if out.ndim != 2 or out.shape[1] != 2 * self.latent_dim:
                raise ValueError(f"The VAE's encoder outputs shape {('batch',) + tuple(out.shape[1:])}, but latent_dim={self.latent_dim} "
                                 f"needs (batch, {2 * self.latent_dim}): the means and the log-variances. End the "
                                 f"encoder with Dense({2 * self.latent_dim}), or return [z_mean, z_log_var].")
            z_mean, z_log_var = out[:, :self.latent_dim], out[:, self.latent_dim:]
        if z_mean.shape[-1] != self.latent_dim or z_log_var.shape != z_mean.shape:
            raise ValueError(f"The VAE's encoder gives z_mean {tuple(z_mean.shape)} and z_log_var "
                             f"{tuple(z_log_var.shape)}; latent_dim={self.latent_dim} needs (batch, {self.latent_dim}) "
                             "for both.")
        return z_mean, z_log_var

    def codes_of(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.distribution(inputs)[0]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.parts(inputs)[0]

    def parts(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(reconstruction, z_mean, z_log_var)`: decoded from a sample of the codes while training,
        from their means in inference mode."""
        z_mean, z_log_var = self.distribution(inputs)
        codes = reparameterize(z_mean, z_log_var) if self.training else z_mean
        return self.decoder(codes), z_mean, z_log_var

    def sample(self, n: int, batch_size: int = 256, seed: int | None = None) -> np.ndarray:
        """`n` new samples `(n, *input_shape)` decoded from codes drawn from N(0, I)."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"sample() needs a positive number of samples; got {n!r}.")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.decode(torch.randn(n, self.latent_dim, generator=generator), batch_size)

    def plot_latent_grid(self, path: Any, size: int = 15, scale: float = 1.0) -> str:
        """A PNG of the decoder's outputs over a `size` x `size` grid of 2-D codes in
        [-scale, scale] (keras.io's plot_latent_space); returns the path."""
        from ember.models.autoencoder_plots import plot_decoded_grid

        if self.latent_dim != 2:
            raise ValueError(f"plot_latent_grid draws a 2-D latent space; this VAE has latent_dim={self.latent_dim}.")
        return plot_decoded_grid(self.decode, size, scale, path)

    # ------------------------------------------------------------------ the loss
    def losses_of(self, x: torch.Tensor, training: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """`(reconstruction, kl)`: each a batch mean of per-sample sums (nats per sample)."""
        previous = self.training
        self.train(training)
        try:
            reconstruction, z_mean, z_log_var = self.parts(x)
        finally:
            self.train(previous)
        reconstruction, target = reconstruction.float(), x.float()
        if reconstruction.shape != target.shape:
            raise ValueError(f"The VAE's decoder outputs shape {tuple(reconstruction.shape)}, but the inputs have shape "
                             f"{tuple(target.shape)}: the decoder must give back the input's shape.")
        if self.reconstruction_loss == "binary_crossentropy":
            per_value = F.binary_cross_entropy(reconstruction.clamp(1e-7, 1 - 1e-7), target, reduction="none")
        else:
            per_value = (reconstruction - target).square()
        return per_value.flatten(1).sum(dim=1).mean(), kl_divergence(z_mean.float(), z_log_var.float()).mean()

    def train_step(self, data: Any) -> dict[str, Any]:
        x, _, _ = unpack(data)
        self.zero_grad()
        reconstruction, kl = self.losses_of(x, training=True)
        loss = reconstruction + self.beta * kl
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([weight.grad for weight in weights], weights)
        return self._track(loss, reconstruction, kl, len(x))

    def test_step(self, data: Any) -> dict[str, Any]:
        x, _, _ = unpack(data)
        reconstruction, kl = self.losses_of(x, training=False)
        return self._track(reconstruction + self.beta * kl, reconstruction, kl, len(x))

    def _track(self, loss: torch.Tensor, reconstruction: torch.Tensor, kl: torch.Tensor, count: int) -> dict:
        for tracker, value in ((self.total_loss_tracker, loss), (self.reconstruction_loss_tracker, reconstruction),
                               (self.kl_loss_tracker, kl)):
            tracker.update_with_batch_mean(value, count)
        return {tracker.name: tracker.result() for tracker in
                (self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker)}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "latent_dim": self.latent_dim, "beta": self.beta,
                "reconstruction_loss": self.reconstruction_loss}


def reparameterize(z_mean: torch.Tensor, z_log_var: torch.Tensor) -> torch.Tensor:
    """A differentiable draw from N(z_mean, exp(z_log_var)): `z_mean + exp(z_log_var / 2) * eps`."""
    return z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)


def kl_divergence(z_mean: torch.Tensor, z_log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per sample `(batch,)`, summed over the latent axis."""
    return -0.5 * (1 + z_log_var - z_mean.square() - z_log_var.exp()).sum(dim=-1)


def _is_batched_source(x: Any) -> bool:
    """A dataset, generator or loader (which brings its own targets), not an array."""
    return x is not None and not isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict)) \
        and not hasattr(x, "to_numpy")


def _run_in_batches(function: Any, x: Any, batch_size: int, model: Model) -> np.ndarray:
    """`function` over `x` in batches on the model's device, in inference mode, as NumPy."""
    values = arrays.to_tensor(x, "x")
    model._place()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(values), batch_size):
            outputs.append(function(values[start:start + batch_size].to(device)).float().cpu())
    model.train(was_training)
    return torch.cat(outputs).numpy()
