"""CIFAR-10: 50,000 training and 10,000 test images, 32x32 RGB, 10 classes.

Read from the canonical binary version (`cifar-10-batches-bin/`, or its archive
`cifar-10-binary.tar.gz`, downloaded and checked when online), never the pickled one; or from
archives of one folder per class (the JPEG re-encoding in `EMBER_DATA_DIR/cifar10/`).
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from ember.data.image import image_folder
from ember.datasets._files import DatasetFileError, cache_dir, locate

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
BINARY = ("cifar-10-binary.tar.gz", "md5:c32a1d4ab5d03f1284b67883e8d87530",
          "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")
RECORD = 1 + 32 * 32 * 3


def read_binary_batch(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch file: records of a label byte then 1024 red, 1024 green, 1024 blue bytes."""
    if len(data) % RECORD:
        raise DatasetFileError(f"A CIFAR-10 binary batch must be a multiple of {RECORD} bytes; got {len(data)}.")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3), channels last
    return np.ascontiguousarray(images), records[:, :1].copy()


def _from_binary(archive: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    batches: dict[str, bytes] = {}
    if archive.is_dir():
        for name in names:
            batches[name] = (archive / name).read_bytes()
    else:
        with tarfile.open(archive) as tar:
            for member in tar:
                if Path(member.name).name in names:
                    batches[Path(member.name).name] = tar.extractfile(member).read()
    missing = [n for n in names if n not in batches]
    if missing:
        raise DatasetFileError(f"{archive} lacks the CIFAR-10 batches {missing}.")
    train = [read_binary_batch(batches[n]) for n in names[:5]]
    x_test, y_test = read_binary_batch(batches["test_batch.bin"])
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])), (x_test, y_test)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (N, 32, 32, 3) and uint8 labels (N, 1), as Keras."""
    roots = [Path(os.environ["EMBER_DATA_DIR"]) if os.environ.get("EMBER_DATA_DIR") else None, cache_dir()]
    for root in [r for r in roots if r is not None]:
        for candidate in (root / "cifar10" / "cifar-10-batches-bin", root / "cifar-10-batches-bin"):
            if candidate.is_dir():
                return _from_binary(candidate)
        folders = [root / "cifar10" / f"cifar10-{split}.tar.gz" for split in ("train", "test")]
        if all(f.exists() for f in folders):
            return tuple(_from_folder(f) for f in folders)  # type: ignore[return-value]
    return _from_binary(locate("cifar10", BINARY[0], [BINARY[2]], BINARY[1]))


def _from_folder(archive: Path) -> tuple[np.ndarray, np.ndarray]:
    """A class-folder archive, shuffled with a fixed seed (folders hold one class after another; the
    binary version mixes them, and `validation_split` takes the last samples)."""
    images, labels, class_names = image_folder(archive)
    if class_names != CLASS_NAMES:
        raise DatasetFileError(f"{archive} has classes {class_names}; expected CIFAR-10's {CLASS_NAMES}.")
    order = np.random.RandomState(0).permutation(len(labels))
    return images[order], labels[order].astype(np.uint8).reshape(-1, 1)
