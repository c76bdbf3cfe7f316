"""Convolution layers on channels-last tensors: Conv1D and Conv2D (Keras's arguments and shapes).

An `(batch, height, width, channels)` tensor that is contiguous is the same memory as an
`(batch, channels, height, width)` tensor in `torch.channels_last` format, so the layer permutes
views and never copies. The kernel is stored in PyTorch's layout `(out, in, *kernel)`; weights
are converted to and from Keras's layout `(*kernel, in, out)` only in get/set_weights.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ember import activations, constraints, initializers, regularizers
from ember._validation import require_choice, require_positive_int
from ember.layers.base import Layer, Layout, Shape
from ember.layers.weight_arguments import kernel_bias_config, set_kernel_bias_arguments


def _tuple(value: int | tuple, rank: int, argument: str, layer: Layer) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {argument} needs {rank} values; got {value!r}.")
    return tuple(require_positive_int(argument, v, layer) for v in values)


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Keras's (and TensorFlow's) "same" padding: output = ceil(size / stride), extra at the end."""
    output = math.ceil(size / stride)
    total = max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_same(inputs: torch.Tensor, kernel: tuple, strides: tuple, dilation: tuple, value: float = 0.0) -> torch.Tensor:
    """Pads the trailing spatial axes of a channels-first view for "same" output sizes."""
    pads: list[int] = []
    for axis in reversed(range(len(kernel))):
        size = inputs.shape[2 + axis]
        pads += list(same_padding(size, kernel[axis], strides[axis], dilation[axis]))
    return F.pad(inputs, pads, value=value) if any(pads) else inputs


def transpose_padding(kernel_size: tuple, strides: tuple, dilation: tuple, padding: str,
                      output_padding: tuple | None = None) -> tuple[list[int], list[int]]:
    """Torch's (padding, output_padding) per spatial axis for a transposed convolution with Keras's
    output sizes: "valid" (in - 1) * stride + kernel, "same" in * stride."""
    paddings, extras = [], []
    for axis in range(len(kernel_size)):
        kernel = (kernel_size[axis] - 1) * dilation[axis] + 1
        stride = strides[axis]
        if padding == "valid":
            pad, extra = 0, 0
        else:  # output = input * stride
            total = kernel - stride
            pad, extra = (max(total, 0) + 1) // 2, (max(total, 0) % 2 if total >= 0 else -total)
        if output_padding is not None:
            extra += output_padding[axis]
        paddings.append(pad)
        extras.append(extra)
    return paddings, extras


def channels_first(inputs: torch.Tensor) -> torch.Tensor:
    """(batch, *spatial, channels) -> a (batch, channels, *spatial) view of the same memory."""
    return inputs.movedim(-1, 1)


def channels_last(outputs: torch.Tensor) -> torch.Tensor:
    """(batch, channels, *spatial) -> (batch, *spatial, channels), a view when the memory is channels-last."""
    return outputs.movedim(1, -1)


