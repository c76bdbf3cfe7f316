"""Audio front ends with Keras 3's arguments and defaults, on `torch.stft` and `conv1d`:
STFTSpectrogram (trainable Fourier kernels), MelSpectrogram, and MFCC (a DCT of the log-mel
spectrogram, as librosa and torchaudio compute it).

Layouts follow Keras: STFTSpectrogram takes `(batch, time, channels)` and returns channels-last
`(batch, frames, channels * freq_bins)`; MelSpectrogram and MFCC take `(batch, samples)` (or
`(samples,)`, or `(batch, samples, 1)`) and return `(batch, num_mel_bins or num_mfcc, frames)`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember._validation import require_choice, require_positive_int
from ember.layers.base import Layer
from ember.layers.conv import CONV_KERNEL

_MEL_BREAK_HERTZ, _MEL_HIGH_Q = 700.0, 1127.0


def window_values(window: Any, length: int, periodic: bool, dtype: torch.dtype = torch.float64) -> torch.Tensor | None:
    """A window of `length` samples: "hann", "hamming", None (no window), or the values themselves."""
    if window is None:
        return None
    if isinstance(window, str):
        makers = {"hann": torch.hann_window, "hamming": torch.hamming_window}
        if window not in makers:
            raise ValueError(f"window must be 'hann', 'hamming', None or an array of {length} values; got {window!r}.")
        return makers[window](length, periodic=periodic, dtype=dtype)
    values = torch.as_tensor(np.asarray(window), dtype=dtype)
    if values.shape != (length,):
        raise ValueError(f"A window given as values needs shape ({length},); got {tuple(values.shape)}.")
    return values


def hertz_to_mel(frequencies: torch.Tensor) -> torch.Tensor:
    """The HTK mel scale: 1127 ln(1 + f / 700)."""
    return _MEL_HIGH_Q * torch.log1p(frequencies / _MEL_BREAK_HERTZ)


def mel_filterbank(num_mel_bins: int, num_spectrogram_bins: int, sampling_rate: float, lower_edge_hertz: float,
                   upper_edge_hertz: float, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Triangular filters `(num_spectrogram_bins, num_mel_bins)` with peak 1, evenly spaced on the
    HTK mel scale between the edges (the DC bin gets no weight), as Keras and TensorFlow build them."""
    linear = torch.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins, dtype=dtype)[1:]
    bins_mel = hertz_to_mel(linear)[:, None]
    edges = torch.linspace(float(hertz_to_mel(torch.tensor(lower_edge_hertz, dtype=dtype))),
                           float(hertz_to_mel(torch.tensor(upper_edge_hertz, dtype=dtype))), num_mel_bins + 2,
                           dtype=dtype)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    weights = torch.clamp(torch.minimum((bins_mel - lower) / (center - lower), (upper - bins_mel) / (upper - center)),
                          min=0.0)
    return F.pad(weights, (0, 0, 1, 0))


