"""MobileNetV2 (Sandler et al., 2018), as `keras.applications.MobileNetV2`, with Keras's layer names."""

from __future__ import annotations

from typing import Any

from ember import layers
from ember.applications._blocks import correct_pad, make_divisible
from ember.applications._common import check_arguments, finish, image_input

# (filters, stride, expansion) of the 17 inverted residual blocks
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
           (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
           (320, 1, 6))


def _batch_norm(name: str) -> Any:
    return layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=name)


def _inverted_residual(inputs: Any, filters: int, stride: int, expansion: int, alpha: float, block_id: int) -> Any:
    channels = inputs.shape[-1]
    pointwise = make_divisible(int(filters * alpha), 8)
    x, prefix = inputs, f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * channels, 1, padding="same", use_bias=False, name=prefix + "expand")(x)
        x = _batch_norm(prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x, 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, use_bias=False, padding="same" if stride == 1 else "valid",
                               name=prefix + "depthwise")(x)
    x = _batch_norm(prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(pointwise, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = _batch_norm(prefix + "project_BN")(x)
    if channels == pointwise and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


def MobileNetV2(input_shape: tuple | None = None, alpha: float = 1.0, include_top: bool = True,  # noqa: N802
                weights: Any = None, input_tensor: Any = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str | None = None) -> Any:
    """MobileNetV2: 3.5M weights at alpha=1.0 for 224x224x3 images (Keras's MobileNetV2).

    `alpha` scales every layer's width (0.35 to 1.4 in the paper). Other arguments as `ResNet50`'s.
    Input: images scaled to [-1, 1] (`preprocess_input`).
    """
    check_arguments("MobileNetV2", weights, pooling, include_top, classes)
    if alpha <= 0:
        raise ValueError(f"MobileNetV2: alpha must be positive; got {alpha}.")
    inputs = image_input(input_shape, input_tensor, 224, include_top, 32, "MobileNetV2")
    x = layers.Conv2D(make_divisible(32 * alpha, 8), 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = _batch_norm("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_residual(x, filters, stride, expansion, alpha, block_id)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = _batch_norm("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    rows = inputs.shape[1] or 224
    return finish(name or f"mobilenetv2_{alpha:0.2f}_{rows}", inputs, x, include_top, pooling, classes,
                  classifier_activation, weights,
                  pool_names=("global_average_pooling2d", "global_max_pooling2d"))

from ember.applications.preprocessing import preprocess_tf as preprocess_input  # noqa: E402  Keras's name
