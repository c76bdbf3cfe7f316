"""Audio layers against float64 NumPy references written from the definitions, and SpecAugment's
masks (only while training, per example, within their widths)."""

import numpy as np
import pytest
import torch

from ember import layers


def _numpy_mel(signal, fft_length, stride, rate, mels, min_freq, max_freq, top_db=80.0):
    """Centred (reflect-padded) frames, periodic Hann, |rfft|^2, HTK triangles, dB, per-clip floor."""
    padded = np.pad(signal, fft_length // 2, mode="reflect")
    frames = np.stack([padded[i:i + fft_length] for i in range(0, len(padded) - fft_length + 1, stride)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fft_length) / fft_length)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # the same scale as 1127 ln(1 + f/700)
    bins = mel(np.linspace(0, rate / 2, fft_length // 2 + 1))
    edges = np.linspace(mel(min_freq), mel(max_freq), mels + 2)
    filters = np.zeros((fft_length // 2 + 1, mels))
    for m in range(mels):
        low, center, high = edges[m:m + 3]
        filters[1:, m] = np.maximum(0, np.minimum((bins[1:] - low) / (center - low), (high - bins[1:]) / (high - center)))
    decibels = 10 * np.log10(np.maximum(power @ filters, 1e-10))
    return np.maximum(decibels, decibels.max() - top_db).T  # (mels, frames)


def test_mel_spectrogram_matches_a_float64_reference():
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 8000
    clips = np.stack([np.sin(2 * np.pi * 440 * t) + 0.1 * rng.normal(size=8000),
                      0.01 * rng.normal(size=8000)]).astype(np.float32)
    layer = layers.MelSpectrogram(fft_length=256, sequence_stride=80, sampling_rate=8000, num_mel_bins=40)
    ours = layer(torch.tensor(clips)).numpy()
    assert ours.shape == (2, 40, 101)
    for clip, out in zip(clips, ours):  # each clip floored at its own max - 80 dB
        reference = _numpy_mel(clip.astype(np.float64), 256, 80, 8000, 40, 20.0, 4000.0)
        np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(layer(torch.tensor(clips[0])).numpy(), ours[0], rtol=1e-6)  # unbatched
    np.testing.assert_allclose(layer(torch.tensor(clips[:, :, None])).numpy(), ours, rtol=1e-6)  # (batch, samples, 1)


def test_mel_spectrogram_shapes_of_the_keras_examples_and_bad_input():
    assert layers.MelSpectrogram(num_mel_bins=64, sampling_rate=8000, sequence_stride=256, fft_length=2048)(
        torch.rand(16000)).shape == (64, 63)
    assert layers.MelSpectrogram(num_mel_bins=80, sampling_rate=8000, sequence_stride=128, fft_length=2048)(
        torch.rand(2, 16000)).shape == (2, 80, 126)  # 1 + 16000 // 128 (Keras's docstring says 125; its
    # NumPy backend's stft, scipy's frames of the reflect-padded signal, gives 126)
    with pytest.raises(ValueError, match="a clip of 500 samples is too short for fft_length=2048"):
        layers.MelSpectrogram()(torch.rand(1, 500))
    with pytest.raises(ValueError, match="fft_length .* must be >= sequence_length"):
        layers.MelSpectrogram(fft_length=256, sequence_length=512)
    with pytest.raises(ValueError, match=r"expects audio \(batch, samples\); got shape \(2, 3, 100\)"):
        layers.MelSpectrogram(fft_length=32)(torch.rand(2, 3, 100))


def test_stft_spectrogram_is_a_windowed_dft():
    signal = np.random.default_rng(1).normal(size=(2, 300, 1))
    layer = layers.STFTSpectrogram(mode="magnitude", frame_length=64, frame_step=32, fft_length=128)
    ours = layer(torch.tensor(signal, dtype=torch.float32)).detach().numpy()
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(64) / 63)  # symmetric Hann (periodic=False)
    frames = np.stack([signal[:, i:i + 64, 0] for i in range(0, 300 - 64 + 1, 32)], axis=1)
    reference = np.abs(np.fft.rfft(frames * window, n=128, axis=-1)) / np.sqrt(np.sum(window ** 2))
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5)
    assert layer.real_kernel.shape == (65, 1, 64)  # stored as conv1d's (out, in, width)
    assert layer.get_weights()[0].shape == (64, 1, 65)  # Keras's layout
    log = layers.STFTSpectrogram(frame_length=64, frame_step=32, fft_length=128)(torch.tensor(signal).float())
    np.testing.assert_allclose(log.detach().numpy(), np.log(np.maximum(reference, 1e-7)), rtol=1e-4, atol=1e-4)
    assert layers.STFTSpectrogram(frame_length=256, frame_step=128, fft_length=512)(
        torch.rand(3, 16000, 1)).shape == (3, 124, 257)
    assert layers.STFTSpectrogram(frame_length=256, frame_step=128, fft_length=512, padding="same", expand_dims=True)(
        torch.rand(3, 16000, 3)).shape == (3, 125, 257, 3)


def test_mfcc_is_the_orthonormal_dct_of_the_log_mel_spectrogram():
    from scipy.fft import dct
    clip = torch.tensor(np.random.default_rng(2).normal(size=(1, 4000)), dtype=torch.float32)
    settings = dict(fft_length=256, sequence_stride=128, sampling_rate=8000, num_mel_bins=40)
    mel = layers.MelSpectrogram(**settings)(clip).numpy()
    mfcc = layers.MFCC(num_mfcc=13, **settings)(clip).numpy()
    np.testing.assert_allclose(mfcc, dct(mel, type=2, norm="ortho", axis=1)[:, :13], rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="num_mfcc .* must be <= num_mel_bins"):
        layers.MFCC(num_mfcc=50, **settings)


def test_masks_apply_only_while_training_per_example_and_within_their_widths():
    spectrogram = torch.ones(64, 20, 30)
    frequency = layers.FrequencyMasking(freq_mask_param=5, num_masks=2, seed=3)
    time = layers.TimeMasking(time_mask_param=4, seed=3, mask_value="mean")
    frequency.eval()
    assert torch.equal(frequency(spectrogram), spectrogram)  # inference
    frequency.train(), time.train()
    masked = frequency(spectrogram)
    rows_masked = (masked == 0).all(dim=2).sum(dim=1)  # whole mel rows set to 0
    assert (rows_masked <= 10).all() and rows_masked.float().std() > 0  # per example, at most 2 bands of 5
    assert torch.equal((masked == 0).any(dim=2), (masked == 0).all(dim=2))  # bands span every frame
    ramp = torch.arange(30.0).expand(8, 20, 30)
    spans = time(ramp)
    changed = (spans != ramp).any(dim=1).sum(dim=1)
    assert (changed <= 4).all()
    again = layers.TimeMasking(time_mask_param=4, seed=3, mask_value="mean")
    again.train()
    assert torch.equal(again(ramp), spans)  # seeded
    with pytest.raises(ValueError, match="axis 0 is the batch"):
        layers.TimeMasking(4, axis=0)
