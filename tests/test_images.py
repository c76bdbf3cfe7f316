import tarfile

import numpy as np
import pytest
from PIL import Image

import ember
from ember.data import ImageFileError, image_folder
from ember.datasets import cifar10


def make_folder(root, sizes=(6, 5)):
    rng = np.random.default_rng(0)
    expected = {}
    for name in ("dogs", "cats"):
        (root / name).mkdir(parents=True)
        for index in range(3):
            pixels = rng.integers(0, 256, size=sizes + (3,), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index}.png")
            expected[(name, index)] = pixels
    return expected


def test_image_folder_reads_a_directory_and_a_tar_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    expected = make_folder(tmp_path / "pictures")
    images, labels, class_names = image_folder(tmp_path / "pictures")
    assert class_names == ["cats", "dogs"] and images.shape == (6, 6, 5, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(images[3], expected[("dogs", 0)])  # PNG is lossless
    with tarfile.open(tmp_path / "pictures.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "pictures", arcname="pictures")
    from_tar, tar_labels, tar_names = image_folder(tmp_path / "pictures.tar.gz")
    np.testing.assert_array_equal(from_tar, images)
    assert tar_names == class_names and tar_labels.tolist() == labels.tolist()


def test_resizing_grayscale_and_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    make_folder(tmp_path / "pictures")
    images, _, _ = image_folder(tmp_path / "pictures", image_size=(4, 4), color_mode="grayscale")
    assert images.shape == (6, 4, 4, 1)
    assert list((tmp_path / "home" / "datasets" / "images").glob("*.npz"))
    again, _, _ = image_folder(tmp_path / "pictures", image_size=(4, 4), color_mode="grayscale")
    np.testing.assert_array_equal(again, images)


def test_a_corrupt_image_is_reported_by_path_or_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    make_folder(tmp_path / "pictures")
    (tmp_path / "pictures" / "cats" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ImageFileError, match=r"Cannot decode image .*cats/broken.png"):
        image_folder(tmp_path / "pictures", cache=False)
    with pytest.warns(RuntimeWarning, match="Skipping damaged image"):
        images, _, _ = image_folder(tmp_path / "pictures", on_error="skip", cache=False)
    assert len(images) == 6


def test_cifar10_binary_reader_on_a_canonical_file():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    records = b"".join(bytes([label]) + image.transpose(2, 0, 1).tobytes() for label, image in zip(labels, images))
    decoded, decoded_labels = cifar10.read_binary_batch(records)
    np.testing.assert_array_equal(decoded, images)
    assert decoded_labels.ravel().tolist() == [7, 0, 9] and decoded_labels.shape == (3, 1)
    with pytest.raises(ember.datasets._files.DatasetFileError, match="multiple of 3073"):
        cifar10.read_binary_batch(records[:-1])


def test_real_cifar10_from_the_shared_jpeg_archives(real_data_dir, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path_factory.getbasetemp() / "ember-home"))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (50000, 32, 32, 3) and x_test.shape == (10000, 32, 32, 3) and y_train.shape == (50000, 1)
    assert np.bincount(y_test.ravel()).tolist() == [1000] * 10
    assert abs((x_train / 255.0).mean() - 0.473) < 0.01


def test_image_dataset_from_directory_splits_and_label_modes(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    make_folder(tmp_path / "pictures")
    training, validation = ember.utils.image_dataset_from_directory(
        tmp_path / "pictures", image_size=(6, 5), batch_size=2, validation_split=0.5, subset="both", seed=1)
    assert training.class_names == ["cats", "dogs"] and len(training) == 2 and len(validation) == 2
    x, y = next(iter(training))
    assert x.shape == (2, 6, 5, 3) and x.dtype == np.float32 and y.dtype == np.int64
    one_hot = ember.utils.image_dataset_from_directory(tmp_path / "pictures", image_size=(6, 5),
                                                       label_mode="categorical", batch_size=None, shuffle=False)
    assert next(iter(one_hot))[1].shape == (6, 2)
    model = ember.Sequential([ember.layers.Input((6, 5, 3)), ember.layers.Rescaling(1 / 255),
                              ember.layers.Flatten(), ember.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    assert len(model.fit(training, validation_data=validation, epochs=2, verbose=0).history["val_loss"]) == 2
    with pytest.raises(ValueError, match="subset="):
        ember.utils.image_dataset_from_directory(tmp_path / "pictures", validation_split=0.5)


def test_image_helpers_round_trip(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3)).astype("uint8")
    ember.utils.save_img(tmp_path / "x.png", pixels, scale=False)
    image = ember.utils.load_img(tmp_path / "x.png")
    np.testing.assert_array_equal(ember.utils.img_to_array(image, dtype="uint8"), pixels)
    assert ember.utils.img_to_array(ember.utils.load_img(tmp_path / "x.png", color_mode="grayscale",
                                                         target_size=(3, 4))).shape == (3, 4, 1)
    path = ember.utils.save_image_grid(np.stack([pixels] * 3), tmp_path / "grid.png", labels=[0, 1, 2],
                                       predictions=[0, 2, 2], class_names=["a", "b", "c"])
    assert open(path, "rb").read(4) == b"\x89PNG"
