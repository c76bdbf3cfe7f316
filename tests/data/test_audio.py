"""WAV decoding, down-mixing, resampling and audio_dataset_from_directory, on files made here."""

import struct
import wave

import numpy as np
import pytest
import torch

from ember import utils
from ember.data.audio import decode_wav, resample


def _write_wav(path, audio, rate, width=2):
    """audio: (samples, channels) floats in [-1, 1], written as PCM of `width` bytes."""
    audio = np.asarray(audio, dtype=np.float64)
    audio = audio if audio.ndim == 2 else audio[:, None]
    with wave.open(str(path), "wb") as file:
        file.setnchannels(audio.shape[1])
        file.setsampwidth(width)
        file.setframerate(rate)
        if width == 1:
            file.writeframes(np.round(audio * 127 + 128).astype(np.uint8).tobytes())
        else:
            integers = np.round(audio * (2 ** (8 * width - 1) - 1)).astype("<i4")
            raw = integers.tobytes() if width == 4 else integers.view(np.uint8).reshape(-1, 4)[:, :width].tobytes()
            file.writeframes(raw)


def _float_wav(samples, rate):
    data = np.asarray(samples, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    return b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt \
        + b"data" + struct.pack("<I", len(data)) + data


def test_pcm_widths_float_and_stereo_decode_to_floats(tmp_path):
    tone = 0.5 * np.sin(np.linspace(0, 20, 400))
    for width, tolerance in [(1, 1 / 100), (2, 1e-4), (3, 1e-6), (4, 1e-8)]:
        _write_wav(tmp_path / f"w{width}.wav", tone, 8000, width)
        audio, rate = decode_wav((tmp_path / f"w{width}.wav").read_bytes())
        assert rate == 8000 and audio.shape == (400, 1) and audio.dtype == np.float32
        np.testing.assert_allclose(audio[:, 0], tone, atol=tolerance)
    audio, rate = decode_wav(_float_wav(tone, 22050))
    assert rate == 22050 and np.allclose(audio[:, 0], tone, atol=1e-7)
    _write_wav(tmp_path / "stereo.wav", np.stack([tone, -tone * 0.5], axis=1), 8000)
    mono, _ = utils.load_wav(tmp_path / "stereo.wav")
    np.testing.assert_allclose(mono, 0.25 * tone, atol=1e-4)  # the channels' mean


def test_empty_and_foreign_files_are_rejected_with_their_path(tmp_path):
    _write_wav(tmp_path / "empty.wav", np.zeros((0, 1)), 8000)
    with pytest.raises(ValueError, match=r"empty\.wav: the WAV file holds no audio"):
        utils.load_wav(tmp_path / "empty.wav")
    (tmp_path / "notes.wav").write_bytes(b"not audio at all")
    with pytest.raises(ValueError, match=r"notes\.wav: not a WAV file"):
        utils.load_wav(tmp_path / "notes.wav")


def test_resampling_keeps_a_tone_and_the_duration():
    rate, tone_hz = 16000, 440.0
    t = np.arange(rate) / rate
    down = resample(torch.tensor(np.sin(2 * np.pi * tone_hz * t)), rate, 8000).numpy()
    assert down.shape == (8000,)
    expected = np.sin(2 * np.pi * tone_hz * np.arange(8000) / 8000)
    assert np.max(np.abs(down - expected)[100:-100]) < 1e-2  # away from the edges
    up = resample(torch.tensor(expected), 8000, 22050).numpy()
    assert up.shape == (22050,)
    assert np.max(np.abs(up - np.sin(2 * np.pi * tone_hz * np.arange(22050) / 22050))[300:-300]) < 1e-2
    # a tone above the new Nyquist frequency is filtered out, not aliased
    high = resample(torch.tensor(np.sin(2 * np.pi * 6000 * t)), rate, 8000).numpy()
    assert np.sqrt(np.mean(high[100:-100] ** 2)) < 0.05


def test_audio_dataset_from_directory(tmp_path):
    rng = np.random.default_rng(0)
    for label, count in [("no", 3), ("yes", 4)]:
        (tmp_path / label).mkdir()
        for i in range(count):
            _write_wav(tmp_path / label / f"{i}.wav", rng.uniform(-0.5, 0.5, 800 + 100 * i), 8000)
    dataset = utils.audio_dataset_from_directory(tmp_path, batch_size=4, shuffle=False)
    assert dataset.class_names == ["no", "yes"]
    batches = list(dataset)
    assert batches[0][0].shape == (4, 1100, 1) and batches[0][1].tolist() == [0, 0, 0, 1]  # padded to the longest
    cropped = utils.audio_dataset_from_directory(tmp_path, output_sequence_length=900, batch_size=None)
    assert next(iter(cropped))[0].shape == (7, 900, 1)
    _write_wav(tmp_path / "yes" / "fast.wav", rng.uniform(-0.5, 0.5, 1600), 16000)
    with pytest.raises(ValueError, match="several sampling rates"):
        utils.audio_dataset_from_directory(tmp_path)
    resampled = utils.audio_dataset_from_directory(tmp_path, sampling_rate=8000, batch_size=None, shuffle=False)
    assert next(iter(resampled))[0].shape == (8, 1100, 1)  # the 16 kHz file became 800 samples
    train, validation = utils.audio_dataset_from_directory(tmp_path, sampling_rate=8000, validation_split=0.25,
                                                           subset="both", seed=1)
    assert len(train.samples) == 6 and len(validation.samples) == 2
