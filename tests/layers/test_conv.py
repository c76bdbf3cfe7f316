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


@pytest.mark.parametrize("kernel, stride, padding, expected", [
    (3, 1, "valid", 9), (3, 2, "same", 14), (4, 2, "same", 14), (5, 2, "valid", 17), (1, 3, "same", 21)])
def test_conv2d_transpose_output_shapes_follow_keras(kernel, stride, padding, expected, tmp_path):
    layer = layers.Conv2DTranspose(4, kernel, strides=stride, padding=padding)
    check_layer(layer, (2, 7, 7, 3), (2, expected, expected, 4), tmp_path=tmp_path if kernel == 3 else None)
    assert layer.get_weights()[0].shape == (kernel, kernel, 4, 3)  # Keras: (kh, kw, filters, in)


def test_conv2d_transpose_matches_torch_valid_padding():
    layer = layers.Conv2DTranspose(2, 3, strides=2)
    x = torch.randn(1, 4, 4, 3)
    layer(x)
    kernel, bias = layer.get_weights()
    reference = F.conv_transpose2d(x.permute(0, 3, 1, 2), torch.from_numpy(kernel).permute(3, 2, 0, 1),
                                   torch.from_numpy(bias), stride=2)
    torch.testing.assert_close(layer(x), reference.permute(0, 2, 3, 1), rtol=1e-5, atol=1e-5)


def test_depthwise_conv2d_filters_each_channel_separately(tmp_path):
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2)
    check_layer(layer, (2, 6, 6, 3), (2, 4, 4, 6), tmp_path=tmp_path)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 2)
    x = torch.randn(1, 6, 6, 3)
    out = layer(x)
    channel, multiplier = 1, 1  # output channel = channel * depth_multiplier + multiplier
    expected = F.conv2d(x[..., channel][:, None], torch.from_numpy(kernel[:, :, channel, multiplier])[None, None])
    torch.testing.assert_close(out[..., channel * 2 + multiplier], expected[:, 0] + bias[channel * 2 + multiplier],
                               rtol=1e-5, atol=1e-5)


def test_conv3d_pooling3d_and_spatial_layers(tmp_path):
    check_layer(layers.Conv3D(2, 3, padding="same"), (1, 4, 4, 4, 3), (1, 4, 4, 4, 2))
    check_layer(layers.MaxPooling3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2))
    check_layer(layers.AveragePooling3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2))
    check_layer(layers.UpSampling2D((2, 3)), (2, 3, 4, 5), (2, 6, 12, 5), tmp_path=tmp_path)
    check_layer(layers.ZeroPadding2D(((1, 2), (0, 1))), (2, 3, 4, 5), (2, 6, 5, 5))
    check_layer(layers.Cropping2D(((1, 0), (1, 1))), (2, 3, 4, 5), (2, 2, 2, 5))
    x = torch.arange(4.0).reshape(1, 2, 2, 1)
    torch.testing.assert_close(layers.UpSampling2D()(x)[0, :, :, 0], torch.tensor(
        [[0.0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]))
    with pytest.raises(ValueError, match="leaves nothing"):
        layers.Cropping2D(2)(torch.randn(1, 4, 4, 1))


def test_spatial_dropout_drops_whole_channels():
    layer = layers.SpatialDropout2D(0.5)
    out = layer(torch.ones(4, 5, 5, 16), training=True)
    per_channel = out.amax(dim=(1, 2))
    assert torch.all((out == 0) == (per_channel == 0)[:, None, None, :])
    torch.testing.assert_close(layer(torch.ones(2, 3, 3, 2), training=False), torch.ones(2, 3, 3, 2))


def test_separable_conv2d_is_depthwise_then_pointwise(tmp_path):
    layer = layers.SeparableConv2D(5, 3, depth_multiplier=2, padding="same", activation="relu")
    check_layer(layer, (2, 6, 6, 3), (2, 6, 6, 5), tmp_path=tmp_path)
    depthwise, pointwise, bias = layer.get_weights()
    assert depthwise.shape == (3, 3, 3, 2) and pointwise.shape == (1, 1, 6, 5) and bias.shape == (5,)
    assert layer.count_params() == 3 * 3 * 3 * 2 + 6 * 5 + 5  # as Keras counts it
