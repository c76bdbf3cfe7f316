"""Normalization layers: BatchNormalization and LayerNormalization, with Keras's defaults."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember import initializers, regularizers
from ember.layers.base import Layer, Shape


class BatchNormalization(Layer):
    """Normalizes over the batch (and every axis but `axis`), keeping moving statistics for inference.

    Args:
        axis: the feature axis (the last: channels-last images, Dense features).
        momentum: weight of the old moving statistics (Keras's 0.99; PyTorch's momentum is 1 - this).
        epsilon: added to the variance (Keras's 1e-3).
        center, scale: whether to learn beta (offset) and gamma (scale).
    Input shape: any, with a known size along `axis`. Output shape = input shape.
    Weights in Keras's order: gamma, beta, moving_mean, moving_variance.
    """

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= momentum < 1:
            raise ValueError(f"BatchNormalization '{self.name}': momentum must be in [0, 1); got {momentum}.")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape: Shape) -> None:
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0 or input_shape[self.axis] is None:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} must be a non-batch axis of "
                             f"known size; got input shape {input_shape}.")
        features = (input_shape[self.axis],)
        self.gamma = self.add_weight("gamma", features, self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", features, self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", features, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", features, self.moving_variance_initializer,
                                               trainable=False)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        axis = self.axis % inputs.ndim
        # A frozen BatchNormalization runs in inference mode, as in Keras.
        training = self.training and self.trainable
        if axis == inputs.ndim - 1 and inputs.ndim > 2:
            flat = inputs.reshape(-1, inputs.shape[-1])  # (samples * positions, features): a view
            return self._normalize(flat, training).reshape(inputs.shape)
        moved = inputs.movedim(axis, 1)  # (batch, features, ...)
        return self._normalize(moved, training).movedim(1, axis)

    def _normalize(self, inputs: torch.Tensor, training: bool) -> torch.Tensor:
        return F.batch_norm(inputs, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                            training=training, momentum=1 - self.momentum, eps=self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (the last by default), then scales and shifts.

    Args:
        axis: an axis or list of trailing axes to normalize over.
        epsilon: added to the variance (Keras's 1e-3).
        center, scale: whether to learn beta and gamma.
    Output shape = input shape.
    """

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = [int(axis)] if isinstance(axis, int) else [int(a) for a in axis]
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape: Shape) -> None:
        rank = len(input_shape)
        axes = sorted(a % rank for a in self.axis)
        if axes != list(range(rank - len(axes), rank)) or 0 in axes:
            raise ValueError(f"LayerNormalization '{self.name}': axis must name the trailing non-batch axes; "
                             f"got axis={self.axis} for input shape {input_shape}.")
        self._normalized_shape = tuple(input_shape[a] for a in axes)
        self.gamma = self.add_weight("gamma", self._normalized_shape, self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", self._normalized_shape, self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(inputs, self._normalized_shape, self.gamma, self.beta, self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}
