import io
import tarfile

import numpy as np
import pytest

import ember
from ember.datasets import imdb


def test_tokenize_lowercases_and_drops_html_breaks():
    assert imdb.tokenize("A <br /><br />Great film, isn't it? 10/10") == ["a", "great", "film", "isn't", "it", "10",
                                                                          "10"]


def write_small_archive(path, reviews):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in reviews.items():
            data = text.encode()
            info = tarfile.TarInfo(f"aclImdb/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_a_short_archive_is_reported(tmp_path, monkeypatch):
    (tmp_path / "imdb").mkdir()
    write_small_archive(tmp_path / "imdb" / "aclImdb_labelled.tar.gz", {"train/pos/0_9.txt": "good"})
    monkeypatch.setattr(imdb, "LABELLED", ("aclImdb_labelled.tar.gz", None))
    monkeypatch.setenv("EMBER_DATA_DIR", str(tmp_path))
    with pytest.raises(ember.datasets._files.DatasetFileError, match="train split has 1 labelled reviews"):
        imdb.load_text()


@pytest.fixture
def real_imdb(real_data_dir, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("EMBER_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path_factory.getbasetemp() / "ember-home"))


def test_real_imdb_follows_keras_conventions(real_imdb):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=1000)
    assert len(x_train) == len(x_test) == 25000 and x_train.dtype == object
    assert np.bincount(y_train).tolist() == [12500, 12500] and np.bincount(y_test).tolist() == [12500, 12500]
    assert all(s[0] == 1 for s in x_train[:100])  # start_char
    assert max(max(s) for s in x_train) == 999 and min(min(s) for s in x_train) == 1
    word_index = imdb.get_word_index()
    assert word_index["the"] == 1 and len(word_index) > 70000
    (short, _), _ = imdb.load_data(maxlen=100, start_char=None, oov_char=None, num_words=50, skip_top=5)
    assert all(len(s) < 100 for s in short) and all(5 <= w < 50 for s in short for w in s)


def test_real_imdb_text_is_shuffled_with_both_classes(real_imdb):
    (texts, labels), _ = imdb.load_text()
    assert len(texts) == 25000 and 0.4 < labels[-2500:].mean() < 0.6
