"""Finding dataset files: `EMBER_DATA_DIR`, then the cache (`~/.ember/datasets`), then a download
checked against a sha256. A file whose checksum does not match is never used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

DATA_DIR_VARIABLE = "EMBER_DATA_DIR"


class DatasetFileError(RuntimeError):
    """A dataset file could not be found, fetched or verified."""


def cache_dir() -> Path:
    """Where downloaded datasets are kept: `~/.ember/datasets` (or `$EMBER_HOME/datasets`)."""
    return Path(os.environ.get("EMBER_HOME", Path.home() / ".ember")) / "datasets"


def sha256_of(path: Path, decompress: bool = False, algorithm: str = "sha256") -> str:
    """The digest of a file's bytes (of its gzip content when `decompress`)."""
    digest = hashlib.new(algorithm)
    opener = gzip.open if decompress else open
    with opener(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(subdir: str, filename: str, urls: list[str], sha256: str | None, content_sha256: bool = False) -> Path:
    """The path of a verified copy of `subdir/filename`, downloading it into the cache if needed.

    Args:
        urls: mirrors to try, in order.
        sha256: expected sha256 checksum, or "md5:<digest>" where only an MD5 is published.
        content_sha256: the checksum is of the gzip-decompressed content, which stays the same
            whichever gzip wrapper a mirror uses.
    Raises DatasetFileError naming where it looked and what failed.
    """
    candidates = []
    data_dir = os.environ.get(DATA_DIR_VARIABLE)
    if data_dir:
        candidates += [Path(data_dir) / subdir / filename, Path(data_dir) / filename]
    cached = cache_dir() / subdir / filename
    candidates.append(cached)
    rejected = []
    for path in candidates:
        if path.is_file():
            if _matches(path, sha256, content_sha256):
                return path
            rejected.append(str(path))
    errors = []
    for url in urls:
        try:
            _download(url, cached)
        except OSError as error:
            errors.append(f"{url}: {error}")
            continue
        if _matches(cached, sha256, content_sha256):
            return cached
        cached.unlink()
        errors.append(f"{url}: checksum mismatch, file discarded")
    looked = ", ".join(str(p) for p in candidates)
    bad = f" Files failing their checksum (not used): {', '.join(rejected)}." if rejected else ""
    raise DatasetFileError(f"Could not find {subdir}/{filename}. Looked in {looked}.{bad} Downloads failed: "
                           f"{'; '.join(errors) or 'no mirrors'}. Set {DATA_DIR_VARIABLE} to a folder holding "
                           f"{subdir}/{filename}, or connect to the internet.")


def _matches(path: Path, checksum: str | None, decompress: bool) -> bool:
    if checksum is None:
        return True
    algorithm, _, digest = checksum.rpartition(":")
    return sha256_of(path, decompress, algorithm or "sha256") == digest


def _download(url: str, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as temporary:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                shutil.copyfileobj(response, temporary)
        except BaseException:
            os.unlink(temporary.name)
            raise
    os.replace(temporary.name, destination)
