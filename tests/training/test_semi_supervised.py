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


def test_distribution_alignment_scales_by_label_over_prediction_frequencies():
    alignment = semi_supervised.DistributionAlignment(momentum=0.5)
    probabilities = torch.tensor([[0.9, 0.1], [0.6, 0.4]], dtype=torch.float64)
    aligned = alignment(probabilities, torch.tensor([0.5, 0.5], dtype=torch.float64))
    ratio = torch.tensor([0.5 / 0.75, 0.5 / 0.25], dtype=torch.float64)  # the model over-predicts class 0
    expected = probabilities * ratio / (probabilities * ratio).sum(dim=1, keepdim=True)
    torch.testing.assert_close(aligned, expected, rtol=1e-5, atol=0)
    assert aligned[1].argmax() == 1  # a pseudo-label moved to the under-predicted class
    alignment(torch.tensor([[0.5, 0.5]], dtype=torch.float64), torch.tensor([1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(alignment.predictions, torch.tensor([0.625, 0.375], dtype=torch.float64))
    torch.testing.assert_close(alignment.labels, torch.tensor([0.75, 0.25], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        semi_supervised.DistributionAlignment(momentum=1.0)


def test_label_frequencies_read_integer_and_one_hot_labels():
    expected = torch.tensor([0.5, 0.25, 0.25])
    for labels in (torch.tensor([0, 2, 1, 0]), torch.tensor([[0], [2], [1], [0]]),
                   torch.eye(3)[torch.tensor([0, 2, 1, 0])]):
        torch.testing.assert_close(semi_supervised.label_frequencies(labels, 3), expected)


def test_fit_thresholds_the_aligned_pseudo_labels():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 3)).astype("float32"), np.array([0, 0, 1, 1, 1, 1, 2, 2])
    unlabeled = rng.normal(size=(8, 3)).astype("float32") * 3
    ember.utils.set_random_seed(3)
    model = ember.Sequential([layers.Input((3,)), layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    probabilities = model.predict(unlabeled, verbose=0).astype(np.float64)
    aligned = probabilities * np.array([0.25, 0.5, 0.25]) / probabilities.mean(axis=0)
    aligned /= aligned.sum(axis=1, keepdims=True)
    method = semi_supervised.FixMatch(threshold=0.6, unlabeled_ratio=1, weak=semi_supervised.identity,
                                      strong=semi_supervised.identity, distribution_alignment=True)
    history = model.fit(x, y, unlabeled_x=unlabeled, semi_supervised=method, batch_size=8, epochs=1, verbose=0).history
    confident = aligned.max(axis=1) >= 0.6
    assert 0 < confident.sum() < 8 and (aligned.argmax(axis=1) != probabilities.argmax(axis=1)).any()
    labels = aligned.argmax(axis=1)
    expected = np.mean(-np.log(probabilities[np.arange(8), labels]) * confident)
    assert history["unlabeled_loss"][0] == pytest.approx(expected, rel=1e-5)
    assert history["pseudo_label_rate"][0] == pytest.approx(confident.mean())


def test_curriculum_thresholds_follow_each_class_learning_effect():
    thresholds = semi_supervised.CurriculumThresholds(threshold=0.9, samples=6)
    probabilities = torch.tensor([[0.95, 0.05], [0.92, 0.08], [0.3, 0.7], [0.5, 0.5]])
    mask = thresholds(probabilities, torch.tensor([0, 1, 2, 3]))
    assert mask.tolist() == [1.0, 1.0, 1.0, 1.0]  # nothing learned yet: every threshold is 0
    assert thresholds.remembered.tolist() == [0, 0, -1, -1, -1, -1]
    # class 0: 2 samples over the 4 with no confident prediction yet (warm-up); class 1: none
    torch.testing.assert_close(thresholds.learning_effect, torch.tensor([0.5, 0.0]))
    torch.testing.assert_close(thresholds.class_thresholds(), torch.tensor([0.9 * 0.5 / 1.5, 0.0]))
    mask = thresholds(torch.tensor([[0.29, 0.71], [0.31, 0.69], [0.02, 0.98]]), torch.tensor([4, 5, 0]))
    assert mask.tolist() == [1.0, 1.0, 1.0]  # a class-1 label counts at any confidence, so far
    assert thresholds.remembered.tolist() == [1, 0, -1, -1, -1, -1]  # sample 0 now sure of class 1
    torch.testing.assert_close(thresholds.learning_effect, torch.tensor([0.25, 0.25]))
    mask = thresholds(torch.tensor([[0.1, 0.9], [0.2, 0.8], [0.8, 0.2], [0.5, 0.5]]), torch.tensor([2, 3, 4, 5]))
    assert mask.tolist() == [1.0, 1.0, 1.0, 1.0]  # thresholds 0.9 * 0.25 / 1.75 = 0.129
    assert thresholds.remembered.tolist() == [1, 0, 1, -1, -1, -1]
    torch.testing.assert_close(thresholds.learning_effect, torch.tensor([1 / 3, 2 / 3]))  # over the 3 unused
    torch.testing.assert_close(thresholds.class_thresholds(), torch.tensor([0.18, 0.45]))


def test_curriculum_thresholds_without_warmup_compare_classes_only():
    thresholds = semi_supervised.CurriculumThresholds(threshold=0.9, samples=10, warmup=False)
    sure_0, sure_1, unsure = [0.95, 0.03, 0.02], [0.02, 0.97, 0.01], [0.4, 0.3, 0.3]
    thresholds(torch.tensor([sure_0, sure_0, sure_0, sure_1, sure_1, unsure]), torch.arange(6))
    torch.testing.assert_close(thresholds.learning_effect, torch.tensor([1.0, 2 / 3, 0.0]))  # 3, 2, 0 of 3
    torch.testing.assert_close(thresholds.class_thresholds(), torch.tensor([0.9, 0.45, 0.0]))
    mask = thresholds(torch.tensor([[0.85, 0.1, 0.05], [0.91, 0.05, 0.04], [0.28, 0.42, 0.3], [0.2, 0.5, 0.3],
                                    [0.3, 0.3, 0.4]]), torch.arange(6, 11) % 10)
    assert mask.tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]
    assert semi_supervised.FixMatch().thresholds(10)(torch.tensor([[0.96, 0.04], [0.9, 0.1]]),
                                                     torch.tensor([0, 1])).tolist() == [1.0, 0.0]


def test_flexmatch_counts_every_pseudo_label_before_any_class_is_learned():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.integers(0, 3, 8)
    model = ember.Sequential([layers.Input((3,)), layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    method = semi_supervised.get("flexmatch")
    assert isinstance(method, semi_supervised.FlexMatch) and method.threshold == 0.95
    method.weak = method.strong = semi_supervised.identity
    history = model.fit(x, y, unlabeled_x=rng.normal(size=(64, 3)).astype("float32"), semi_supervised=method,
                        batch_size=8, epochs=1, steps_per_epoch=1, verbose=0).history
    assert history["pseudo_label_rate"][0] == 1.0  # a fixed 0.95 would pass few of these uncertain ones


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
