import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ember import layers
from tests.conftest import check_layer


@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (28, 3, 1, "valid", 26), (28, 3, 1, "same", 28), (28, 3, 2, "same", 14), (7, 3, 2, "same", 4),
    (7, 3, 2, "valid", 3)])
def test_conv2d_output_shapes_follow_keras(size, kernel, stride, padding, expected):
    layer = layers.Conv2D(4, kernel, strides=stride, padding=padding)
    check_layer(layer, (2, size, size, 3), (2, expected, expected, 4))


def test_conv2d_matches_torch_with_keras_kernel_layout(tmp_path):
    layer = layers.Conv2D(5, (3, 2), activation="relu")
    check_layer(layer, (2, 6, 7, 3), (2, 4, 6, 5), tmp_path=tmp_path)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 5)
    x = torch.randn(2, 6, 7, 3)
    reference = F.conv2d(x.permute(0, 3, 1, 2), torch.from_numpy(kernel).permute(3, 2, 0, 1), torch.from_numpy(bias))
    torch.testing.assert_close(layer(x), torch.relu(reference).permute(0, 2, 3, 1), rtol=1e-5, atol=1e-5)
    layer.set_weights([np.zeros_like(kernel), np.ones_like(bias)])
    torch.testing.assert_close(layer(x), torch.ones(2, 4, 6, 5))


def test_conv2d_wants_a_channels_axis():
    with pytest.raises(ValueError, match="Add a channels axis"):
        layers.Conv2D(4, 3)(torch.randn(2, 28, 28))


def test_conv1d_and_pooling_shapes():
    check_layer(layers.Conv1D(4, 3, padding="same"), (2, 10, 3), (2, 10, 4))
    check_layer(layers.MaxPooling2D(), (2, 7, 7, 3), (2, 3, 3, 3))
    check_layer(layers.MaxPooling2D(padding="same"), (2, 7, 7, 3), (2, 4, 4, 3))
    check_layer(layers.AveragePooling1D(2), (2, 8, 3), (2, 4, 3))
    check_layer(layers.GlobalAveragePooling2D(), (2, 5, 5, 3), (2, 3))
    check_layer(layers.GlobalMaxPooling1D(), (2, 5, 3), (2, 3))


def test_max_pooling_takes_window_maximum():
    x = torch.arange(16.0).reshape(1, 4, 4, 1)
    torch.testing.assert_close(layers.MaxPooling2D()(x).flatten(), torch.tensor([5.0, 7.0, 13.0, 15.0]))
