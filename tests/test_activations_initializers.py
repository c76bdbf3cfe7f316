import numpy as np
import pytest
import torch

from ember import activations, initializers, layers


@pytest.mark.parametrize("name, reference", [
    ("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("softplus", torch.nn.functional.softplus),
    ("softsign", torch.nn.functional.softsign), ("selu", torch.selu), ("elu", torch.nn.functional.elu),
    ("swish", lambda x: x * torch.sigmoid(x)), ("silu", lambda x: x * torch.sigmoid(x)),
    ("gelu", torch.nn.functional.gelu), ("exponential", torch.exp), ("linear", lambda x: x),
    ("leaky_relu", lambda x: torch.where(x > 0, x, 0.2 * x)),
    ("hard_sigmoid", lambda x: torch.clamp(x / 6 + 0.5, 0, 1)),
    ("softmax", lambda x: torch.softmax(x, -1)), ("log_softmax", lambda x: torch.log_softmax(x, -1)),
])
def test_activations_match_reference(name, reference):
    x = torch.randn(4, 5)
    torch.testing.assert_close(activations.get(name)(x), reference(x))


def test_activation_names_cover_keras_list():
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "leaky_relu", "elu", "selu",
                 "softplus", "softsign", "swish", "silu", "hard_sigmoid", "exponential", "linear"):
        assert name in activations.names()


@pytest.mark.parametrize("name, expected_std", [
    ("glorot_uniform", np.sqrt(2 / (400 + 300))), ("glorot_normal", np.sqrt(2 / (400 + 300))),
    ("he_normal", np.sqrt(2 / 400)), ("he_uniform", np.sqrt(2 / 400)), ("lecun_normal", np.sqrt(1 / 400)),
    ("random_normal", 0.05),
])
def test_initializer_variances_follow_keras_fans(name, expected_std):
    values = initializers.get(name)((400, 300))
    assert values.std().item() == pytest.approx(expected_std, rel=0.05)


def test_orthogonal_zeros_ones_and_seeds():
    q = initializers.get("orthogonal")((5, 5))
    torch.testing.assert_close(q.T @ q, torch.eye(5), atol=1e-5, rtol=0)
    assert initializers.get("zeros")((2,)).sum() == 0 and initializers.get("ones")((2,)).sum() == 2
    seeded = initializers.RandomNormal(seed=3)
    torch.testing.assert_close(seeded((3,)), initializers.RandomNormal(seed=3)((3,)))


def test_dense_kernel_initializer_and_reset_parameters():
    dense = layers.Dense(3, kernel_initializer="zeros", bias_initializer=initializers.Constant(0.5))
    dense(torch.ones(1, 2))
    assert dense.kernel.abs().sum() == 0 and torch.all(dense.bias == 0.5)
    with torch.no_grad():
        dense.bias.fill_(9)
    dense.reset_parameters()
    assert torch.all(dense.bias == 0.5)
