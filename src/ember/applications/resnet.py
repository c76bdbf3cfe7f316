"""ResNet50 (He et al., 2015), layer for layer as `keras.applications.ResNet50`, with Keras's layer names."""

from __future__ import annotations

from typing import Any

from ember import layers
from ember.applications._common import check_arguments, finish, image_input

_EPSILON = 1.001e-5


def _block(x: Any, filters: int, stride: int = 1, conv_shortcut: bool = True, name: str = "") -> Any:
    """A bottleneck block: 1x1, 3x3, 1x1 convolutions (4 * filters out) beside the shortcut."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=_EPSILON, name=name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPSILON, name=name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=name + "_2_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPSILON, name=name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPSILON, name=name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def _stack(x: Any, filters: int, blocks: int, stride: int = 2, name: str = "") -> Any:
    x = _block(x, filters, stride=stride, name=name + "_block1")
    for index in range(2, blocks + 1):
        x = _block(x, filters, conv_shortcut=False, name=f"{name}_block{index}")
    return x


def ResNet50(include_top: bool = True, weights: Any = None, input_tensor: Any = None,  # noqa: N802 - Keras's name
             input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
             classifier_activation: Any = "softmax", name: str = "resnet50") -> Any:
    """ResNet50: 25.6M weights for 224x224x3 images and 1000 classes (Keras's ResNet50).

    Args:
        include_top: end with global average pooling and a `classes`-way Dense ("predictions").
        weights: None (random initialization) or the path of a safetensors file of converted weights.
        input_tensor / input_shape: the input (channels last); without the top any size >= 32.
        pooling: without the top, None (feature maps), "avg" or "max" (vectors).
    Input: `(batch, height, width, 3)` images, preprocessed with `preprocess_input`.
    """
    check_arguments("ResNet50", weights, pooling, include_top, classes)
    inputs = image_input(input_shape, input_tensor, 224, include_top, 32, "ResNet50")
    x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = _stack(x, 64, 3, stride=1, name="conv2")
    x = _stack(x, 128, 4, name="conv3")
    x = _stack(x, 256, 6, name="conv4")
    x = _stack(x, 512, 3, name="conv5")
    return finish(name, inputs, x, include_top, pooling, classes, classifier_activation, weights)

from ember.applications.preprocessing import preprocess_caffe as preprocess_input  # noqa: E402  Keras's name