class _Conv(Layer):
    """Shared mechanism of Conv1D and Conv2D."""

    rank: int
    _convolution: Callable

    def __init__(self, filters: int, kernel_size: int | tuple, strides: int | tuple = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: int | tuple = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = require_positive_int("filters", filters, self)
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size", self)
        self.strides = _tuple(strides, self.rank, "strides", self)
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate", self)
        self.padding = require_choice("padding", str(padding).lower(), ("valid", "same"), self)
        self.data_format = require_choice("data_format", data_format or "channels_last",
                                          ("channels_last", "channels_first"), self)
        self.groups = require_positive_int("groups", groups, self)
        if self.filters % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': filters ({filters}) must be divisible by groups "
                             f"({groups}).")
        self.activation, self.use_bias = activations.get(activation), bool(use_bias)
        set_kernel_bias_arguments(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != self.rank + 2:
            axes = ", ".join(["height", "width"][-self.rank:] if self.rank <= 2 else ["depth", "height", "width"])
            layout = f"(batch, {axes}, channels)" if self.data_format == "channels_last" \
                else f"(batch, channels, {axes})"
            raise ValueError(f"{type(self).__name__} '{self.name}' expects {self.rank + 2}-D input {layout}; got shape "
                             f"{input_shape}." + (" Add a channels axis, e.g. x[..., None]."
                                                  if len(input_shape) == self.rank + 1 else ""))
        channels = input_shape[self._channel_axis()]
        if channels is None or channels % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': input channels ({channels}) must be known and "
                             f"divisible by groups ({self.groups}).")
        # drawn in Keras's layout (so the fans match Keras), stored in PyTorch's (out, in, *kernel)
        self.kernel = self.add_weight("kernel", self.keras_kernel_shape(channels), self.kernel_initializer,
                                      layout=self.kernel_layout(), regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def keras_kernel_shape(self, channels: int) -> tuple[int, ...]:
        return self.kernel_size + (channels // self.groups, self.filters)

    def kernel_layout(self) -> Layout:
        return CONV_KERNEL

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = channels_first(inputs) if self.data_format == "channels_last" else inputs
        outputs = self.convolve(x)
        return self.activation(outputs if self.data_format == "channels_first" else channels_last(outputs))

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution on a channels-first view `(batch, channels, *spatial)`."""
        padding: Any = 0
        if self.padding == "same":
            if all(s == 1 for s in self.strides):
                padding = "same"
            else:
                x = pad_same(x, self.kernel_size, self.strides, self.dilation_rate)
        return type(self)._convolution(x, self.kernel, self.bias, self.strides, padding, self.dilation_rate,
                                       self.groups)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **kernel_bias_config(self)}


def _to_torch_layout(kernel: torch.Tensor) -> torch.Tensor:
    """(*kernel, in, out) -> (out, in, *kernel)."""
    rank = kernel.ndim - 2
    return kernel.permute(rank + 1, rank, *range(rank)).contiguous()


def _to_keras_layout(kernel: torch.Tensor) -> torch.Tensor:
    """(out, in, *kernel) -> (*kernel, in, out)."""
    rank = kernel.ndim - 2
    return kernel.permute(*range(2, rank + 2), 1, 0).contiguous()


CONV_KERNEL = Layout(_to_keras_layout, _to_torch_layout)


class Conv1D(_Conv):
    """1-D convolution over `(batch, steps, channels)`; output `(batch, new_steps, filters)`."""

    rank = 1
    _convolution = staticmethod(F.conv1d)

    def __init__(self, filters: int, kernel_size: int | tuple, strides: int | tuple = 1, padding: str = "valid",
                 **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over `(batch, height, width, channels)`; output `(batch, new_h, new_w, filters)`.

    Args:
        filters: output channels. kernel_size, strides, dilation_rate: an int or a pair.
        padding: "valid" (no padding) or "same" (output size ceil(input / stride), as Keras).
    Kernel in Keras's layout for get/set_weights: `(kh, kw, in, filters)`.
    """

    rank = 2
    _convolution = staticmethod(F.conv2d)

    def __init__(self, filters: int, kernel_size: int | tuple, strides: int | tuple = (1, 1), padding: str = "valid",
                 **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over `(batch, depth, height, width, channels)`."""

    rank = 3
    _convolution = staticmethod(F.conv3d)

    def __init__(self, filters: int, kernel_size: int | tuple, strides: int | tuple = (1, 1, 1),
                 padding: str = "valid", **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, **kwargs)


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (learned upsampling), as in generators and decoders.

    Output size per spatial axis: "valid": (in - 1) * stride + kernel; "same": in * stride (Keras's rules).
    Kernel in Keras's layout `(kh, kw, filters, in_channels)`.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: int | tuple, strides: int | tuple = (1, 1), padding: str = "valid",
                 output_padding: int | tuple | None = None, **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, **kwargs)
        if self.groups != 1:
            raise ValueError(f"Conv2DTranspose '{self.name}': groups are not supported.")
        self.output_padding = None if output_padding is None else _tuple(output_padding, 2, "output_padding", self)

    def keras_kernel_shape(self, channels: int) -> tuple[int, ...]:
        return self.kernel_size + (self.filters, channels)

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        paddings, extras = transpose_padding(self.kernel_size, self.strides, self.dilation_rate, self.padding,
                                             self.output_padding)
        return F.conv_transpose2d(x, self.kernel, self.bias, self.strides, paddings, extras, 1,
                                  self.dilation_rate)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_padding": None if self.output_padding is None
                else list(self.output_padding)}


def _depthwise_to_torch(kernel: torch.Tensor) -> torch.Tensor:
    """Keras (kh, kw, in, multiplier) -> PyTorch grouped (in * multiplier, 1, kh, kw)."""
    kh, kw, channels, multiplier = kernel.shape
    return kernel.permute(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw).contiguous()


def _depthwise_to_keras(kernel: torch.Tensor, multiplier: int) -> torch.Tensor:
    total, _, kh, kw = kernel.shape
    return kernel.reshape(total // multiplier, multiplier, kh, kw).permute(2, 3, 0, 1).contiguous()


class DepthwiseConv2D(_Conv):
    """A separate 2-D filter per input channel (`depth_multiplier` of them): groups = channels.

    Kernel in Keras's layout `(kh, kw, in_channels, depth_multiplier)`.
    """

    rank = 2
    _convolution = staticmethod(F.conv2d)

    def __init__(self, kernel_size: int | tuple, strides: int | tuple = (1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, depthwise_initializer: Any = "glorot_uniform",
                 depthwise_regularizer: Any = None, depthwise_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(1, kernel_size, strides, padding, kernel_initializer=depthwise_initializer,
                         kernel_regularizer=depthwise_regularizer, kernel_constraint=depthwise_constraint, **kwargs)
        self.depth_multiplier = require_positive_int("depth_multiplier", depth_multiplier, self)

    def build(self, input_shape: Shape) -> None:
        channels = input_shape[self._channel_axis()] if len(input_shape) == 4 else None
        if channels is not None:  # one group per input channel
            self.groups, self.filters = channels, channels * self.depth_multiplier
        super().build(input_shape)

    def keras_kernel_shape(self, channels: int) -> tuple[int, ...]:
        return self.kernel_size + (channels, self.depth_multiplier)

    def kernel_layout(self) -> Layout:
        multiplier = self.depth_multiplier
        return Layout(lambda kernel: _depthwise_to_keras(kernel, multiplier), _depthwise_to_torch)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("filters", "groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        return {**config, "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.kernel_initializer),
                "depthwise_regularizer": regularizers.serialize(self.kernel_regularizer),
                "depthwise_constraint": constraints.serialize(self.kernel_constraint)}


class SeparableConv2D(Layer):
    """A depthwise convolution (one filter set per channel) followed by a 1x1 pointwise convolution.

    Weights in Keras's order and layouts: depthwise_kernel `(kh, kw, in, depth_multiplier)`,
    pointwise_kernel `(1, 1, in * depth_multiplier, filters)`, bias.
    """

    def __init__(self, filters: int, kernel_size: int | tuple, strides: int | tuple = (1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", pointwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", dilation_rate: int | tuple = (1, 1), **kwargs: Any) -> None:
        super().__init__(**{k: v for k, v in kwargs.items() if k in ("name", "trainable", "input_shape", "dtype")})
        self.depthwise = DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier=depth_multiplier,
                                         depthwise_initializer=depthwise_initializer, dilation_rate=dilation_rate,
                                         use_bias=False, name=f"{self.name}_depthwise")
        self.pointwise = Conv2D(filters, 1, activation=activation, use_bias=use_bias,
                                kernel_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                                name=f"{self.name}_pointwise")
        self.filters = self.pointwise.filters

    def build(self, input_shape: Shape) -> None:
        self.depthwise.build_from_shapes(input_shape)
        channels = input_shape[-1] * self.depthwise.depth_multiplier
        self.pointwise.build_from_shapes(tuple(input_shape[:-1]) + (channels,))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(inputs))

    def get_config(self) -> dict[str, Any]:
        depthwise, pointwise = self.depthwise, self.pointwise
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(depthwise.kernel_size),
                "strides": list(depthwise.strides), "padding": depthwise.padding,
                "depth_multiplier": depthwise.depth_multiplier, "dilation_rate": list(depthwise.dilation_rate),
                "activation": activations.serialize(pointwise.activation), "use_bias": pointwise.use_bias,
                "depthwise_initializer": initializers.serialize(depthwise.kernel_initializer),
                "pointwise_initializer": initializers.serialize(pointwise.kernel_initializer),
                "bias_initializer": initializers.serialize(pointwise.bias_initializer)}
