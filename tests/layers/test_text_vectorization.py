import numpy as np
import pytest
import torch

from ember import layers

TEXTS = ["The cat sat.", "The dog sat, the END!", "a cat"]


def test_int_mode_ids_padding_and_unknown_words():
    vectorizer = layers.TextVectorization(output_sequence_length=4)
    vectorizer.adapt(TEXTS)
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[:4] == ["", "[UNK]", "the", "cat"]
    ids = vectorizer(["the cat flew away home"])
    assert ids.dtype == torch.int64 and ids.shape == (1, 4)
    assert ids[0, 0] == vocabulary.index("the") and ids[0, 2] == 1  # "flew" is unknown
    assert vectorizer(["cat"]).tolist() == [[vocabulary.index("cat"), 0, 0, 0]]


def test_max_tokens_keeps_the_most_frequent():
    vectorizer = layers.TextVectorization(max_tokens=4)
    vectorizer.adapt(TEXTS)
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "the", "cat"]  # ties ("cat", "sat") in alphabetical order


def test_multi_hot_count_and_tf_idf():
    for mode in ("multi_hot", "count", "tf_idf"):
        vectorizer = layers.TextVectorization(output_mode=mode)
        vectorizer.adapt(TEXTS)
        vocabulary = vectorizer.get_vocabulary()
        row = vectorizer(["the the cat"])[0]
        assert row.shape == (len(vocabulary),)
        expected = {"multi_hot": 1.0, "count": 2.0}.get(mode)
        if expected is not None:
            assert row[vocabulary.index("the")] == expected
        else:
            assert row[vocabulary.index("the")] > 0 and row[vocabulary.index("dog")] == 0


def test_config_round_trip_and_errors():
    vectorizer = layers.TextVectorization(output_sequence_length=3)
    with pytest.raises(ValueError, match="call adapt"):
        vectorizer(["x"])
    vectorizer.adapt(TEXTS)
    copy = layers.TextVectorization.from_config(vectorizer.get_config())
    np.testing.assert_array_equal(copy(TEXTS).numpy(), vectorizer(TEXTS).numpy())
    with pytest.raises(TypeError, match="list of texts"):
        vectorizer("one string")
