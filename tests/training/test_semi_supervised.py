"""Semi-supervised fit: the pseudo-label loss and mask against a hand computation, the built-in
augmentations, the ramp-up, two moons learned from 6 labels, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

import ember
from ember import layers, semi_supervised


def _classifier(inputs=2, classes=2, learning_rate=1e-2):
    model = ember.Sequential([layers.Input((inputs,)), layers.Dense(32, activation="relu"),
                              layers.Dense(32, activation="relu"), layers.Dense(classes, activation="softmax")])
    model.compile(ember.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_the_unlabeled_loss_counts_only_confident_pseudo_labels():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.integers(0, 3, 8)
    unlabeled = rng.normal(size=(8, 3)).astype("float32") * 3
    model = ember.Sequential([layers.Input((3,)), layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")  # weights stay put
    probabilities = model.predict(unlabeled, verbose=0).astype(np.float64)
    method = semi_supervised.FixMatch(threshold=0.6, unlabeled_ratio=1, weak=semi_supervised.identity,
                                      strong=semi_supervised.identity)
    history = model.fit(x, y, unlabeled_x=unlabeled, semi_supervised=method, batch_size=8, epochs=1, verbose=0).history
    confident = probabilities.max(axis=1) >= 0.6
    assert 0 < confident.sum() < 8  # the case is a real mix
    expected = np.mean(-np.log(probabilities.max(axis=1)) * confident)
    assert history["unlabeled_loss"][0] == pytest.approx(expected, rel=1e-5)
    assert history["pseudo_label_rate"][0] == pytest.approx(confident.mean())
    supervised = model.evaluate(x, y, verbose=0)
    assert history["loss"][0] == pytest.approx(supervised + expected, rel=1e-5)


def test_the_labeled_batch_gets_the_weak_view():
    x, y = np.arange(12, dtype="float32").reshape(4, 3), np.array([0, 1, 2, 0])
    seen = []

    def weak(batch, generator):
        seen.append(batch.detach().cpu().numpy().copy())
        return batch

    model = ember.Sequential([layers.Input((3,)), layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    method = semi_supervised.FixMatch(unlabeled_ratio=2, weak=weak, strong=semi_supervised.identity)
    model.fit(x, y, unlabeled_x=-np.concatenate([x, x]), semi_supervised=method, batch_size=4, epochs=1, shuffle=False,
              verbose=0)
    assert any(batch.shape == x.shape and np.array_equal(np.sort(batch, axis=0), x) for batch in seen)
    assert any(batch.shape == (8, 3) and (batch <= 0).all() for batch in seen)  # and the unlabeled samples


def test_strong_views_leave_the_moving_statistics_alone():
    rng = np.random.default_rng(0)
    x, y, unlabeled = rng.normal(size=(8, 3)).astype("float32"), rng.integers(0, 2, 8), rng.normal(size=(16, 3))
    moving = {}
    for name, strong in (("identity", semi_supervised.identity), ("wild", lambda batch, generator: 50 * batch + 9)):
        ember.utils.set_random_seed(0)
        model = ember.Sequential([layers.Input((3,)), layers.BatchNormalization(momentum=0.5),
                                  layers.Dense(2, activation="softmax")])
        model.compile(ember.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
        method = semi_supervised.FixMatch(unlabeled_ratio=2, weak=semi_supervised.identity, strong=strong, seed=0)
        model.fit(x, y, unlabeled_x=unlabeled, semi_supervised=method, batch_size=8, epochs=1, verbose=0)
        norm = model.layers[0]
        moving[name] = [w.detach().numpy().copy() for w in (norm.moving_mean, norm.moving_variance)]
    assert not np.allclose(moving["identity"][0], 0.0)  # the labeled and weak views were recorded
    for kept, other in zip(moving["identity"], moving["wild"]):
        np.testing.assert_allclose(other, kept, rtol=1e-6)


def test_torch_batch_norm_keeps_its_running_statistics_inside_the_context():
    from ember.training.semi_supervised_step import moving_statistics_kept

    norm = torch.nn.BatchNorm1d(3, momentum=None).train()
    norm(torch.randn(16, 3))
    before = [norm.running_mean.clone(), norm.running_var.clone(), norm.num_batches_tracked.clone()]
    batch = 5 * torch.randn(16, 3) + 2
    with moving_statistics_kept(norm):
        out = norm(batch)
    np.testing.assert_allclose(out.mean(0).detach().numpy(), 0.0, atol=1e-5)  # normalized by the batch itself
    for kept, now in zip(before, (norm.running_mean, norm.running_var, norm.num_batches_tracked)):
        assert torch.equal(kept, now)
    assert norm.momentum is None


def test_fixmatch_learns_two_moons_from_six_labels():
    x, y = make_moons(1000, noise=0.08, random_state=0)
    x_test, y_test = make_moons(1000, noise=0.08, random_state=1)
    labeled = np.array([np.where(y == c)[0][i] for c in (0, 1) for i in range(3)])
    # the weak jitter moves the 6 labeled points too, so it stays well below the moons' own noise (0.08)
    weak = lambda batch, generator: batch + 0.02 * torch.randn(batch.shape, generator=generator, device=batch.device)
    strong = lambda batch, generator: batch + 0.15 * torch.randn(batch.shape, generator=generator, device=batch.device)
    for seed in (0, 1):
        ember.utils.set_random_seed(seed)
        alone = _classifier()
        alone.fit(x[labeled], y[labeled], epochs=200, batch_size=6, verbose=0)
        ember.utils.set_random_seed(seed)
        model = _classifier()
        method = semi_supervised.FixMatch(unlabeled_ratio=8, weak=weak, strong=strong, seed=seed)
        history = model.fit(x[labeled], y[labeled], unlabeled_x=x, semi_supervised=method, epochs=20, batch_size=6,
                            verbose=0).history
        assert model.evaluate(x_test, y_test, verbose=0)[1] >= 0.97  # measured 0.999-1.0
        assert alone.evaluate(x_test, y_test, verbose=0)[1] < 0.95  # measured 0.879-0.919
        assert history["pseudo_label_rate"][-1] > 0.9 and "val_unlabeled_loss" not in history


def test_augmentations_keep_shapes_differ_per_sample_and_repeat_under_a_seed():
    images = torch.rand(16, 12, 12, 1)
    generator = lambda: torch.Generator().manual_seed(3)
    for augment in (semi_supervised.weak_augment, semi_supervised.strong_augment):
        out = augment(images, generator())
        assert out.shape == images.shape and not torch.equal(out, images)
        torch.testing.assert_close(augment(images, generator()), out)
    shifted = semi_supervised.weak_augment(torch.ones(8, 12, 12, 1), generator())
    assert len({float(image.sum()) for image in shifted}) > 1  # each image its own shift
    holes = semi_supervised.cutout(torch.ones(32, 10, 10, 1), generator(), size=0.4)
    zeros = (holes == 0).flatten(1).sum(dim=1)
    assert zeros.max() == 16 and zeros.min() >= 1  # a 4x4 square, cut by the border at times
    varied = semi_supervised.cutout(torch.ones(64, 20, 20, 1), generator(), size=0.5, random_size=True)
    zeros = (varied == 0).flatten(1).sum(dim=1)
    assert zeros.max() <= 100 and len(set(zeros.tolist())) > 5  # sides from 0 to 10 pixels
    with pytest.raises(ValueError, match=r"channels-last images .* got shape \(4, 3\)"):
        semi_supervised.weak_augment(torch.rand(4, 3))


def test_the_weak_view_moves_whole_pixels_without_blurring():
    images = (torch.arange(16 * 16, dtype=torch.float32) + 1).reshape(1, 16, 16, 1).repeat(32, 1, 1, 1)
    moved = semi_supervised.weak_augment(images, torch.Generator().manual_seed(0))
    offsets = set()
    for sample in moved[..., 0]:
        rows, columns = torch.nonzero(sample, as_tuple=True)
        source = sample[rows, columns].long() - 1  # each kept pixel's index in the original image
        shifts = {(int(r), int(c)) for r, c in zip(source // 16 - rows, source % 16 - columns)}
        assert len(shifts) == 1  # one whole-pixel move per image, every value an original one
        offsets |= shifts
        assert int((sample == 0).sum()) == 256 - len(rows)  # the rest is zero fill
    assert max(max(abs(r), abs(c)) for r, c in offsets) <= 2 and len(offsets) > 5  # 12.5% of 16 pixels


def test_the_unlabeled_weight_ramps_up():
    method = semi_supervised.PseudoLabel(unlabeled_weight=2.0, rampup_steps=100)
    assert [method.weight_at(step) for step in (0, 50, 100, 500)] == [0.0, 1.0, 2.0, 2.0]
    assert semi_supervised.FixMatch().weight_at(0) == 1.0


def test_bad_input_is_named():
    x, y = np.random.default_rng(0).normal(size=(8, 2)).astype("float32"), np.arange(8) % 2
    model = _classifier()
    with pytest.raises(ValueError, match=r"unlabeled_x has samples of shape \(3,\), but x has samples of shape \(2,\)"):
        model.fit(x, y, unlabeled_x=np.zeros((5, 3)), verbose=0)
    with pytest.raises(ValueError, match="needs the unlabeled samples"):
        model.fit(x, y, semi_supervised="fixmatch", verbose=0)
    with pytest.raises(ValueError, match="semi_supervised must be one of"):
        model.fit(x, y, unlabeled_x=x, semi_supervised="mixmatch", verbose=0)
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\)"):
        semi_supervised.FixMatch(threshold=1.5)
    regression = ember.Sequential([layers.Input((2,)), layers.Dense(1)])
    regression.compile("adam", loss="mse")
    with pytest.raises(ValueError, match="trains a classifier .* cross-entropy"):
        regression.fit(x, y.astype("float32"), unlabeled_x=x, semi_supervised="pseudo_label", verbose=0)
    with pytest.raises(ValueError, match="built-in augmentations take channels-last images"):
        model.fit(x, y, unlabeled_x=x, verbose=0)  # FixMatch's image augmentations on tabular data