def dct_matrix(num_inputs: int, num_outputs: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The orthonormal DCT-II `(num_inputs, num_outputs)`: `x @ matrix` keeps the first `num_outputs`
    coefficients of `x`'s last axis."""
    n = torch.arange(num_inputs, dtype=dtype)[:, None]
    k = torch.arange(num_outputs, dtype=dtype)[None, :]
    matrix = torch.cos(math.pi / num_inputs * (n + 0.5) * k) * math.sqrt(2.0 / num_inputs)
    matrix[:, 0] /= math.sqrt(2.0)
    return matrix


class STFTSpectrogram(Layer):
    """Short-time Fourier transform as a strided convolution with (trainable) Fourier kernels.

    Args (Keras's): mode ("log", "magnitude", "psd", "real", "imag", "angle", "stft"),
        frame_length (256), frame_step (frame_length // 2), fft_length (the next power of two),
        window ("hann", "hamming", None or values), periodic (False: a symmetric window),
        scaling ("density": window / its L2 norm, "spectrum": / its L1 norm, None), padding
        ("valid" or "same"), expand_dims (a separate channels axis, for image models),
        data_format ("channels_last").
    Input shape: `(batch, time, channels)` (channels_first: `(batch, channels, time)`).
    Output shape: `(batch, frames, channels * freq_bins)`, or `(batch, frames, freq_bins, channels)`
        with expand_dims; `freq_bins = fft_length // 2 + 1` (twice that for "stft").
    """

    MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")

    def __init__(self, mode: str = "log", frame_length: int = 256, frame_step: int | None = None,
                 fft_length: int | None = None, window: Any = "hann", periodic: bool = False,
                 scaling: str | None = "density", padding: str = "valid", expand_dims: bool = False,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mode = require_choice("mode", mode, self.MODES, layer=self)
        self.frame_length = require_positive_int("frame_length", frame_length, layer=self)
        if frame_step is not None and not 1 <= frame_step <= frame_length:
            raise ValueError(f"STFTSpectrogram '{self.name}': frame_step must be in [1, frame_length={frame_length}]; "
                             f"got {frame_step}.")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(f"STFTSpectrogram '{self.name}': fft_length must be >= frame_length={frame_length}; "
                             f"got {fft_length}.")
        self.frame_step, self.fft_length = frame_step, fft_length
        self._step = frame_step or frame_length // 2
        self._fft = fft_length or 2 ** math.ceil(math.log2(frame_length))
        self.window = window.tolist() if isinstance(window, np.ndarray) else window
        window_values(self.window, frame_length, periodic)  # checks it now
        self.periodic, self.expand_dims = bool(periodic), bool(expand_dims)
        self.scaling = require_choice("scaling", scaling, ("density", "spectrum", None), layer=self)
        self.padding = require_choice("padding", padding, ("valid", "same"), layer=self)
        self.data_format = require_choice("data_format", data_format or "channels_last",
                                          ("channels_last", "channels_first"), layer=self)

    def fourier_kernel(self, side: str) -> Any:
        """An initializer of Keras's kernel `(frame_length, 1, freq_bins)`: the windowed cos (real)
        or sin (imag) of the DFT, over the window's norm."""
        def initialize(shape: tuple, dtype: torch.dtype) -> torch.Tensor:
            frame_length, _, bins = shape
            angles = -2 * math.pi * torch.arange(frame_length, dtype=torch.float64)[:, None] \
                * torch.arange(bins, dtype=torch.float64)[None, :] / ((bins - 1) * 2)
            kernel = torch.cos(angles) if side == "real" else torch.sin(angles)
            window = window_values(self.window, frame_length, self.periodic)
            if window is not None:
                norm = {"density": window.square().sum().sqrt(), "spectrum": window.abs().sum(), None: 1.0}
                kernel = kernel * window[:, None] / norm[self.scaling]
            return kernel[:, None, :].to(dtype)
        return initialize

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != 3:
            raise ValueError(f"STFTSpectrogram '{self.name}' expects 3-D input (batch, time, channels); got shape "
                             f"{tuple(input_shape)}. Add a channels axis, e.g. layers.Reshape((samples, 1)).")
        shape = (self.frame_length, 1, self._fft // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != {"real": "imag", "imag": "real"}.get(side):
                self.add_weight(f"{side}_kernel", shape, initializer=self.fourier_kernel(side), layout=CONV_KERNEL)

    def _transform(self, signals: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """`(signals, 1, time)` -> `(signals, freq_bins, frames)`."""
        if self.padding == "same":
            frames = -(-signals.shape[-1] // self._step)
            total = max((frames - 1) * self._step + self.frame_length - signals.shape[-1], 0)
            signals = F.pad(signals, (total // 2, total - total // 2))
        return F.conv1d(signals, kernel.to(signals.dtype), stride=self._step)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not inputs.is_floating_point():
            raise TypeError(f"STFTSpectrogram '{self.name}' needs float audio; got {inputs.dtype}.")
        channels_first = inputs if self.data_format == "channels_first" else inputs.transpose(1, 2)
        batch, channels, time = channels_first.shape
        signals = channels_first.reshape(batch * channels, 1, time)
        real = self._transform(signals, self.real_kernel) if self.mode != "imag" else None
        imag = self._transform(signals, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag", "angle", "stft"):
            out = {"real": real, "imag": imag}.get(self.mode)
            if self.mode == "angle":
                out = torch.atan2(imag, real)
            elif self.mode == "stft":
                out = torch.cat([real, imag], dim=1)
        else:
            power = real.square() + imag.square()
            if self.mode == "psd":
                out = power + F.pad(power[:, 1:-1], (0, 0, 1, 1))
            else:
                out = torch.sqrt(power.clamp_min(1e-7))
                out = out if self.mode == "magnitude" else torch.log(out.clamp_min(1e-7))
        out = out.reshape(batch, channels, out.shape[1], out.shape[2])  # (batch, channels, bins, frames)
        if self.expand_dims:
            return out.permute(0, 3, 2, 1) if self.data_format == "channels_last" else out.transpose(2, 3)
        out = out.reshape(batch, channels * out.shape[2], out.shape[3])
        return out.transpose(1, 2) if self.data_format == "channels_last" else out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "expand_dims": self.expand_dims, "data_format": self.data_format}


class MelSpectrogram(Layer):
    """Mel spectrogram (Keras 3's arguments and defaults): |STFT|**mag_exp (centred frames, periodic
    window, reflect padding) through HTK-scale triangular filters, in decibels by default.

    Args: fft_length (2048), sequence_stride (512), sequence_length (window size; fft_length),
        window ("hann"), sampling_rate (16000), num_mel_bins (128), min_freq (20), max_freq
        (sampling_rate / 2), power_to_db (True), top_db (80: floor at each clip's max - top_db;
        Keras takes that max over the whole batch, which makes one clip's output depend on the
        others in its batch), mag_exp (2: power), min_power (1e-10), ref_power (1).
    Input shape: `(batch, samples)`, `(samples,)` or `(batch, samples, 1)`; samples > fft_length // 2.
    Output shape: `(batch, num_mel_bins, 1 + samples // sequence_stride)`.
    """

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512, sequence_length: int | None = None,
                 window: str | None = "hann", sampling_rate: int = 16000, num_mel_bins: int = 128,
                 min_freq: float = 20.0, max_freq: float | None = None, power_to_db: bool = True,
                 top_db: float | None = 80.0, mag_exp: float = 2.0, min_power: float = 1e-10,
                 ref_power: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fft_length = require_positive_int("fft_length", fft_length, layer=self)
        self.sequence_stride = require_positive_int("sequence_stride", sequence_stride, layer=self)
        self.sequence_length = require_positive_int("sequence_length", sequence_length or fft_length, layer=self)
        if self.sequence_length > self.fft_length:
            raise ValueError(f"{type(self).__name__} '{self.name}': fft_length ({fft_length}) must be >= "
                             f"sequence_length ({sequence_length}).")
        self.sampling_rate = require_positive_int("sampling_rate", sampling_rate, layer=self)
        self.num_mel_bins = require_positive_int("num_mel_bins", num_mel_bins, layer=self)
        self.min_freq, self.max_freq = float(min_freq), float(max_freq or int(sampling_rate / 2))
        if not 0 <= self.min_freq < self.max_freq <= sampling_rate / 2:
            raise ValueError(f"{type(self).__name__} '{self.name}': need 0 <= min_freq < max_freq <= sampling_rate / 2 "
                             f"= {sampling_rate / 2:g}; got min_freq={min_freq}, max_freq={self.max_freq}.")
        self.window, self.power_to_db, self.top_db = window, bool(power_to_db), top_db
        self.mag_exp, self.min_power, self.ref_power = float(mag_exp), float(min_power), float(ref_power)
        window_tensor = window_values(window, self.sequence_length, periodic=True, dtype=torch.float32)
        self.register_buffer("window_values", window_tensor, persistent=False)
        self.register_buffer("mel_matrix", mel_filterbank(self.num_mel_bins, self.fft_length // 2 + 1, sampling_rate,
                                                          self.min_freq, self.max_freq).float(), persistent=False)

    def _power_spectrogram(self, signals: torch.Tensor) -> torch.Tensor:
        """`(batch, samples)` -> `(batch, frames, freq_bins)`."""
        if signals.shape[-1] <= self.fft_length // 2:
            raise ValueError(f"{type(self).__name__} '{self.name}': a clip of {signals.shape[-1]} samples is too short "
                             f"for fft_length={self.fft_length} (centred frames need more than {self.fft_length // 2});"
                             " pad the audio (e.g. load_wav(..., sequence_length=)) or lower fft_length.")
        window = None if self.window_values is None else self.window_values.to(signals.dtype)
        spectrum = torch.stft(signals, n_fft=self.fft_length, hop_length=self.sequence_stride,
                              win_length=self.sequence_length, window=window, center=True, pad_mode="reflect",
                              return_complex=True)
        return spectrum.abs().pow(self.mag_exp).transpose(1, 2)

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        """`(batch, frames, num_mel_bins)`: the mel spectrogram before the final transpose."""
        signals = inputs.squeeze(-1) if inputs.ndim == 3 and inputs.shape[-1] == 1 else inputs
        if signals.ndim != 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects audio (batch, samples); got shape "
                             f"{tuple(inputs.shape)}.")
        signals = signals if signals.dtype in (torch.float32, torch.float64) else signals.float()
        mel = self._power_spectrogram(signals) @ self.mel_matrix.to(signals.dtype)
        if not self.power_to_db:
            return mel
        decibels = 10.0 * torch.log10(mel.clamp_min(self.min_power)) \
            - 10.0 * math.log10(max(abs(self.ref_power), self.min_power))
        if self.top_db is not None:
            decibels = torch.maximum(decibels, decibels.amax(dim=(1, 2), keepdim=True) - self.top_db)
        return decibels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        unbatched = inputs.ndim == 1
        out = self.features(inputs[None] if unbatched else inputs).transpose(1, 2)
        return out[0] if unbatched else out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}


class MFCC(MelSpectrogram):
    """Mel-frequency cepstral coefficients: the orthonormal DCT-II of the log-mel spectrogram over
    its mel axis, first `num_mfcc` kept (librosa's and torchaudio's definition).

    Args: num_mfcc (20, at most num_mel_bins), then MelSpectrogram's (power_to_db stays True).
    Output shape: `(batch, num_mfcc, frames)`.
    """

    def __init__(self, num_mfcc: int = 20, **kwargs: Any) -> None:
        if kwargs.get("power_to_db") is False:
            raise ValueError("MFCC: the coefficients are of the log-mel spectrogram; power_to_db must stay True.")
        super().__init__(**kwargs)
        self.num_mfcc = require_positive_int("num_mfcc", num_mfcc, layer=self)
        if num_mfcc > self.num_mel_bins:
            raise ValueError(f"MFCC '{self.name}': num_mfcc ({num_mfcc}) must be <= num_mel_bins ({self.num_mel_bins}).")
        self.register_buffer("dct", dct_matrix(self.num_mel_bins, num_mfcc).float(), persistent=False)

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        """`(batch, frames, num_mfcc)`."""
        decibels = super().features(inputs)
        return decibels @ self.dct.to(decibels.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_mfcc": self.num_mfcc}
