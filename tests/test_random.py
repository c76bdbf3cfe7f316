"""ember.random (Keras 3's keras.random): values against the distributions' own numbers, and the
seed rules (an int repeats, a SeedGenerator advances and repeats from the same start)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import random


def test_an_integer_seed_repeats_and_a_seed_generator_advances_repeatably():
    assert torch.equal(random.normal((3, 4), seed=7), random.normal((3, 4), seed=7))
    generator = random.SeedGenerator(42)
    first, second = random.uniform((5,), seed=generator), random.uniform((5,), seed=generator)
    assert not torch.equal(first, second)
    again = random.SeedGenerator(42)
    assert torch.equal(random.uniform((5,), seed=again), first) and torch.equal(random.uniform((5,), seed=again),
                                                                                second)
    ember.utils.set_random_seed(3)
    unseeded = random.randint((6,), 0, 100)
    ember.utils.set_random_seed(3)
    assert torch.equal(random.randint((6,), 0, 100), unseeded)  # seed=None: the global generator
    assert random.SeedGenerator.from_config(generator.get_config()).initial_seed == 42


def test_samples_follow_their_distributions():
    normal = random.normal((20_000,), mean=2.0, stddev=3.0, seed=1)
    assert normal.dtype == torch.float32 and abs(float(normal.mean()) - 2.0) < 0.1
    assert abs(float(normal.std()) - 3.0) < 0.1
    truncated = random.truncated_normal((20_000,), mean=1.0, stddev=0.5, seed=2)
    assert float((truncated - 1.0).abs().max()) <= 1.0 + 1e-6  # within two standard deviations
    uniform = random.uniform((20_000,), minval=-2.0, maxval=4.0, dtype="float64", seed=3)
    assert uniform.dtype == torch.float64 and float(uniform.min()) >= -2.0 and float(uniform.max()) < 4.0
    assert abs(float(uniform.mean()) - 1.0) < 0.1
    integers = random.randint((20_000,), 3, 7, seed=4)
    assert integers.dtype == torch.int32 and set(integers.tolist()) == {3, 4, 5, 6}
    gamma = random.gamma((20_000,), alpha=3.0, seed=5)
    assert abs(float(gamma.mean()) - 3.0) < 0.1 and torch.equal(gamma, random.gamma((20_000,), 3.0, seed=5))
    draws = random.categorical(torch.log(torch.tensor([[0.2, 0.8]])), 20_000, seed=6)
    assert draws.shape == (1, 20_000) and abs(float(draws.float().mean()) - 0.8) < 0.02


def test_dropout_zeroes_the_rate_scales_the_rest_and_shares_along_noise_shape():
    x = torch.ones(200, 50)
    dropped = random.dropout(x, 0.3, seed=1)
    kept = dropped != 0
    assert abs(float(kept.float().mean()) - 0.7) < 0.02
    np.testing.assert_allclose(dropped[kept].numpy(), 1 / 0.7, rtol=1e-6)
    shared = random.dropout(x, 0.5, noise_shape=(None, 1), seed=2)  # one draw per row
    assert all(len(set(row.tolist())) == 1 for row in shared)
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        random.dropout(x, 1.0)


def test_shuffle_permutes_along_an_axis():
    x = torch.arange(12).reshape(3, 4)
    shuffled = random.shuffle(x, axis=-1, seed=3)
    assert torch.equal(shuffled.sort(dim=1).values, x) and torch.equal(shuffled, random.shuffle(x, axis=1, seed=3))


def test_bad_arguments_say_what_is_expected():
    with pytest.raises(TypeError, match="seed must be an integer, a SeedGenerator or None"):
        random.normal((2,), seed="7")
    with pytest.raises(ValueError, match="maxval must exceed minval"):
        random.uniform((2,), minval=1.0, maxval=1.0)
    with pytest.raises(ValueError, match="Unknown dtype"):
        random.randint((2,), 0, 3, dtype="int128")
