"""Autoencoders on MNIST: keras.io's VAE (latent 2, 30 epochs, batch 128), a denoising
autoencoder, and anomaly detection by reconstruction error (one digit never seen in training).

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/mnist_autoencoders.py [vae|denoising|anomaly]
     [--epochs N] [--out DIR]
Writes the latent-space scatter, the decoded latent grid and reconstruction pictures to DIR.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

import ember
from ember import layers


def load_digits(samples: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as float32 `(N, 28, 28, 1)` in [0, 1], with labels; the first `samples` of each split."""
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    scale = lambda images: (images[:samples, ..., None] / 255.0).astype("float32")
    return scale(x_train), y_train[:samples], scale(x_test), y_test[:samples]


def conv_encoder(outputs: int) -> ember.Sequential:
    """keras.io's VAE encoder; `outputs` codes (for a VAE: the means and log-variances)."""
    return ember.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu", strides=2, padding="same"),
        layers.Conv2D(64, 3, activation="relu", strides=2, padding="same"),
        layers.Flatten(),
        layers.Dense(16, activation="relu"),
        layers.Dense(outputs),
    ])


def conv_decoder(latent_dim: int) -> ember.Sequential:
    """keras.io's VAE decoder: codes to 28 x 28 x 1 images through a sigmoid."""
    return ember.Sequential([
        layers.Input((latent_dim,)),
        layers.Dense(7 * 7 * 64, activation="relu"),
        layers.Reshape((7, 7, 64)),
        layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same"),
        layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same"),
        layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same"),
    ])


def vae(out: Path, epochs: int = 30, samples: int | None = None) -> dict[str, float]:
    """keras.io's VAE, trained as there on all 70,000 digits; the loss is per image, in nats."""
    x_train, y_train, x_test, y_test = load_digits(samples)
    model = ember.models.VAE(conv_encoder(4), conv_decoder(2), latent_dim=2)
    model.compile(ember.optimizers.Adam())
    history = model.fit(np.concatenate([x_train, x_test]), epochs=epochs, batch_size=128, verbose=2).history
    model.plot_latent_space(x_test, y_test, out / "vae_latent_space.png")
    model.plot_latent_grid(out / "vae_latent_grid.png", size=20)
    model.plot_reconstructions(x_test[:12], out / "vae_reconstructions.png", count=12)
    ember.utils.save_image_grid(model.sample(32, seed=0), out / "vae_samples.png")
    return {"loss": history["loss"][-1], "reconstruction_loss": history["reconstruction_loss"][-1],
            "kl_loss": history["kl_loss"][-1]}


def denoising(out: Path, epochs: int = 10, samples: int | None = None) -> dict[str, float]:
    """keras.io's denoising autoencoder: Gaussian noise (0.5) clipped to [0, 1], trained noisy -> clean."""
    x_train, _, x_test, _ = load_digits(samples)
    rng = np.random.default_rng(0)
    noisy = lambda images: np.clip(images + 0.5 * rng.normal(size=images.shape), 0, 1).astype("float32")
    noisy_train, noisy_test = noisy(x_train), noisy(x_test)
    model = ember.models.Autoencoder(conv_encoder(32), conv_decoder(32))
    model.compile("adam", loss="binary_crossentropy")
    model.fit(noisy_train, x_train, epochs=epochs, batch_size=128, verbose=2, validation_data=(noisy_test, x_test))
    model.plot_reconstructions(noisy_test[:12], out / "denoised.png", count=12)
    denoised = model.reconstruct(noisy_test)
    return {"noisy_mse": float(np.mean((noisy_test - x_test) ** 2)),
            "denoised_mse": float(np.mean((denoised - x_test) ** 2))}


def anomaly(out: Path, epochs: int = 10, held_out: int = 7, samples: int | None = None) -> dict[str, float]:
    """An autoencoder trained on every digit but `held_out`; the held-out digit is the anomaly."""
    x_train, y_train, x_test, y_test = load_digits(samples)
    model = ember.models.Autoencoder(conv_encoder(16), conv_decoder(16))
    model.compile("adam", loss="binary_crossentropy")
    model.fit(x_train[y_train != held_out], epochs=epochs, batch_size=128, verbose=2)
    scores = model.anomaly_scores(x_test)
    is_anomaly = (y_test == held_out).astype(int)
    model.plot_reconstructions(x_test[np.argsort(-scores)[:12]], out / "anomalies.png", count=12)
    return {"roc_auc": float(roc_auc_score(is_anomaly, scores)),
            "mean_score_normal": float(scores[is_anomaly == 0].mean()),
            "mean_score_anomaly": float(scores[is_anomaly == 1].mean())}


PARTS = {"vae": vae, "denoising": denoising, "anomaly": anomaly}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--epochs", type=int, default=None, help="default: 30 for the VAE, 10 for the others")
    parser.add_argument("--out", default="autoencoder-results")
    arguments = parser.parse_args()
    folder = Path(arguments.out)
    folder.mkdir(parents=True, exist_ok=True)
    ember.utils.set_random_seed(0)
    for part in arguments.parts:
        options = {} if arguments.epochs is None else {"epochs": arguments.epochs}
        results = PARTS[part](folder, **options)
        print(part, {name: round(value, 4) for name, value in results.items()})
