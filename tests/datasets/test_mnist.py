import gzip
import struct

import numpy as np
import pytest

import ember
from ember.datasets import _files, mnist


def write_idx(path, array):
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_reads_images_and_labels(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28))
    write_idx(tmp_path / "images.gz", images)
    write_idx(tmp_path / "labels.gz", np.arange(5))
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "images.gz"), images)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "labels.gz"), np.arange(5))


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path):
    with gzip.open(tmp_path / "short.gz", "wb") as file:
        file.write(struct.pack(">IIII", 2051, 10, 28, 28) + b"\0" * 100)
    with pytest.raises(_files.DatasetFileError, match="truncated"):
        mnist.read_idx(tmp_path / "short.gz")
    with gzip.open(tmp_path / "other.gz", "wb") as file:
        file.write(b"PK\x03\x04 not idx at all")
    with pytest.raises(_files.DatasetFileError, match="magic number"):
        mnist.read_idx(tmp_path / "other.gz")


def test_a_file_failing_its_checksum_is_never_used(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.arange(3))
    monkeypatch.setenv("EMBER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_files, "_download", lambda url, destination: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(_files.DatasetFileError, match="failing their checksum"):
        _files.locate("mnist", "t10k-labels-idx1-ubyte.gz", ["https://example.invalid/x"],
                      mnist.FILES["t10k-labels-idx1-ubyte.gz"], content_sha256=True)


def test_real_mnist_loads_with_keras_conventions(real_data_dir, monkeypatch):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28) and x_train.dtype == np.uint8
    assert list(y_train[:5]) == [5, 0, 4, 1, 9] and list(y_test[:5]) == [7, 2, 1, 0, 4]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_digits_ship_with_the_install():
    (x_train, y_train), (x_test, y_test) = ember.datasets.digits.load_data()
    assert x_train.shape[1:] == (8, 8) and len(x_train) + len(x_test) == 1797 and x_train.max() == 16


def test_real_pima_data(real_data_dir, monkeypatch):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    (x_train, y_train), (x_test, y_test) = ember.datasets.pima_indians_diabetes.load_data()
    assert x_train.shape[1] == 8 and len(x_train) + len(x_test) == 768 and set(y_train) == {0, 1}


def test_fashion_mnist_reads_idx_files_and_checks_them(tmp_path, monkeypatch):
    from ember.datasets import fashion_mnist

    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28)))
    monkeypatch.setenv("EMBER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_files, "_download", lambda url, destination: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(_files.DatasetFileError, match="failing their checksum"):
        fashion_mnist.load_data()  # our small file is not the published one, so it is never used
    monkeypatch.setattr(fashion_mnist, "FILES", {name: None for name in fashion_mnist.FILES})
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        write_idx(folder / name, np.array([1, 2]))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28)))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (2, 28, 28) and list(y_test) == [1, 2]
