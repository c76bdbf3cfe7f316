"""`keras.ops.nn`: activations, one-hot encodings, element- and sample-wise losses, convolutions and
pooling on channels-last tensors (Keras's kernel layouts), normalisation and attention."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ember import activations
from ember.layers.conv import channels_first, channels_last, pad_same, transpose_padding
from ember.ops._convert import floating, tensor, tensors
from ember.ops.core import cast


def _activation(function: Any, name: str) -> Any:
    def op(x: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        return function(floating(tensor(x)), *args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = function.__doc__
    return op


relu = _activation(activations.relu, "relu")
relu6 = _activation(activations.relu6, "relu6")
sigmoid = _activation(activations.sigmoid, "sigmoid")
softplus = _activation(activations.softplus, "softplus")
softsign = _activation(activations.softsign, "softsign")
silu = swish = _activation(activations.silu, "silu")
elu = _activation(activations.elu, "elu")
selu = _activation(activations.selu, "selu")
leaky_relu = _activation(activations.leaky_relu, "leaky_relu")
hard_sigmoid = _activation(activations.hard_sigmoid, "hard_sigmoid")
hard_silu = hard_swish = _activation(activations.hard_silu, "hard_silu")
mish = _activation(activations.mish, "mish")
log_sigmoid = _activation(F.logsigmoid, "log_sigmoid")
tanh_shrink = _activation(F.tanhshrink, "tanh_shrink")


def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
    """Gaussian error linear unit; the tanh approximation by default, as `keras.ops.gelu`."""
    return F.gelu(floating(tensor(x)), approximate="tanh" if approximate else "none")


def softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """exp(x) normalised to sum to one over `axis` (an int or a tuple of axes)."""
    x = floating(tensor(x))
    if isinstance(axis, int):
        return torch.softmax(x, dim=axis)
    return torch.exp(x - torch.logsumexp(x, dim=tuple(axis), keepdim=True))


def log_softmax(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.log_softmax(floating(tensor(x)), dim=axis)


def glu(x: Any, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: the first half of `axis` times the sigmoid of the second."""
    return F.glu(floating(tensor(x)), dim=axis)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> torch.Tensor:
    """Integer labels as one-hot vectors on a new axis (float32 unless `dtype`); -1 gives zeros."""
    x = tensor(x).long()
    encoded = F.one_hot(x.clamp_min(0), num_classes) * (x >= 0).unsqueeze(-1)
    encoded = encoded.movedim(-1, axis) if axis != -1 else encoded
    return cast(encoded, dtype or "float32")


def multi_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> torch.Tensor:
    """Each row's labels as one vector with ones at those classes."""
    encoded = one_hot(x, num_classes, dtype=dtype)
    return encoded.amax(dim=-2) if encoded.ndim > 2 else encoded.amax(dim=0)


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> torch.Tensor:
    """Elementwise binary cross-entropy (no reduction), as `keras.ops.binary_crossentropy`."""
    target, output = tensors(target, output)
    output = floating(output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target.to(output.dtype), reduction="none")
    output = output.clamp(1e-7, 1 - 1e-7)
    return -(target * torch.log(output) + (1 - target) * torch.log(1 - output))


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> torch.Tensor:
    """Cross-entropy of one-hot `target` and `output` per sample (reduces `axis`)."""
    target, output = tensors(target, output)
    output = floating(output)
    if from_logits:
        log_probabilities = torch.log_softmax(output, dim=axis)
    else:
        probabilities = output / output.sum(dim=axis, keepdim=True)
        log_probabilities = torch.log(probabilities.clamp(1e-7, 1 - 1e-7))
    return -(target * log_probabilities).sum(dim=axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> torch.Tensor:
    """Cross-entropy of integer `target` (one class per sample) and `output` (reduces `axis`)."""
    output = floating(tensor(output))
    return categorical_crossentropy(one_hot(target, output.shape[axis], axis=axis, dtype=output.dtype), output,
                                    from_logits, axis)


def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) variance over `axes`."""
    x = floating(tensor(x))
    dims = (axes,) if isinstance(axes, int) else tuple(axes)
    variance, mean = torch.var_mean(x, dim=dims, keepdim=keepdims, correction=0)
    return mean, variance


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None, scale: Any = None,
                        epsilon: float = 1e-3) -> torch.Tensor:
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics given along `axis`."""
    x = floating(tensor(x))
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def along(value: Any) -> torch.Tensor:
        return tensor(value, x.dtype).to(x.device).reshape(shape)

    result = (x - along(mean)) * torch.rsqrt(along(variance) + epsilon)
    if scale is not None:
        result = result * along(scale)
    return result + along(offset) if offset is not None else result


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> torch.Tensor:
    """`x` divided by its `order`-norm along `axis`."""
    return F.normalize(floating(tensor(x)), p=order, dim=axis, eps=1e-12 if epsilon is None else epsilon)


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None, scale: float | None = None,
                          is_causal: bool = False, flash_attention: bool | None = None) -> torch.Tensor:
    """Scaled dot-product attention on `(batch, steps, heads, head_dim)` tensors (Keras's layout);
    `mask` is True where attention is allowed; `bias` is added to the scores."""
    query, key, value = (floating(tensor(t)).transpose(1, 2) for t in (query, key, value))
    attn_mask = None
    if mask is not None:
        attn_mask = tensor(mask).bool().to(query.device)
    if bias is not None:
        bias = tensor(bias, query.dtype).to(query.device)
        attn_mask = bias if attn_mask is None else bias.masked_fill(~attn_mask, float("-inf"))
    outputs = F.scaled_dot_product_attention(query, key, value, attn_mask=attn_mask, is_causal=is_causal,
                                             scale=scale)
    return outputs.transpose(1, 2)


