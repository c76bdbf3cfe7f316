import numpy as np
import pytest
import torch

import ember
from ember import layers
from tests.conftest import check_layer


def test_dense_matches_matmul_with_keras_kernel_layout(tmp_path):
    layer = layers.Dense(3, activation="relu")
    output = check_layer(layer, (4, 5), (4, 3), tmp_path=tmp_path)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 3) and bias.shape == (3,)
    x = torch.randn(4, 5)
    expected = np.maximum(x.numpy() @ kernel + bias, 0)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert output.shape == (4, 3)


def test_dense_applies_to_last_axis_of_rank3_inputs():
    check_layer(layers.Dense(7), (2, 5, 3), (2, 5, 7))


def test_dense_rejects_bad_units():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(0)


def test_activation_layer_by_name_and_callable():
    check_layer(layers.Activation("tanh"), (2, 3), (2, 3))
    x = torch.randn(2, 3)
    torch.testing.assert_close(layers.Activation(torch.sigmoid)(x), torch.sigmoid(x))


def test_dropout_drops_only_in_training_and_keeps_the_mean():
    layer = layers.Dropout(0.5)
    x = torch.ones(1000, 100)
    layer.train()
    dropped = layer(x)
    assert 0.4 < (dropped == 0).float().mean() < 0.6
    assert abs(dropped.mean().item() - 1.0) < 0.05
    layer.eval()
    torch.testing.assert_close(layer(x), x)
    check_layer(layers.Dropout(0.3, noise_shape=(None, 1)), (4, 6), (4, 6))


def test_dropout_noise_shape_shares_the_mask():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 4))
    out = layer(torch.ones(8, 5, 4), training=True)
    assert torch.all(out == out[:, :1, :])


def test_gaussian_noise_only_while_training():
    layer = layers.GaussianNoise(0.5)
    x = torch.zeros(500, 20)
    assert 0.4 < layer(x, training=True).std().item() < 0.6
    torch.testing.assert_close(layer(x, training=False), x)
    check_layer(layers.GaussianNoise(0.1), (2, 3), (2, 3))


def test_flatten_reshape_permute_repeatvector_shapes():
    check_layer(layers.Flatten(), (2, 3, 4), (2, 12))
    check_layer(layers.Reshape((4, 3)), (2, 12), (2, 4, 3))
    check_layer(layers.Reshape((-1, 2)), (2, 12), (2, 6, 2))
    check_layer(layers.Permute((2, 1)), (2, 3, 4), (2, 4, 3))
    out = check_layer(layers.RepeatVector(3), (2, 5), (2, 3, 5))
    assert torch.equal(out[:, 0], out[:, 2])


def test_flatten_uses_channels_last_order():
    x = torch.arange(12.0).reshape(1, 2, 3, 2)
    torch.testing.assert_close(layers.Flatten()(x), x.reshape(1, 12))


def test_reshape_rejects_impossible_target():
    model = ember.Sequential([layers.Input((12,))])
    with pytest.raises(ValueError, match="cannot reshape samples of shape"):
        model.add(layers.Reshape((5, 3)))


def test_lambda_layer_applies_function():
    layer = layers.Lambda(lambda x: x * 2)
    torch.testing.assert_close(layer(torch.ones(2, 2)), torch.full((2, 2), 2.0))


def test_activity_regularization_adds_a_loss():
    layer = layers.ActivityRegularization(l1=0.1)
    layer(torch.ones(2, 3))
    assert len(layer.losses) == 1 and abs(layer.losses[0].item() - 0.6) < 1e-6
