"""`GAN` and `ConditionalGAN`: a generator and a discriminator trained against each other by `fit`.

    gan = ember.gan.GAN(generator, discriminator, latent_dim=64)
    gan.compile(d_optimizer=Adam(2e-4, beta_1=0.5), g_optimizer=Adam(2e-4, beta_1=0.5), loss="bce")
    gan.fit(images, epochs=20, batch_size=64)          # History: d_loss, g_loss, d_real/fake_accuracy
    samples = gan.generate(16)                          # (16, *image shape), NumPy

Shapes: the generator maps `(batch, latent_dim)` to images `(batch, *image_shape)`; the
discriminator maps images to scores `(batch, 1)` (logits, or a sigmoid). A `ConditionalGAN`
follows Keras's conditional-GAN tutorial: the generator takes `latent_dim + num_classes` inputs
(noise and a one-hot label), the discriminator images with `num_classes` extra channels (the
one-hot label broadcast over the image).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from ember import config, optimizers
from ember import losses as losses_module
from ember.data import arrays, preparation, streaming
from ember.layers import shapes
from ember.layers.serialization import deserialize_layer, serialize_layer
from ember.models.model import Model
from ember.gan import adversarial
from ember.training.engine import Engine
from ember.gan.step import GANStep, GANTrackers


class GAN(Model):
    """A generator and a discriminator as one model with `compile`, `fit`, `generate` and `save`.

    Args:
        generator: a model (or layer) from `(batch, latent_dim)` noise to `(batch, *image_shape)`.
        discriminator: a model from `(batch, *image_shape)` to `(batch, 1)` scores.
        latent_dim: size of the noise vector.
    Calling the GAN on noise runs the generator.
    """

    num_classes = 0

    def __init__(self, generator: Any, discriminator: Any, latent_dim: int, name: str | None = None,
                 generator_average: bool = False, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer; got {latent_dim!r}.")
        self.generator, self.discriminator, self.latent_dim = generator, discriminator, latent_dim
        self.generator_ema = self._average_of(generator) if generator_average else None
        self.d_optimizer = self.g_optimizer = None
        self.loss, self.label_smoothing, self.d_steps = "bce", 0.0, 1
        self.gradient_penalty_weight, self.ema_decay = 10.0, None
        self.image_shape: tuple | None = None

    def call(self, noise: torch.Tensor) -> torch.Tensor:
        return self.generator(noise)

    @property
    def layers(self) -> list:
        return [self.generator, self.discriminator]

    # ------------------------------------------------------------------- compile
    def compile(self, d_optimizer: Any = "adam", g_optimizer: Any = "adam", loss: Any = "bce",  # type: ignore[override]
                loss_fn: Any = None, label_smoothing: float = 0.0, d_steps: int = 1,
                gradient_penalty_weight: float = 10.0, ema_decay: float | None = None,
                jit_compile: Any = "auto") -> None:
        """Sets both optimizers and the adversarial loss, and checks that the two networks fit together.

        Args:
            d_optimizer, g_optimizer: the discriminator's and the generator's optimizers (two objects).
            loss: "bce" (also `losses.BinaryCrossentropy()`), "hinge" or "wasserstein-gp";
                `loss_fn` is Keras's tutorial spelling of the same argument.
            label_smoothing: one-sided smoothing of the real targets (bce only), e.g. 0.1.
            d_steps: discriminator steps per generator step (5 is usual for wasserstein-gp).
            gradient_penalty_weight: lambda of the Wasserstein gradient penalty.
            ema_decay: keep an exponential moving average of the generator's weights with this decay
                (e.g. 0.999); `generate` then samples from the average.
            jit_compile: "auto" or False; a GAN's step always runs eagerly (True is refused:
                neither `torch.compile` nor CUDA graphs are applied to it yet).
        """
        loss = _loss_name(loss_fn if loss_fn is not None else loss)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
        if label_smoothing and loss != "bce":
            raise ValueError(f"label_smoothing applies to the 'bce' loss only; the loss is {loss!r}.")
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be a positive integer; got {d_steps!r}.")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be between 0 and 1 (e.g. 0.999), or None; got {ema_decay!r}.")
        if jit_compile not in ("auto", False):
            raise ValueError(f"A GAN's adversarial step runs eagerly: jit_compile must be 'auto' or False; got "
                             f"{jit_compile!r}. (Neither torch.compile nor CUDA graphs are applied to it yet.)")
        self.d_optimizer, self.g_optimizer = optimizers.get(d_optimizer), optimizers.get(g_optimizer)
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("Give the discriminator and the generator two optimizer objects; one optimizer "
                             "cannot keep the state of both networks.")
        self.loss, self.label_smoothing, self.d_steps = loss, float(label_smoothing), d_steps
        self.gradient_penalty_weight, self.ema_decay = float(gradient_penalty_weight), ema_decay
        if ema_decay is None:
            self.generator_ema = None
        elif self.generator_ema is None:
            self.generator_ema = self._average_of(self.generator)
        self._check_networks()
        self.compiled = self.built = True

    def _check_networks(self) -> None:
        """Rejects a latent_dim the generator cannot take and a generator output the discriminator cannot."""
        noise_size = self.latent_dim + self.num_classes
        declared = _input_shape(self.generator)
        what = f"latent_dim ({self.latent_dim})" + (f" + num_classes ({self.num_classes})" if self.num_classes else "")
        if declared is not None and declared[-1] != noise_size:
            raise ValueError(f"The generator takes inputs of shape {shapes.describe(declared)}, but {what} gives "
                             f"noise of shape (None, {noise_size}). Make the generator's input size {noise_size}.")
        try:
            image = shapes.output_shape(self.generator, (None, noise_size))
        except ValueError as error:
            raise ValueError(f"The generator cannot take noise of shape (None, {noise_size}) from {what}: "
                             f"{error}") from None
        self.image_shape = tuple(image[1:])
        wanted = image[:-1] + (image[-1] + self.num_classes,)
        extra = f" ({self.num_classes} label channels added)" if self.num_classes else ""
        declared = _input_shape(self.discriminator)
        mismatch = declared is not None and tuple(declared[1:]) != tuple(wanted[1:])
        if not mismatch:
            try:
                shapes.output_shape(self.discriminator, wanted)
            except ValueError:
                mismatch = True
        if mismatch:
            raise ValueError(f"The generator's output shape is {shapes.describe(image)}{extra}, but the "
                             f"discriminator's input shape is {shapes.describe(declared or wanted)}: they must match. "
                             "Change the generator's last layers or the discriminator's input shape.")

    # ----------------------------------------------------------------------- fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,  # type: ignore[override]
            verbose: int | str = "auto", callbacks: list | None = None, shuffle: bool = True,
            initial_epoch: int = 0, steps_per_epoch: int | None = None) -> Any:
        """Trains both networks on real images `x` (`(N, *image_shape)`, scaled like the generator's
        output, e.g. to [-1, 1] for tanh); `y` holds class labels for a ConditionalGAN."""
        self._require_compiled("fit")
        size = preparation.check_fit_arguments(epochs, initial_epoch, batch_size)
        images = self._real_images(x)
        labels = self._labels(y, len(images))
        source = streaming.batch_source(images, labels, None, size, shuffle, config.get_device())
        self._place()
        trackers = GANTrackers().to(config.get_device())
        self.d_optimizer.build(self.discriminator.parameters())
        self.g_optimizer.build(self.generator.parameters())
        callback_list = self._fit_callbacks(callbacks, epochs, steps_per_epoch or len(source), verbose)
        Engine(self, trackers, GANStep(self, trackers)).fit(
            source, callback_list, epochs, initial_epoch, steps_per_epoch)
        return self.history

    def _real_images(self, x: Any) -> torch.Tensor:
        if x is None:
            raise ValueError("fit() needs the real images x, e.g. gan.fit(x_train, epochs=10).")
        images = arrays.to_tensor(x, "x")
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"The real images have shape {tuple(images.shape[1:])} each, but the generator makes "
                             f"images of shape {self.image_shape}. Reshape the data (e.g. x[..., None] for a "
                             "channels axis) or change the generator.")
        arrays.check_finite(images, "x")
        if len(images) and float(images.abs().max()) > 1.0 + 1e-6:
            raise ValueError(f"The real images range up to {float(images.abs().max()):g}; a GAN compares them with "
                             "the generator's output, which a sigmoid or tanh keeps within [-1, 1]. Scale them: "
                             "x / 255 for a sigmoid generator, (x - 127.5) / 127.5 for tanh.")
        return images

    def _labels(self, y: Any, count: int) -> torch.Tensor | None:
        if y is not None:
            raise ValueError("A GAN learns from images alone; pass labels (y) to a ConditionalGAN instead.")
        return None

    # ------------------------------------------------------------ the two inputs
    def generator_input(self, count: int, labels: torch.Tensor | None, device: torch.device) -> torch.Tensor:
        """Noise `(count, latent_dim)` (a ConditionalGAN appends the one-hot labels)."""
        return torch.randn(count, self.latent_dim, device=device)

    def discriminator_input(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """What the discriminator sees for `images` (a ConditionalGAN appends label channels)."""
        return images

    def device_of_weights(self) -> torch.device:
        return next(self.generator.parameters()).device

    # ----------------------------------------------------- generator's average
    @staticmethod
    def _average_of(generator: Any) -> Any:
        average = copy.deepcopy(generator)
        average.requires_grad_(False)
        average.name = f"{getattr(generator, 'name', 'generator')}_ema"
        return average

    def update_generator_average(self) -> None:
        """After a generator step: average <- decay * average + (1 - decay) * generator."""
        if self.generator_ema is None or self.ema_decay is None:
            return
        with torch.no_grad():
            torch._foreach_lerp_(list(self.generator_ema.parameters()), list(self.generator.parameters()),
                                 1.0 - self.ema_decay)
            for average, current in zip(self.generator_ema.buffers(), self.generator.buffers()):
                average.copy_(current)

    # ------------------------------------------------------------------ sampling
    def generate(self, n: int | None = None, labels: Any = None, noise: Any = None, batch_size: int = 256,
                 use_average: bool = True) -> np.ndarray:
        """`n` new images `(n, *image_shape)` as NumPy, from fresh or given `noise` `(n, latent_dim)`;
        a ConditionalGAN needs `labels` (n class ids). Samples from the weight average when there is one."""
        if noise is None:
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"generate() needs n, a positive number of images, or noise; got n={n!r}.")
            noise = torch.randn(n, self.latent_dim)
        noise = arrays.to_tensor(noise, "noise")
        if noise.ndim != 2 or noise.shape[1] != self.latent_dim:
            raise ValueError(f"noise must have shape (n, {self.latent_dim}); got {tuple(noise.shape)}.")
        labels = self._labels(labels, len(noise))
        self._place()
        network = self.generator_ema if use_average and self.generator_ema is not None else self.generator
        device = self.device_of_weights()
        was_training = network.training
        network.eval()
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(noise), batch_size):
                part = noise[start:start + batch_size].to(device)
                label_part = None if labels is None else labels[start:start + batch_size].to(device)
                outputs.append(network(self._with_labels(part, label_part)))
        network.train(was_training)
        return torch.cat(outputs).float().cpu().numpy()

    def _with_labels(self, noise: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return noise

    # -------------------------------------------------------------------- saving
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "latent_dim": self.latent_dim, "generator": serialize_layer(self.generator),
                "discriminator": serialize_layer(self.discriminator),
                "generator_average": self.generator_ema is not None}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "GAN":
        config = dict(config)
        generator = deserialize_layer(config.pop("generator"))
        return cls(generator, deserialize_layer(config.pop("discriminator")), **config)

    def get_compile_config(self) -> dict[str, Any] | None:
        if not self.compiled:
            return None
        return {"loss": self.loss, "label_smoothing": self.label_smoothing, "d_steps": self.d_steps,
                "gradient_penalty_weight": self.gradient_penalty_weight, "ema_decay": self.ema_decay,
                "d_optimizer": optimizers.serialize(self.d_optimizer),
                "g_optimizer": optimizers.serialize(self.g_optimizer)}

    def compile_from_config(self, config: dict[str, Any], saved_optimizers: dict[str, Any]) -> None:
        config = dict(config)
        self.compile(d_optimizer=saved_optimizers.get("d_optimizer", config.pop("d_optimizer")),
                     g_optimizer=saved_optimizers.get("g_optimizer", config.pop("g_optimizer")),
                     **{k: v for k, v in config.items() if k not in ("d_optimizer", "g_optimizer")})

    def optimizers_to_save(self) -> dict[str, tuple[Any, Any]]:
        return {"d_optimizer": (self.d_optimizer, self.discriminator.parameters()),
                "g_optimizer": (self.g_optimizer, self.generator.parameters())}


class ConditionalGAN(GAN):
    """A GAN whose images are drawn for a requested class (Keras's conditional-GAN tutorial layout).

    Args:
        generator: takes `(batch, latent_dim + num_classes)`: noise, then a one-hot label.
        discriminator: takes `(batch, *image_shape[:-1], channels + num_classes)`: the image, then the
            one-hot label as constant channels.
        latent_dim: size of the noise vector; num_classes: number of classes.
    `fit(x, y)` takes integer (or one-hot) labels y; `generate(n, labels=...)` draws those classes.
    """

    def __init__(self, generator: Any, discriminator: Any, latent_dim: int, num_classes: int,
                 name: str | None = None, **kwargs: Any) -> None:
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer of at least 2; got {num_classes!r}.")
        self.num_classes = num_classes
        super().__init__(generator, discriminator, latent_dim, name=name, **kwargs)

    def _labels(self, y: Any, count: int) -> torch.Tensor:
        if y is None:
            raise ValueError(f"A ConditionalGAN needs class labels: fit(x, y) with y of {count} class ids in "
                             f"[0, {self.num_classes}), and generate(n, labels=...).")
        labels = arrays.to_tensor(y, "labels", float_type=False)
        if labels.ndim == 2 and labels.shape[1] == self.num_classes:
            labels = labels.argmax(dim=1)
        labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
        if labels.ndim != 1 or len(labels) != count:
            raise ValueError(f"Expected {count} class labels (shape ({count},)); got shape {tuple(labels.shape)}.")
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(f"Labels must be class ids in [0, {self.num_classes}); got values from "
                             f"{int(labels.min())} to {int(labels.max())}.")
        return labels.long()

    def _one_hot(self, labels: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return torch.nn.functional.one_hot(labels, self.num_classes).to(dtype)

    def generator_input(self, count: int, labels: torch.Tensor | None, device: torch.device) -> torch.Tensor:
        return self._with_labels(torch.randn(count, self.latent_dim, device=device), labels)

    def _with_labels(self, noise: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return torch.cat([noise, self._one_hot(labels, noise.dtype)], dim=1)

    def discriminator_input(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        maps = self._one_hot(labels, images.dtype).reshape(len(images), *([1] * (images.ndim - 2)), -1)
        return torch.cat([images, maps.expand(*images.shape[:-1], self.num_classes)], dim=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes}


def _loss_name(loss: Any) -> str:
    if isinstance(loss, str):
        name = loss.lower().replace("_", "-")
        aliases = {"binary-crossentropy": "bce", "wasserstein": "wasserstein-gp", "wgan-gp": "wasserstein-gp"}
        name = aliases.get(name, name)
        if name in adversarial.LOSSES:
            return name
    elif isinstance(loss, losses_module.BinaryCrossentropy):
        return "bce"
    raise ValueError(f"Unknown GAN loss {loss!r}; use one of {list(adversarial.LOSSES)} "
                     "(or losses.BinaryCrossentropy()).")


def _input_shape(network: Any) -> tuple | None:
    shape = getattr(network, "input_spec_shape", None)
    return tuple(shape) if isinstance(shape, tuple) else None