# ------------------------------------------------------------ convolutions


def _spatial(value: Any, rank: int) -> tuple[int, ...]:
    return (int(value),) * rank if isinstance(value, int) else tuple(int(v) for v in value)


def _to_channels_first(inputs: Any, data_format: str | None) -> torch.Tensor:
    x = floating(tensor(inputs))
    return channels_first(x) if (data_format or "channels_last") == "channels_last" else x


def _from_channels_first(outputs: torch.Tensor, data_format: str | None) -> torch.Tensor:
    return channels_last(outputs) if (data_format or "channels_last") == "channels_last" else outputs


def _check_padding(padding: str) -> str:
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}.")
    return padding


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
         dilation_rate: Any = 1) -> torch.Tensor:
    """N-D convolution. inputs `(batch, *spatial, in)` (channels_last), kernel in Keras's layout
    `(*window, in / groups, out)`; output `(batch, *spatial_out, out)`."""
    x = _to_channels_first(inputs, data_format)
    kernel = tensor(kernel, x.dtype).to(x.device)
    rank = kernel.ndim - 2
    strides, dilation = _spatial(strides, rank), _spatial(dilation_rate, rank)
    groups = x.shape[1] // kernel.shape[-2]
    if x.shape[1] != groups * kernel.shape[-2]:
        raise ValueError(f"ops.conv: the inputs have {x.shape[1]} channels, the kernel of shape {tuple(kernel.shape)} "
                         f"takes {kernel.shape[-2]} per group; the first must be a multiple of the second.")
    weight = kernel.permute(rank + 1, rank, *range(rank))  # (out, in / groups, *window)
    if _check_padding(padding) == "same":
        x = pad_same(x, tuple(kernel.shape[:rank]), strides, dilation)
    convolution = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    return _from_channels_first(convolution(x, weight, None, strides, 0, dilation, groups), data_format)


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1) -> torch.Tensor:
    """Per-channel convolution; kernel `(*window, in, multiplier)`, output channels in * multiplier."""
    kernel = tensor(kernel)
    rank = kernel.ndim - 2
    window, channels, multiplier = kernel.shape[:rank], kernel.shape[-2], kernel.shape[-1]
    grouped = kernel.reshape(*window, 1, channels * multiplier)  # (in, multiplier) flattened, as Keras orders it
    return conv(inputs, grouped, strides, padding, data_format, dilation_rate)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """A depthwise convolution followed by a 1×1 (pointwise) convolution."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format)


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", output_padding: Any = None,
                   data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """Transposed convolution; kernel `(*window, out, in)` as Keras's; output size per axis
    (in - 1) * stride + window ("valid") or in * stride ("same")."""
    x = _to_channels_first(inputs, data_format)
    kernel = tensor(kernel, x.dtype).to(x.device)
    rank = kernel.ndim - 2
    strides, dilation = _spatial(strides, rank), _spatial(dilation_rate, rank)
    extra = None if output_padding is None else _spatial(output_padding, rank)
    paddings, extras = transpose_padding(tuple(kernel.shape[:rank]), strides, dilation, _check_padding(padding), extra)
    weight = kernel.permute(rank + 1, rank, *range(rank))  # (in, out, *window)
    convolution = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[rank - 1]
    return _from_channels_first(convolution(x, weight, None, strides, paddings, extras, 1, dilation), data_format)


def _pool(inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: str | None, kind: str) -> torch.Tensor:
    x = _to_channels_first(inputs, data_format)
    rank = x.ndim - 2
    window = _spatial(pool_size, rank)
    strides = window if strides is None else _spatial(strides, rank)
    if kind == "max":
        if _check_padding(padding) == "same":
            x = pad_same(x, window, strides, (1,) * rank, float("-inf"))
        outputs = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1](x, window, strides)
    else:
        pooled = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
        if _check_padding(padding) == "same":  # Keras averages over the real values only
            ones = torch.ones_like(x[:, :1])
            total = pooled(pad_same(x, window, strides, (1,) * rank), window, strides)
            count = pooled(pad_same(ones, window, strides, (1,) * rank), window, strides)
            outputs = total / count
        else:
            outputs = pooled(x, window, strides)
    return _from_channels_first(outputs, data_format)


def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> torch.Tensor:
    """Largest value in each window; inputs `(batch, *spatial, channels)`."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max")


def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> torch.Tensor:
    """Mean of each window (of its real values, with "same" padding); inputs `(batch, *spatial, channels)`."""
    return _pool(inputs, pool_size, strides, padding, data_format, "average")


def psnr(x1: Any, x2: Any, max_val: float) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB between two images (or batches)."""
    x1, x2 = tensors(x1, x2)
    mse = torch.mean((floating(x1) - floating(x2)) ** 2)
    return 20 * math.log10(max_val) - 10 * torch.log10(mse)
