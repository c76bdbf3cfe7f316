"""Models: `Sequential`, the functional `Model(inputs, outputs)`, subclassed `Model`s, and loading."""

from ember.models.functional import Functional
from ember.models.model import Model
from ember.models.sequential import Sequential
from ember.models.test_time_augmentation import TestTimeAugmentation


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 - Keras's argument name
    """Loads a model saved with `model.save` (see `ember.saving.load_model`)."""
    from ember.saving import load_model as _load_model

    return _load_model(filepath, custom_objects=custom_objects, compile=compile)


__all__ = ["Model", "Sequential", "Functional", "TestTimeAugmentation", "load_model"]
