"""DCGAN on MNIST: one epoch of ember's `GAN.fit` against a plain PyTorch DCGAN loop.

    EMBER_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/dcgan.py [--samples 12800]

Both train the generator and discriminator of examples/mnist_gan.py (the PyTorch loop has the same
layers in channels-first form), batch 64, Adam(2e-4, beta_1=0.5), one discriminator step on
real and fake images together and one generator step per batch, BCE on logits. One untimed
warm-up epoch, then a timed one; images per second.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

UNIT, METRIC = "images/s", "final d_loss"
BATCH, LATENT = 64, 64


def example():
    """examples/mnist_gan.py: the networks and the data are the example's own."""
    return harness.example("mnist_gan")


def add_arguments(parser) -> None:
    parser.add_argument("--samples", type=int, default=12_800)


def run_ember(args) -> dict:
    module = example()
    x, *_ = module.load_mnist(args.samples)
    gan = module.ember.gan.GAN(module.generator(LATENT), module.discriminator(1), latent_dim=LATENT)
    gan.compile(d_optimizer=module.adam(), g_optimizer=module.adam())
    gan.fit(x, epochs=1, batch_size=BATCH, verbose=0)
    seconds = harness.timed(lambda: gan.fit(x, epochs=1, batch_size=BATCH, verbose=0))
    return {"samples_per_second": len(x) / seconds, "accuracy": gan.history.history["d_loss"][-1]}


def torch_networks():
    from torch import nn

    generator = nn.Sequential(
        nn.Linear(LATENT, 7 * 7 * 64, bias=False), nn.BatchNorm1d(7 * 7 * 64), nn.LeakyReLU(0.2),
        nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 1))
    return generator, discriminator


def run_torch(args) -> dict:
    import torch
    import torch.nn.functional as F

    x, *_ = example().load_mnist(args.samples)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    images = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)
    generator, discriminator = (network.to(device) for network in torch_networks())
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    last = {}

    def epoch():
        order = torch.randperm(len(images), device=device)
        for start in range(0, len(images), BATCH):
            real = images[order[start:start + BATCH]]
            size = len(real)
            with torch.no_grad():
                fake = generator(torch.randn(size, LATENT, device=device))
            scores = discriminator(torch.cat([real, fake]))
            targets = torch.cat([torch.ones(size, 1, device=device), torch.zeros(size, 1, device=device)])
            d_loss = F.binary_cross_entropy_with_logits(scores, targets)
            d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimizer.step()
            scores = discriminator(generator(torch.randn(size, LATENT, device=device)))
            g_loss = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
            g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            g_optimizer.step()
            last["d_loss"] = d_loss
        return float(last["d_loss"])

    epoch()
    seconds = harness.timed(epoch)
    return {"samples_per_second": len(images) / seconds, "accuracy": float(last["d_loss"])}


RUNNERS = {"ember": run_ember, "torch": run_torch}

if __name__ == "__main__":
    harness.main("dcgan", sys.modules[__name__], "DCGAN on MNIST, batch 64 (one epoch)")
