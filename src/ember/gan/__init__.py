"""Generative adversarial networks in one place: model.py (`GAN`, `ConditionalGAN`), step.py (the
adversarial training step and its trackers), adversarial.py (the GAN losses and the gradient
penalty), monitor.py (`GANMonitor`, the image-grid callback) and quality.py (Fréchet distance and
class accuracy on a classifier's features)."""

from ember.gan.model import GAN, ConditionalGAN
from ember.gan.monitor import GANMonitor
from ember.gan.quality import class_accuracy, classifier_features, frechet_distance

__all__ = ["GAN", "ConditionalGAN", "GANMonitor", "frechet_distance", "class_accuracy", "classifier_features"]
