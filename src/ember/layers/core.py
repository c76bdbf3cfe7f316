"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda,
GaussianNoise, ActivityRegularization, Identity."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ember import activations, regularizers
from ember._validation import require_positive_int, require_rate
from ember.layers import serialization
from ember.layers.base import Layer, Shape
from ember.layers.weight_arguments import kernel_bias_config, set_kernel_bias_arguments


class Dense(Layer):
    """Fully connected layer: `activation(inputs @ kernel + bias)` on the last axis.

    Args:
        units: size of the output's last axis; a positive int.
        activation: name or callable applied to the output; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as in Keras.
    Input shape: `(batch, ..., features)`. Output shape: `(batch, ..., units)`.
    The kernel has Keras's layout `(features, units)`.

    >>> layer = Dense(3, activation="relu")
    >>> layer(torch.ones(2, 4)).shape
    torch.Size([2, 3])
    """

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, units: int, activation: str | Callable | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = require_positive_int("units", units, layer=self)
        self.activation, self.use_bias = activations.get(activation), bool(use_bias)
        set_kernel_bias_arguments(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense '{self.name}' needs input of shape (batch, ..., features) with a known "
                             f"features axis; got shape {input_shape}.")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.ndim == 2 and self.bias is not None:
            return self.activation(torch.addmm(self.bias, inputs, self.kernel))  # one fused GEMM + bias
        return self.activation(F.linear(inputs, self.kernel.T, self.bias))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                **kernel_bias_config(self)}


class Activation(Layer):
    """Applies an activation function: `Activation("relu")`. Output shape = input shape."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, activation: str | Callable, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Sets a fraction `rate` of inputs to zero while training and scales the rest by 1/(1-rate).

    Args:
        rate: fraction to drop, in [0, 1).
        noise_shape: shape of the keep/drop mask, broadcast over the input (None entries take the
            input's size), e.g. `(None, 1, features)` to drop the same features at every step.
    Inert in inference. Output shape = input shape.
    """

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, rate: float, noise_shape: tuple | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = require_rate("rate", rate, layer=self)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, training=True)
        mask_shape = [size if want is None else want for want, size in zip(self.noise_shape, inputs.shape)]
        keep = torch.empty(mask_shape, device=inputs.device, dtype=inputs.dtype).bernoulli_(1 - self.rate)
        return inputs * keep / (1 - self.rate)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape), "seed": self.seed}


class SpatialDropout2D(Dropout):
    """Drops whole channels of `(batch, height, width, channels)` images while training."""

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = data_format or "channels_last"

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return inputs
        shape = (inputs.shape[0], 1, 1, inputs.shape[3]) if self.data_format == "channels_last" else \
            (inputs.shape[0], inputs.shape[1], 1, 1)
        keep = torch.empty(shape, device=inputs.device, dtype=inputs.dtype).bernoulli_(1 - self.rate)
        return inputs * keep / (1 - self.rate)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("noise_shape", None)
        return {**config, "data_format": self.data_format}


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise with `stddev` while training; inert in inference."""

    stepwise_decoding = True
    supports_masking = True

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"GaussianNoise '{self.name}': stddev must be a non-negative number; got {stddev!r}.")
        self.stddev, self.seed = float(stddev), seed

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self.training or self.stddev == 0:
            return inputs
        return inputs + torch.randn_like(inputs) * self.stddev

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class Flatten(Layer):
    """Flattens all axes but the batch axis: `(batch, ...)` -> `(batch, product)`, in Keras's
    (channels-last) order, so that weights move between Keras and ember unchanged."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], -1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (no batch axis; one entry may be -1)."""

    def __init__(self, target_shape: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d == 0 or d < -1 for d in self.target_shape):
            raise ValueError(f"Reshape '{self.name}': target_shape may hold positive sizes and at most one -1; "
                             f"got {self.target_shape}.")

    def build(self, input_shape: Shape) -> None:
        if any(d is None for d in input_shape[1:]):
            return
        size, target = math.prod(input_shape[1:]), math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and size % target) or (-1 not in self.target_shape and size != target):
            raise ValueError(f"Reshape '{self.name}': cannot reshape samples of shape {tuple(input_shape[1:])} "
                             f"({size} values) to {self.target_shape}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permutes the non-batch axes: `dims` is a permutation of 1..rank-1 (1-indexed, as in Keras)."""

    def __init__(self, dims: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute '{self.name}': dims must be a permutation of 1..{len(self.dims)}; "
                             f"got {self.dims}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(0, *self.dims)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: output `(batch, n, features)`."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = require_positive_int("n", n, layer=self)

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector '{self.name}' expects 2-D input (batch, features); "
                             f"got shape {input_shape}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}


class Lambda(Layer):
    """Wraps a function of tensors as a layer: `Lambda(lambda x: x ** 2)`.

    A named function is saved by name, and `load_model(..., custom_objects={name: function})`
    supplies it again. An anonymous `lambda` is also saved as bytecode, as Keras does, which a load
    runs only when told to (`safe_mode=False`); by default such a file is refused.
    """

    def __init__(self, function: Callable, output_shape: Any = None, arguments: dict | None = None,
                 **kwargs: Any) -> None:
        kwargs.pop("mask", None)
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda '{self.name}': function must be callable; got {function!r}.")
        self.function, self.arguments = function, dict(arguments or {})

    def forward(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def get_config(self) -> dict[str, Any]:
        function = serialization.function_to_config(self.function) if hasattr(self.function, "__name__") \
            else "<lambda>"
        return {**super().get_config(), "function": function, "arguments": self.arguments}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Lambda":
        """The function comes from the user's `custom_objects`, or from bytecode with safe_mode=False."""
        config = dict(config)
        config["function"] = serialization.function_from_config(config.get("function"), config.get("name"))
        return cls(**config)


class ActivityRegularization(Layer):
    """Passes its input through and adds `l1 * sum|x| + l2 * sum x²` to the training loss."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=regularizers.L1L2(l1, l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


class Identity(Layer):
    """Returns its input unchanged."""

    stepwise_decoding = True
    supports_masking = True

    def forward(self, inputs: Any) -> Any:
        return inputs
