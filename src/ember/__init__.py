"""ember: Keras-style deep learning on PyTorch, fast by default.

`import ember as keras` runs Keras 3 style code; `from ember import layers, models` mirrors
`from tensorflow.keras import layers, models`.
"""

from ember import (activations, applications, backend, callbacks, config, constraints, continual, data, datasets,
                   distribution,
                   explain, fairness, fewshot, gan,
                   generation, initializers, layers, losses, metrics, mixed_precision, models, ops, optimizers,
                   preprocessing, quantum, random, recommenders, regularizers, semi_supervised, saving, text, utils, variables)
from ember.layers import Input, Layer
from ember.models import Model, Sequential, load_model
from ember.variables import Variable

__version__ = "0.1.0"

__all__ = [
    "Sequential", "Model", "Input", "Layer", "load_model", "layers", "models", "activations", "callbacks", "config",
    "constraints", "data", "datasets", "explain", "initializers", "losses", "metrics", "optimizers", "preprocessing",
    "regularizers", "saving", "text", "utils", "backend", "gan", "generation", "mixed_precision", "random",
    "ops", "variables", "Variable", "applications", "quantum", "distribution", "fairness",
    "recommenders", "fewshot", "semi_supervised", "continual",
]
