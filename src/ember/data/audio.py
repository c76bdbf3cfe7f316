"""Audio files: WAV decoding (PCM 8/16/24/32-bit and IEEE float, read with the standard library,
no code from the file is run), down-mixing to mono, band-limited resampling, and
`audio_dataset_from_directory` (Keras's arguments).

    >>> audio, rate = load_wav("clip.wav", sampling_rate=16000)   # (samples,) float32 in [-1, 1]
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember.data.folders import class_folder_items, folder_dataset

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def decode_wav(data: bytes, source: str = "<bytes>") -> tuple[np.ndarray, int]:
    """`(audio (samples, channels) float32 in [-1, 1], sampling rate)` from a WAV file's bytes."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{source}: not a WAV file (no RIFF/WAVE header).")
    fmt, samples, position = None, None, 12
    while position + 8 <= len(data):
        chunk, size = data[position:position + 4], struct.unpack("<I", data[position + 4:position + 8])[0]
        body = data[position + 8:position + 8 + size]
        if chunk == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
            if fmt[0] == _EXTENSIBLE and len(body) >= 26:
                fmt = (struct.unpack("<H", body[24:26])[0],) + fmt[1:]  # the sub-format's tag
        elif chunk == b"data":
            samples = body
        position += 8 + size + (size & 1)
    if fmt is None or samples is None:
        raise ValueError(f"{source}: a WAV file needs a 'fmt ' and a 'data' chunk; found "
                         f"{'no fmt' if fmt is None else 'no data'}.")
    tag, channels, rate, _, _, bits = fmt
    audio = _samples(samples, tag, bits, source)
    if not channels or len(audio) < channels:
        raise ValueError(f"{source}: the WAV file holds no audio (0 samples).")
    return audio[:len(audio) // channels * channels].reshape(-1, channels), int(rate)


def _samples(data: bytes, tag: int, bits: int, source: str) -> np.ndarray:
    if tag == _FLOAT and bits in (32, 64):
        return np.frombuffer(data[:len(data) // (bits // 8) * (bits // 8)], f"<f{bits // 8}").astype(np.float32)
    if tag != _PCM or bits not in (8, 16, 24, 32):
        raise ValueError(f"{source}: unsupported WAV encoding (format tag {tag}, {bits} bits); PCM 8/16/24/32-bit "
                         "and 32/64-bit float are read.")
    if bits == 8:
        return (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
    if bits == 24:
        raw = np.frombuffer(data[:len(data) // 3 * 3], np.uint8).reshape(-1, 3).astype(np.int32)
        values = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        return (np.where(values >= 1 << 23, values - (1 << 24), values) / float(1 << 23)).astype(np.float32)
    width = bits // 8
    values = np.frombuffer(data[:len(data) // width * width], f"<i{width}")
    return (values / float(1 << (bits - 1))).astype(np.float32)


def resample(audio: Any, original_rate: int, new_rate: int, lowpass_filter_width: int = 6,
             rolloff: float = 0.99) -> torch.Tensor:
    """Band-limited resampling along the last axis (Hann-windowed sinc, polyphase): `(..., samples)`
    at `original_rate` to `(..., ceil(samples * new_rate / original_rate))` at `new_rate`."""
    audio = torch.as_tensor(audio)
    if original_rate == new_rate:
        return audio
    divisor = math.gcd(int(original_rate), int(new_rate))
    up, down = int(new_rate) // divisor, int(original_rate) // divisor
    cutoff = min(up, down) * rolloff
    width = math.ceil(lowpass_filter_width * down / cutoff)
    offsets = torch.arange(-width, width + down, dtype=torch.float64) / down
    times = (-torch.arange(up, dtype=torch.float64)[:, None] / up + offsets[None, :]) * cutoff
    times = times.clamp(-lowpass_filter_width, lowpass_filter_width)
    window = torch.cos(times * math.pi / lowpass_filter_width / 2) ** 2
    times = times * math.pi
    kernels = torch.where(times == 0, torch.ones_like(times), torch.sin(times) / times) * window * (cutoff / down)
    shape, length = audio.shape, audio.shape[-1]
    flat = F.pad(audio.reshape(-1, 1, length).to(torch.float64), (width, width + down))
    phases = F.conv1d(flat, kernels[:, None, :], stride=down)  # (signals, up, frames)
    out = phases.transpose(1, 2).reshape(flat.shape[0], -1)[:, :math.ceil(up * length / down)]
    return out.reshape(shape[:-1] + (out.shape[-1],)).to(audio.dtype if audio.is_floating_point() else torch.float32)


def fit_length(audio: np.ndarray, length: int | None) -> np.ndarray:
    """Crops `(samples, ...)` audio to `length` samples, or pads it with zeros at the end."""
    if length is None or len(audio) == length:
        return audio
    if len(audio) > length:
        return audio[:length]
    return np.concatenate([audio, np.zeros((length - len(audio),) + audio.shape[1:], audio.dtype)])


def to_mono_at(audio: np.ndarray, rate: int, sampling_rate: int | None) -> tuple[np.ndarray, int]:
    """`(samples, channels)` down-mixed to `(samples,)` (the channels' mean), resampled when asked."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    if sampling_rate is not None and sampling_rate != rate:
        return resample(torch.from_numpy(np.ascontiguousarray(mono)), rate, sampling_rate).numpy(), sampling_rate
    return mono, rate


def load_wav(path: str | os.PathLike, sampling_rate: int | None = None,
             sequence_length: int | None = None) -> tuple[np.ndarray, int]:
    """A WAV file as `(audio (samples,) float32 mono in [-1, 1], sampling rate)`.

    Args:
        sampling_rate: resample to this rate when the file has another (None: keep the file's).
        sequence_length: crop or zero-pad to this many samples (after resampling).
    Stereo and multichannel files are down-mixed; an empty file is an error naming its path.
    """
    path = Path(path)
    audio, rate = to_mono_at(*decode_wav(path.read_bytes(), str(path)), sampling_rate)
    return fit_length(audio, sequence_length), rate


def audio_dataset_from_directory(directory: str | os.PathLike, labels: str | None = "inferred",
                                 label_mode: str | None = "int", class_names: list[str] | None = None,
                                 batch_size: int | None = 32, sampling_rate: int | None = None,
                                 output_sequence_length: int | None = None, ragged: bool = False,
                                 shuffle: bool = True, seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, **kwargs: Any) -> Any:
    """Keras's batched dataset of a class-folder directory of `.wav` files, for `fit`: batches of
    `(audio (batch, time, 1) float32, labels)`.

    Every file is down-mixed to mono and, with `sampling_rate`, resampled to it (without it, all
    files must share one rate). `output_sequence_length` crops or zero-pads each file; None pads
    to the longest file. label_mode / validation_split / subset / seed: as image_dataset_from_directory.
    """
    if ragged:
        raise ValueError("audio_dataset_from_directory: ragged=True is not supported; give output_sequence_length "
                         "to crop or pad every file to one length (or None to pad to the longest).")
    items = class_folder_items(Path(directory), (".wav",))
    if not items:
        raise FileNotFoundError(f"No .wav files found in {directory} (expected one folder of .wav files per class).")
    names = sorted({class_name for class_name, _, _ in items})
    clips, rates = [], {}
    for class_name, name, source in items:
        where = str(Path(directory) / class_name / name)
        audio, rate = to_mono_at(*decode_wav(source if isinstance(source, bytes) else source.read_bytes(), where),
                                 sampling_rate)
        clips.append(audio)
        rates.setdefault(rate, where)
    integer_labels = np.array([names.index(class_name) for class_name, _, _ in items], dtype=np.int64)
    if len(rates) > 1:
        raise ValueError(f"Files of several sampling rates ({dict(sorted(rates.items()))}, a file of each named); "
                         "pass sampling_rate= to resample them all to one.")
    length = output_sequence_length or max(len(clip) for clip in clips)
    audio = np.stack([fit_length(clip, length) for clip in clips])[..., None]
    return folder_dataset(audio, integer_labels, names, labels, label_mode, class_names, batch_size, shuffle, seed,
                          validation_split, subset)
