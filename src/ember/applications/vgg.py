"""VGG16 (Simonyan and Zisserman, 2014), as `keras.applications.VGG16`, with Keras's layer names."""

from __future__ import annotations

from typing import Any

from ember import layers
from ember.applications._common import check_arguments, finish, image_input

_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convolutions) per block


def VGG16(include_top: bool = True, weights: Any = None, input_tensor: Any = None,  # noqa: N802 - Keras's name
          input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg16") -> Any:
    """VGG16: 138M weights for 224x224x3 images and 1000 classes (Keras's VGG16). Arguments as
    `ResNet50`'s; the top is Flatten, two 4096-unit Dense layers ("fc1", "fc2") and "predictions"."""
    check_arguments("VGG16", weights, pooling, include_top, classes)
    inputs = image_input(input_shape, input_tensor, 224, include_top, 32, "VGG16")
    x = inputs
    for block, (filters, convolutions) in enumerate(_BLOCKS, start=1):
        for index in range(1, convolutions + 1):
            x = layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"block{block}_conv{index}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)

    def top(features: Any) -> Any:
        features = layers.Flatten(name="flatten")(features)
        features = layers.Dense(4096, activation="relu", name="fc1")(features)
        features = layers.Dense(4096, activation="relu", name="fc2")(features)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(features)

    return finish(name, inputs, x, include_top, pooling, classes, classifier_activation, weights, top=top,
                  pool_names=("global_average_pooling2d", "global_max_pooling2d"))

from ember.applications.preprocessing import preprocess_caffe as preprocess_input  # noqa: E402  Keras's name
