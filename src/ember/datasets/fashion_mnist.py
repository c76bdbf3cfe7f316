"""Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothes, 28x28, 10 classes,
in the same IDX gzip format as MNIST (from `EMBER_DATA_DIR/fashion_mnist/`, the cache, or a download)."""

from __future__ import annotations

import numpy as np

from ember.datasets._files import locate
from ember.datasets.mnist import read_idx

MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"  # the address its README gives
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
# the MD5s published in the Fashion-MNIST repository for the .gz files
FILES = {
    "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
}


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (n, 28, 28) and uint8 labels, as Keras returns."""
    paths = {name: locate("fashion_mnist", name, [MIRROR + name], checksum) for name, checksum in FILES.items()}
    return ((read_idx(paths["train-images-idx3-ubyte.gz"]), read_idx(paths["train-labels-idx1-ubyte.gz"])),
            (read_idx(paths["t10k-images-idx3-ubyte.gz"]), read_idx(paths["t10k-labels-idx1-ubyte.gz"])))
