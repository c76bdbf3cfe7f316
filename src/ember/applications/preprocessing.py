"""The input conventions the ImageNet models were trained with (Keras's `preprocess_input`)."""

from __future__ import annotations

from typing import Any

import numpy as np

_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def preprocess_caffe(x: Any) -> np.ndarray:
    """RGB images in [0, 255] to BGR with the ImageNet mean subtracted (ResNet50, VGG16)."""
    x = np.asarray(x, dtype=np.float32)
    return x[..., ::-1] - _CAFFE_MEAN_BGR


def preprocess_tf(x: Any) -> np.ndarray:
    """Images in [0, 255] scaled to [-1, 1] (MobileNetV2)."""
    return np.asarray(x, dtype=np.float32) / 127.5 - 1.0


def preprocess_identity(x: Any) -> np.ndarray:
    """Images in [0, 255] as they are (EfficientNet normalises inside the model)."""
    return np.asarray(x, dtype=np.float32)
