"""Models: `Sequential`, the functional `Model(inputs, outputs)`, subclassed `Model`s, loading,
saving and cloning (Keras's `keras.models` names), and autoencoders (`Autoencoder`, `VAE`)."""

from ember.models.autoencoder import VAE, Autoencoder
from ember.models.cloning import clone_model
from ember.models.functional import Functional
from ember.models.model import Model
from ember.models.sequential import Sequential
from ember.models.test_time_augmentation import TestTimeAugmentation
from ember.saving import load_model, model_from_json, save_model

__all__ = ["Model", "Sequential", "Functional", "TestTimeAugmentation", "load_model", "save_model", "model_from_json",
           "clone_model",
           "Autoencoder", "VAE"]
