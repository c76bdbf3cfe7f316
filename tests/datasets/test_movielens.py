"""The MovieLens 100K reader on a tiny archive in the canonical layout (the real file may not be
redistributed): ids from 0, the u1-u5 folds, timestamps, titles, and a damaged file refused."""

import io
import zipfile

import numpy as np
import pytest

from ember.datasets import _files, movielens


def _tiny_archive(path, ratings):
    data = "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ml-100k/u.data", data)
        for fold in range(1, 6):
            test = [row for index, row in enumerate(ratings) if index % 5 == fold - 1]
            base = [row for index, row in enumerate(ratings) if index % 5 != fold - 1]
            archive.writestr(f"ml-100k/u{fold}.base", "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in base))
            archive.writestr(f"ml-100k/u{fold}.test", "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in test))
        archive.writestr("ml-100k/u.item", "1|Toy Story (1995)|01-Jan-1995||\n2|GoldenEye (1995)|01-Jan-1995||\n"
                         .encode("latin-1"))


@pytest.fixture
def tiny_movielens(tmp_path, monkeypatch):
    folder = tmp_path / "movielens"
    folder.mkdir()
    ratings = [(1, 1, 5, 100), (1, 2, 3, 101), (2, 1, 4, 102), (2, 2, 1, 103), (3, 2, 2, 104)]
    _tiny_archive(folder / "ml-100k.zip", ratings)
    monkeypatch.setenv("EMBER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(movielens, "ARCHIVE_MD5", "md5:" + _files.sha256_of(folder / "ml-100k.zip", algorithm="md5"))
    monkeypatch.setattr(movielens, "URL", "http://127.0.0.1:9/ml-100k.zip")  # nothing listens: never downloads
    return folder / "ml-100k.zip"


def test_folds_ids_from_zero_and_titles(tiny_movielens):
    (x_train, y_train), (x_test, y_test) = movielens.load_data("100k", fold=1)
    assert x_test.tolist() == [[0, 0]] and y_test.tolist() == [5.0] and x_train.dtype == np.int64
    assert len(x_train) == 4 and y_train.dtype == np.float32
    tested = np.concatenate([movielens.load_data(fold=fold)[1][0] for fold in range(1, 6)])
    assert sorted(map(tuple, tested.tolist())) == sorted(map(tuple, movielens.load_data(fold=None)[0][0].tolist()))
    (_, _, times), (x_empty, _, _) = movielens.load_data(fold=None, return_timestamps=True)
    assert times.tolist() == [100, 101, 102, 103, 104] and x_empty.shape == (0, 2)
    assert movielens.movie_titles() == ["Toy Story (1995)", "GoldenEye (1995)"]


def test_bad_arguments_and_a_damaged_archive(tiny_movielens, monkeypatch):
    with pytest.raises(ValueError, match="fold must be 1-5"):
        movielens.load_data(fold=6)
    with pytest.raises(ValueError, match="Only MovieLens '100k'"):
        movielens.load_data("1m")
    monkeypatch.setattr(movielens, "ARCHIVE_MD5", "md5:" + "0" * 32)
    with pytest.raises(_files.DatasetFileError, match="failing their checksum"):
        movielens.load_data()
