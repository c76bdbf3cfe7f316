"""DCGAN and conditional DCGAN on MNIST, measured with an ember classifier, and GAN data augmentation.

1. A small CNN classifier is trained on all of MNIST: it is the judge (its penultimate layer gives
   the features for the Fréchet distance; note this is not the Inception-based FID of the papers).
2. A DCGAN (Conv2DTranspose generator, Conv2D discriminator) learns the digits; grids are saved.
3. A conditional DCGAN (Keras's tutorial layout: one-hot label appended to the noise and as image
   channels) draws requested digits; the judge says how often they are the requested digit.
4. Augmentation: a classifier trained on 1,000 real images, against the same plus conditional-GAN
   samples; both test accuracies are printed, whichever wins.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/mnist_gan.py [--epochs 10] [--output gan_out]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import ember
from ember import layers, models, optimizers

LATENT_DIM = 64


def generator(inputs: int) -> models.Sequential:
    """(batch, inputs) noise -> (batch, 28, 28, 1) images in [-1, 1]."""
    return models.Sequential([
        layers.Input((inputs,)),
        layers.Dense(7 * 7 * 64, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Reshape((7, 7, 64)),
        layers.Conv2DTranspose(32, 4, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
    ], name="generator")


def discriminator(channels: int) -> models.Sequential:
    """(batch, 28, 28, channels) -> (batch, 1) logits."""
    return models.Sequential([
        layers.Input((28, 28, channels)),
        layers.Conv2D(32, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(64, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Flatten(), layers.Dropout(0.3), layers.Dense(1),
    ], name="discriminator")


def classifier() -> models.Sequential:
    """The tutorials' MNIST CNN, on images in [-1, 1]."""
    model = models.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def adam() -> optimizers.Adam:
    return optimizers.Adam(2e-4, beta_1=0.5)


def load_mnist(train_samples: int | None = None) -> tuple:
    """MNIST scaled to [-1, 1] (the generators end in tanh), with a channels axis."""
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    scale = lambda x: ((x.astype("float32") - 127.5) / 127.5)[..., None]  # noqa: E731
    return scale(x_train)[:train_samples], y_train[:train_samples], scale(x_test), y_test


def train_judge(x_train, y_train, x_test, y_test, epochs: int = 3, verbose: int | str = 2) -> tuple:
    """The classifier that scores the generators, and its test accuracy."""
    judge = classifier()
    judge.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=verbose)
    return judge, judge.evaluate(x_test, y_test, verbose=0)[1]


def train_dcgan(x_train, epochs: int, output: str, verbose: int | str = 2) -> ember.gan.GAN:
    gan = ember.gan.GAN(generator(LATENT_DIM), discriminator(1), latent_dim=LATENT_DIM)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss="bce", label_smoothing=0.1, ema_decay=0.999)
    gan.fit(x_train, epochs=epochs, batch_size=64, verbose=verbose,
            callbacks=[ember.gan.GANMonitor(os.path.join(output, "dcgan_epoch_{epoch:03d}.png"),
                                                  every=max(1, epochs // 5))])
    return gan


def train_cgan(x_train, y_train, epochs: int, output: str, verbose: int | str = 2) -> ember.gan.ConditionalGAN:
    cgan = ember.gan.ConditionalGAN(generator(LATENT_DIM + 10), discriminator(1 + 10), latent_dim=LATENT_DIM,
                                 num_classes=10)
    cgan.compile(d_optimizer=adam(), g_optimizer=adam(), loss="bce", label_smoothing=0.1, ema_decay=0.999)
    cgan.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=verbose,
             callbacks=[ember.gan.GANMonitor(os.path.join(output, "cgan_epoch_{epoch:03d}.png"),
                                                   num_images=80, columns=10, every=max(1, epochs // 5))])
    return cgan


def conditional_scores(cgan: ember.gan.ConditionalGAN, judge, real_sample) -> dict[str, float]:
    """How often the judge sees the requested digit in 5,000 samples, and their Fréchet distance."""
    requested = np.arange(5000) % 10
    samples = cgan.generate(5000, labels=requested)
    per_class = ember.gan.class_accuracy(judge, samples, requested, per_class=True)
    print("requested digit recognised: " + ", ".join(f"{digit}: {share:.0%}" for digit, share in per_class.items()))
    return {"cgan_class_accuracy": ember.gan.class_accuracy(judge, samples, requested),
            "cgan_frechet": ember.gan.frechet_distance(real_sample, samples, classifier=judge)}


def main(epochs: int = 10, output: str = "gan_out", judge_epochs: int = 3, augment_epochs: int = 30,
         verbose: int | str = 2) -> dict[str, float]:
    ember.utils.set_random_seed(7)
    os.makedirs(output, exist_ok=True)
    x_train, y_train, x_test, y_test = load_mnist()
    judge, accuracy = train_judge(x_train, y_train, x_test, y_test, judge_epochs, verbose)
    results = {"judge_test_accuracy": accuracy}
    real_sample = x_test[:5000]

    start = time.perf_counter()
    gan = train_dcgan(x_train, epochs, output, verbose)
    results["dcgan_seconds"] = time.perf_counter() - start
    results["dcgan_frechet"] = ember.gan.frechet_distance(real_sample, gan.generate(5000), classifier=judge)
    gan.save(os.path.join(output, "dcgan.ember"))

    start = time.perf_counter()
    cgan = train_cgan(x_train, y_train, epochs, output, verbose)
    results["cgan_seconds"] = time.perf_counter() - start
    results.update(conditional_scores(cgan, judge, real_sample))
    cgan.save(os.path.join(output, "cgan.ember"))

    results.update(augmentation(cgan, x_train, y_train, x_test, y_test, augment_epochs))
    for key, value in results.items():
        print(f"{key}: {value:.4f}")
    return results


def augmentation(cgan: ember.gan.ConditionalGAN, x_train, y_train, x_test, y_test, epochs: int) -> dict[str, float]:
    """Test accuracy of a classifier on 1,000 real images, and on those plus 5,000 cGAN samples."""
    rng = np.random.default_rng(0)
    few = rng.choice(len(x_train), 1000, replace=False)
    x_few, y_few = x_train[few], y_train[few]
    ember.utils.set_random_seed(11)
    real_only = classifier()
    real_only.fit(x_few, y_few, epochs=epochs, batch_size=32, verbose=0)
    synthetic_labels = np.arange(5000) % 10
    x_mixed = np.concatenate([x_few, cgan.generate(5000, labels=synthetic_labels)])
    y_mixed = np.concatenate([y_few, synthetic_labels])
    ember.utils.set_random_seed(11)
    mixed = classifier()
    mixed.fit(x_mixed, y_mixed, epochs=max(1, epochs // 6), batch_size=32, verbose=0)  # about as many steps
    return {"augment_real_only_accuracy": real_only.evaluate(x_test, y_test, verbose=0)[1],
            "augment_real_plus_gan_accuracy": mixed.evaluate(x_test, y_test, verbose=0)[1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--output", default="gan_out")
    arguments = parser.parse_args()
    main(arguments.epochs, arguments.output)
