import numpy as np
import pytest

from ember.text import Tokenizer, tokenizer_from_json


def test_word_index_orders_by_frequency_then_first_appearance():
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(["The cat sat on the mat.", "The dog sat!"])
    assert tokenizer.word_index == {"the": 1, "sat": 2, "cat": 3, "on": 4, "mat": 5, "dog": 6}
    assert tokenizer.word_counts["the"] == 3 and tokenizer.document_count == 2


def test_unknown_words_with_and_without_oov_token():
    plain = Tokenizer()
    plain.fit_on_texts(["a b c"])
    assert plain.texts_to_sequences(["a z c", ""]) == [[1, 3], []]
    oov = Tokenizer(oov_token="<unk>")
    oov.fit_on_texts(["a b c"])
    assert oov.word_index["<unk>"] == 1 and oov.texts_to_sequences(["a z"]) == [[2, 1]]
    assert oov.sequences_to_texts([[2, 1]]) == ["a <unk>"]


def test_num_words_keeps_the_most_frequent():
    tokenizer = Tokenizer(num_words=3)
    tokenizer.fit_on_texts(["a a a b b c"])
    assert tokenizer.texts_to_sequences(["a b c"]) == [[1, 2]]


def test_texts_to_matrix_modes():
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(["a a b", "b c"])
    np.testing.assert_array_equal(tokenizer.texts_to_matrix(["a a b"], mode="count"), [[0, 2, 1, 0]])
    np.testing.assert_array_equal(tokenizer.texts_to_matrix(["a a b"], mode="binary"), [[0, 1, 1, 0]])
    np.testing.assert_allclose(tokenizer.texts_to_matrix(["a a b"], mode="freq"), [[0, 2 / 3, 1 / 3, 0]])
    assert tokenizer.texts_to_matrix(["a"], mode="tfidf")[0, 1] > 0


def test_char_level_and_json_round_trip():
    tokenizer = Tokenizer(char_level=True)
    tokenizer.fit_on_texts(["abba"])
    assert tokenizer.texts_to_sequences(["ab"]) == [[1, 2]]
    restored = tokenizer_from_json(tokenizer.to_json())
    assert restored.word_index == tokenizer.word_index and restored.texts_to_sequences(["ba"]) == [[2, 1]]


def test_single_string_is_rejected():
    with pytest.raises(TypeError, match="list of texts"):
        Tokenizer().fit_on_texts("one string")
