import numpy as np
import torch

from ember import layers
from tests.conftest import check_layer


def test_batch_normalization_normalizes_in_training_and_uses_moving_stats_in_inference(tmp_path):
    layer = layers.BatchNormalization()
    check_layer(layer, (8, 3), (8, 3), tmp_path=tmp_path)
    layer = layers.BatchNormalization()
    x = torch.randn(256, 3) * 4 + 10
    layer.train()
    out = layer(x)
    np.testing.assert_allclose(out.mean(0).detach().numpy(), 0, atol=1e-4)
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    assert np.all(moving_mean > 0)  # moved toward the batch mean with Keras's momentum 0.99
    np.testing.assert_allclose(moving_mean, 0.01 * x.mean(0).numpy(), rtol=1e-3, atol=1e-4)
    layer.eval()
    expected = (x - layer.moving_mean) / torch.sqrt(layer.moving_variance + 1e-3)
    torch.testing.assert_close(layer(x), expected, rtol=1e-4, atol=1e-4)


def test_batch_normalization_over_channels_last_images():
    layer = layers.BatchNormalization()
    out = check_layer(layer, (4, 5, 5, 3), (4, 5, 5, 3))
    assert layer.gamma.shape == (3,)
    layer.train()
    out = layer(torch.randn(4, 5, 5, 3) + 3)
    np.testing.assert_allclose(out.mean((0, 1, 2)).detach().numpy(), 0, atol=1e-4)


def test_frozen_batch_normalization_runs_in_inference_mode():
    layer = layers.BatchNormalization()
    layer(torch.randn(4, 3))
    layer.trainable = False
    layer.train()
    before = layer.moving_mean.clone()
    layer(torch.randn(16, 3) + 5)
    torch.testing.assert_close(layer.moving_mean, before)


def test_layer_normalization_matches_formula():
    layer = layers.LayerNormalization()
    check_layer(layer, (2, 5, 6), (2, 5, 6))
    x = torch.randn(2, 5, 6, dtype=torch.float64)
    expected = (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-3)
    torch.testing.assert_close(layer(x.float()).double(), expected, rtol=1e-4, atol=1e-4)
