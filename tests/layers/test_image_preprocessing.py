import numpy as np
import pytest
import torch

import ember
from ember import layers
from tests.conftest import check_layer

AUGMENTATIONS = [
    lambda: layers.RandomFlip(seed=1), lambda: layers.RandomTranslation(0.2, 0.2, seed=1),
    lambda: layers.RandomRotation(0.1, seed=1), lambda: layers.RandomZoom(0.2, seed=1),
    lambda: layers.RandomContrast(0.5, seed=1), lambda: layers.RandomCrop(8, 8, padding=2, seed=1),
]


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_augmentation_is_active_in_training_inert_in_inference_and_repeatable(make):
    images = torch.rand(16, 8, 8, 3) * 255
    layer = make()
    layer.eval()
    torch.testing.assert_close(layer(images), images)  # inference: unchanged (RandomCrop: center crop of 8x8)
    layer.train()
    first = layer(images)
    assert first.shape == images.shape and not torch.allclose(first, images)
    again = make()
    again.train()
    torch.testing.assert_close(again(images), first)  # same seed, same augmentation


def test_augmentations_config_round_trip_and_inside_a_model(tmp_path):
    for make in AUGMENTATIONS:
        check_layer(make(), (2, 8, 8, 3), (2, 8, 8, 3))
    model = ember.Sequential([layers.Input((8, 8, 3)), layers.RandomFlip("horizontal", seed=0),
                              layers.RandomRotation(0.05, seed=0), layers.Rescaling(1 / 255), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(0, 256, size=(32, 8, 8, 3)).astype("float32")
    model.fit(x, np.arange(32) % 2, epochs=1, verbose=0)
    model.save(tmp_path / "augmented.ember")
    np.testing.assert_allclose(ember.load_model(tmp_path / "augmented.ember").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-5)


def test_random_flip_flips_whole_images():
    image = torch.arange(16.0).reshape(1, 4, 4, 1).repeat(64, 1, 1, 1)
    flipped = layers.RandomFlip("horizontal", seed=3)(image, training=True)
    same = (flipped == image).flatten(1).all(1)
    mirrored = (flipped == image.flip(2)).flatten(1).all(1)
    assert torch.all(same | mirrored) and same.any() and mirrored.any()


def test_random_crop_takes_windows_of_the_padded_image():
    image = torch.arange(36.0).reshape(1, 6, 6, 1).repeat(8, 1, 1, 1)
    crops = layers.RandomCrop(4, 4, seed=0)(image, training=True)
    for crop in crops[..., 0]:
        top, left = divmod(int(crop[0, 0].item()), 6)
        torch.testing.assert_close(crop, image[0, top:top + 4, left:left + 4, 0])


def test_rescaling_normalization_resizing_center_crop(tmp_path):
    x = torch.rand(4, 6, 8, 3) * 255
    torch.testing.assert_close(layers.Rescaling(1 / 255)(x), x / 255)
    normalization = layers.Normalization()
    normalization.adapt(x.numpy())
    out = normalization(x)
    np.testing.assert_allclose(out.mean((0, 1, 2)).numpy(), 0, atol=1e-4)
    np.testing.assert_allclose(out.std((0, 1, 2), unbiased=False).numpy(), 1, atol=1e-3)
    model = ember.Sequential([layers.Input((6, 8, 3)), normalization])
    model.save(tmp_path / "n.ember")
    np.testing.assert_allclose(ember.load_model(tmp_path / "n.ember").predict(x.numpy(), verbose=0),
                               out.numpy(), rtol=1e-5, atol=1e-5)
    check_layer(layers.Resizing(3, 4), (2, 6, 8, 3), (2, 3, 4, 3))
    check_layer(layers.CenterCrop(4, 4), (2, 6, 8, 3), (2, 4, 4, 3))
    torch.testing.assert_close(layers.CenterCrop(2, 2)(x), x[:, 2:4, 3:5])
