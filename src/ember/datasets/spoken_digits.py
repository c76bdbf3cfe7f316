"""The Free Spoken Digit Dataset (Jakobovski et al., v1.0.10): 3,000 recordings of the digits 0-9
by 6 English speakers, 50 of each digit per speaker, 8 kHz mono.

`load_data()` returns `(x_train, y_train), (x_test, y_test)`: float32 audio `(N, sequence_length)`
in [-1, 1] (cropped or zero-padded at the end; 8,000 samples = 1 s by default) and int64 digits.
Splits: "official" (recordings 0-4 of every digit and speaker are the test set: 2,700 / 300), or
"speaker" (every recording of `test_speaker` is the test set: 2,500 / 500), to measure how a
model does on a voice it never heard.

The archive `speech/fsdd-recordings.tar.gz` is read from `EMBER_DATA_DIR` or the cache, checked by
sha256; when absent, the v1.0.10 release is downloaded from GitHub and its recordings are checked
file by file against a digest of the 3,000 files' names and contents.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
from pathlib import Path

import numpy as np

from ember.data.audio import decode_wav, fit_length, to_mono_at
from ember.datasets import _files

ARCHIVE = "fsdd-recordings.tar.gz"
ARCHIVE_SHA256 = "0595cfb3a3b5f221c6ac6262508fdfa2ff05f37735934dd0235ccb3825a5d2c0"
RELEASE_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
RELEASE = "free-spoken-digit-dataset-1.0.10.tar.gz"
RECORDINGS_DIGEST = "b27ea4d00db6bb96fb89873256d1246768ad9a143a5fca202be9c670336ea264"
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
SAMPLING_RATE = 8000
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def recordings_digest(recordings: dict[str, bytes]) -> str:
    """sha256 over the sorted file names and the sha256 of each file's bytes: the same for any
    archive that holds these recordings."""
    digest = hashlib.sha256()
    for name in sorted(recordings):
        digest.update(f"{name}\n{hashlib.sha256(recordings[name]).hexdigest()}\n".encode())
    return digest.hexdigest()


def _read_recordings(path: Path) -> dict[str, bytes]:
    recordings = {}
    with tarfile.open(path) as archive:
        for member in archive:
            name = Path(member.name).name
            if member.isfile() and Path(member.name).parent.name == "recordings" and _NAME.match(name):
                recordings[name] = archive.extractfile(member).read()
    return recordings


def recordings() -> dict[str, bytes]:
    """The 3,000 WAV files' bytes by file name (`{digit}_{speaker}_{index}.wav`), verified."""
    try:
        return _read_recordings(_files.locate("speech", ARCHIVE, [], ARCHIVE_SHA256))
    except _files.DatasetFileError as missing:
        try:
            release = _files.locate("speech", RELEASE, [RELEASE_URL], None)
        except _files.DatasetFileError:
            raise missing from None
    found = _read_recordings(release)
    if recordings_digest(found) != RECORDINGS_DIGEST:
        release.unlink()
        raise _files.DatasetFileError(f"{RELEASE_URL}: its recordings do not match FSDD v1.0.10 ({len(found)} files); "
                                      "the download was discarded.")
    return found


def load_data(split: str = "official", sequence_length: int | None = SAMPLING_RATE, test_speaker: str = "theo",
              return_speakers: bool = False) -> tuple:
    """`(x_train, y_train), (x_test, y_test)`, and the speakers' names `(N,)` after each with
    `return_speakers=True`; see the module docstring. `sequence_length=None` keeps each recording's
    own length (lists of arrays)."""
    if split not in ("official", "speaker"):
        raise ValueError(f"split must be 'official' or 'speaker'; got {split!r}.")
    if split == "speaker" and test_speaker not in SPEAKERS:
        raise ValueError(f"test_speaker must be one of {list(SPEAKERS)}; got {test_speaker!r}.")
    parts: dict[bool, tuple[list, list, list]] = {False: ([], [], []), True: ([], [], [])}
    for name, data in sorted(recordings().items()):
        digit, speaker, index = _NAME.match(name).groups()
        audio, _ = to_mono_at(*decode_wav(data, name), SAMPLING_RATE)
        in_test = int(index) <= 4 if split == "official" else speaker == test_speaker
        for values, value in zip(parts[in_test], (fit_length(audio, sequence_length), int(digit), speaker)):
            values.append(value)
    results = []
    for in_test in (False, True):
        clips, digits, speakers = parts[in_test]
        x = np.stack(clips) if sequence_length is not None else clips
        results.append((x, np.array(digits, dtype=np.int64)) + ((np.array(speakers),) if return_speakers else ()))
    return tuple(results)
