"""EfficientNetB0 (Tan and Le, 2019), as `keras.applications.EfficientNetB0`, with Keras's layer names.

The model starts with its own preprocessing, as Keras's does: pixels in [0, 255] are rescaled to
[0, 1] and normalised with the ImageNet mean and variance (fixed, not learnt).
"""

from __future__ import annotations

import math
from typing import Any

from ember import initializers, layers
from ember.applications._blocks import correct_pad, make_divisible
from ember.applications._common import check_arguments, finish, image_input

# kernel, repeats, filters in, filters out, expansion, stride (squeeze-and-excite ratio 0.25 throughout)
_BLOCKS = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
           (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1))
_IMAGENET_MEAN = [0.485, 0.456, 0.406]
_IMAGENET_VARIANCE = [0.229 ** 2, 0.224 ** 2, 0.225 ** 2]


def _conv_init() -> Any:
    return initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="truncated_normal")


def _block(inputs: Any, drop_rate: float, name: str, filters_in: int, filters_out: int, kernel_size: int,
           strides: int, expansion: int, se_ratio: float = 0.25) -> Any:
    """An inverted residual block with squeeze-and-excitation (MBConv)."""
    filters = filters_in * expansion
    x = inputs
    if expansion != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=_conv_init(),
                          name=name + "expand_conv")(x)
        x = layers.BatchNormalization(name=name + "expand_bn")(x)
        x = layers.Activation("swish", name=name + "expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(correct_pad(x, kernel_size), name=name + "dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same",
                               use_bias=False, depthwise_initializer=_conv_init(), name=name + "dwconv")(x)
    x = layers.BatchNormalization(name=name + "bn")(x)
    x = layers.Activation("swish", name=name + "activation")(x)
    squeezed = max(1, int(filters_in * se_ratio))
    se = layers.GlobalAveragePooling2D(name=name + "se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=name + "se_reshape")(se)
    se = layers.Conv2D(squeezed, 1, padding="same", activation="swish", kernel_initializer=_conv_init(),
                       name=name + "se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=_conv_init(),
                       name=name + "se_expand")(se)
    x = layers.multiply([x, se], name=name + "se_excite")
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=_conv_init(),
                      name=name + "project_conv")(x)
    x = layers.BatchNormalization(name=name + "project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = layers.add([x, inputs], name=name + "add")
    return x


def EfficientNetB0(include_top: bool = True, weights: Any = None, input_tensor: Any = None,  # noqa: N802
                   input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                   name: str = "efficientnetb0") -> Any:
    """EfficientNetB0: 5.3M weights for 224x224x3 images (Keras's EfficientNetB0).

    Input: images with pixel values in [0, 255] (the model rescales and normalises them itself when
    `include_preprocessing`). Other arguments as `ResNet50`'s; the top adds Dropout(0.2).
    """
    check_arguments("EfficientNetB0", weights, pooling, include_top, classes)
    inputs = image_input(input_shape, input_tensor, 224, include_top, 32, "EfficientNetB0")
    x = inputs
    if include_preprocessing:
        x = layers.Rescaling(1.0 / 255.0, name="rescaling")(x)
        x = layers.Normalization(axis=-1, mean=_IMAGENET_MEAN, variance=_IMAGENET_VARIANCE, name="normalization")(x)
    x = layers.ZeroPadding2D(correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(make_divisible(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=_conv_init(), name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("swish", name="stem_activation")(x)
    total = float(sum(repeats for _, repeats, *_ in _BLOCKS))
    done = 0
    for stage, (kernel, repeats, filters_in, filters_out, expansion, stride) in enumerate(_BLOCKS, start=1):
        for repeat in range(math.ceil(repeats)):
            x = _block(x, 0.2 * done / total, f"block{stage}{chr(97 + repeat)}_",
                       filters_out if repeat else filters_in, filters_out, kernel, 1 if repeat else stride, expansion)
            done += 1
    x = layers.Conv2D(1280, 1, padding="same", use_bias=False, kernel_initializer=_conv_init(), name="top_conv")(x)
    x = layers.BatchNormalization(name="top_bn")(x)
    x = layers.Activation("swish", name="top_activation")(x)

    def top(features: Any) -> Any:
        features = layers.GlobalAveragePooling2D(name="avg_pool")(features)
        features = layers.Dropout(0.2, name="top_dropout")(features)
        dense_init = initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out", distribution="uniform")
        return layers.Dense(classes, activation=classifier_activation, kernel_initializer=dense_init,
                            name="predictions")(features)

    return finish(name, inputs, x, include_top, pooling, classes, classifier_activation, weights, top=top)

from ember.applications.preprocessing import preprocess_identity as preprocess_input  # noqa: E402  Keras's name
