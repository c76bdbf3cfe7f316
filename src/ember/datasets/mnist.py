"""MNIST handwritten digits from the canonical IDX gzip files: 60,000 train and 10,000 test images."""

from __future__ import annotations

import gzip

import numpy as np

from ember.datasets._files import DatasetFileError, locate

MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"]
# sha256 of the decompressed IDX files (the same whichever gzip wrapper a mirror uses)
FILES = {
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def read_idx(path) -> np.ndarray:
    """An IDX file (gzip) as a NumPy array: magic 2049 gives labels (n,), 2051 images (n, rows, cols)."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    if len(data) < 8:
        raise DatasetFileError(f"{path} is too short to be an IDX file.")
    magic = int.from_bytes(data[:4], "big")
    if magic == 2049:
        count = int.from_bytes(data[4:8], "big")
        shape, offset = (count,), 8
    elif magic == 2051:
        count, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
        shape, offset = (count, rows, cols), 16
    else:
        raise DatasetFileError(f"{path} is not an IDX label or image file (magic number {magic}).")
    array = np.frombuffer(data, dtype=np.uint8, offset=offset)
    if array.size != int(np.prod(shape)):
        raise DatasetFileError(f"{path} is truncated: expected {int(np.prod(shape))} values, found {array.size}.")
    return array.reshape(shape).copy()


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (n, 28, 28) and uint8 labels (n,), as Keras returns."""
    paths = {name: locate("mnist", name, [m + name for m in MIRRORS], checksum, content_sha256=True)
             for name, checksum in FILES.items()}
    return ((read_idx(paths["train-images-idx3-ubyte.gz"]), read_idx(paths["train-labels-idx1-ubyte.gz"])),
            (read_idx(paths["t10k-images-idx3-ubyte.gz"]), read_idx(paths["t10k-labels-idx1-ubyte.gz"])))
