"""VGG16 and VGG19 (Simonyan and Zisserman, 2014), as `keras.applications.VGG16`/`VGG19`, with
Keras's layer names."""

from __future__ import annotations

from typing import Any

from ember import layers
from ember.applications._common import check_arguments, finish, image_input

_VGG16 = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convolutions) per block
_VGG19 = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def _vgg(blocks: tuple, name: str, include_top: bool, weights: Any, input_tensor: Any, input_shape: tuple | None,
         pooling: str | None, classes: int, classifier_activation: Any) -> Any:
    title = name.upper()
    check_arguments(title, weights, pooling, include_top, classes)
    inputs = image_input(input_shape, input_tensor, 224, include_top, 32, title)
    x = inputs
    for block, (filters, convolutions) in enumerate(blocks, start=1):
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


def VGG16(include_top: bool = True, weights: Any = None, input_tensor: Any = None,  # noqa: N802 - Keras's name
          input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg16") -> Any:
    """VGG16: 138M weights for 224x224x3 images and 1000 classes (Keras's VGG16). Arguments as
    `ResNet50`'s; the top is Flatten, two 4096-unit Dense layers ("fc1", "fc2") and "predictions"."""
    return _vgg(_VGG16, name, include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation)


def VGG19(include_top: bool = True, weights: Any = None, input_tensor: Any = None,  # noqa: N802 - Keras's name
          input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg19") -> Any:
    """VGG19: 144M weights, VGG16 with four convolutions in each of the last three blocks."""
    return _vgg(_VGG19, name, include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation)


from ember.applications.preprocessing import preprocess_caffe as preprocess_input  # noqa: E402  Keras's name
