import numpy as np
import pytest
import torch

import ember
from ember.utils import normalize, pad_sequences, set_random_seed, to_categorical


def test_to_categorical():
    np.testing.assert_array_equal(to_categorical([0, 2, 1], 3), np.eye(3)[[0, 2, 1]])
    assert to_categorical(np.array([[1], [3]])).shape == (2, 4)
    with pytest.raises(ValueError, match="does not fit num_classes=2"):
        to_categorical([0, 2], 2)


def test_normalize_gives_unit_rows():
    np.testing.assert_allclose(np.linalg.norm(normalize(np.array([[3.0, 4.0], [0.0, 0.0]])), axis=1), [1, 0])


def test_set_random_seed_makes_runs_repeat():
    set_random_seed(1)
    a = (np.random.rand(), torch.rand(1).item(), ember.layers.Dense(2)(torch.ones(1, 3)).sum().item())
    set_random_seed(1)
    b = (np.random.rand(), torch.rand(1).item(), ember.layers.Dense(2)(torch.ones(1, 3)).sum().item())
    assert a == b


def test_pad_sequences_pre_post_and_truncation():
    sequences = [[1, 2, 3], [4], []]
    np.testing.assert_array_equal(pad_sequences(sequences), [[1, 2, 3], [0, 0, 4], [0, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(sequences, padding="post"), [[1, 2, 3], [4, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(sequences, maxlen=2), [[2, 3], [0, 4], [0, 0]])
    np.testing.assert_array_equal(pad_sequences(sequences, maxlen=2, truncating="post"), [[1, 2], [0, 4], [0, 0]])
    np.testing.assert_array_equal(pad_sequences([[1]], maxlen=3, value=-1), [[-1, -1, 1]])


def test_keras_import_paths_work():
    import ember as keras
    from ember.callbacks import EarlyStopping  # noqa: F401
    from ember.datasets import mnist  # noqa: F401
    from ember.layers import Dense  # noqa: F401
    from ember.models import Sequential  # noqa: F401
    from ember.preprocessing.sequence import pad_sequences as pad  # noqa: F401
    from ember.preprocessing.text import Tokenizer  # noqa: F401
    from ember.utils import to_categorical as one_hot  # noqa: F401

    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    assert keras.models.Sequential is keras.Sequential and keras.Input is keras.layers.Input


def test_set_device_pins_and_validates():
    ember.config.set_device("cpu")
    try:
        assert ember.config.get_device() == torch.device("cpu")
        if not torch.cuda.is_available():
            with pytest.raises(ValueError, match="CUDA is not available"):
                ember.config.set_device("cuda")
    finally:
        ember.config.set_device(None)


def test_tf32_switches_follow_the_setting_on_cuda_only():
    import torch

    from ember import config

    matmul = torch.backends.cuda.matmul
    before = matmul.fp32_precision
    try:
        matmul.fp32_precision = "ieee"
        config.apply_tf32(torch.device("cpu"))
        assert matmul.fp32_precision == "ieee"  # nothing changes for the CPU
        config.apply_tf32(torch.device("cuda"))
        assert matmul.fp32_precision == "tf32"  # on by default, as in Keras
        config.set_tf32(False)
        config.apply_tf32(torch.device("cuda"))
        assert matmul.fp32_precision == "ieee"
    finally:
        config.set_tf32(True)
        matmul.fp32_precision = before


def test_split_dataset_splits_arrays_tuples_and_torch_datasets():
    x, y = np.arange(10).reshape(10, 1), np.arange(10)
    (x_left, y_left), (x_right, y_right) = ember.utils.split_dataset((x, y), left_size=0.8)
    assert x_left.shape == (8, 1) and y_right.tolist() == [8, 9] and y_left.tolist() == list(range(8))
    left, right = ember.utils.split_dataset(x, right_size=3, shuffle=True, seed=1)
    assert len(left) == 7 and sorted(np.concatenate([left, right])[:, 0].tolist()) == list(range(10))
    again, _ = ember.utils.split_dataset(x, right_size=3, shuffle=True, seed=1)
    np.testing.assert_array_equal(again, left)
    samples = torch.utils.data.TensorDataset(torch.arange(10))
    first, second = ember.utils.split_dataset(samples, left_size=4, right_size=2)
    assert len(first) == 4 and len(second) == 2
    with pytest.raises(ValueError, match="needs left_size or right_size"):
        ember.utils.split_dataset(x)
    with pytest.raises(ValueError, match="different lengths"):
        ember.utils.split_dataset((x, y[:5]), left_size=0.5)
    with pytest.raises(ValueError, match="ask for 8 \\+ 5 samples"):
        ember.utils.split_dataset(x, left_size=8, right_size=5)
