"""ember's audio layers against Keras 3's on the same clips (run in the Keras environment:
`bash benchmarks/setup_keras.sh`, then `benchmarks/.venv-keras/bin/python benchmarks/keras_audio_check.py`).

Prints the largest relative difference of MelSpectrogram (in dB and as power) and of
STFTSpectrogram (magnitude and log), each on one clip at a time (Keras floors `top_db` over the
whole batch, ember per clip, so batches of one compare like for like).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ember import layers  # noqa: E402


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours - theirs)) / max(float(np.max(np.abs(theirs))), 1e-12))


def main() -> dict[str, float]:
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 8000
    clips = [np.sin(2 * np.pi * 440 * t) + 0.1 * rng.normal(size=8000), 0.05 * rng.normal(size=8000)]
    results = {}
    mel_settings = [("mel_db", dict(fft_length=256, sequence_stride=128, sampling_rate=8000, num_mel_bins=40)),
                    ("mel_power", dict(fft_length=512, sequence_stride=160, sampling_rate=8000, num_mel_bins=64,
                                       power_to_db=False))]
    for name, settings in mel_settings:
        worst = 0.0
        for clip in clips:
            batch = clip[None].astype("float32")
            theirs = np.asarray(keras.layers.MelSpectrogram(**settings)(batch))
            ours = layers.MelSpectrogram(**settings)(torch.tensor(batch)).numpy()
            worst = max(worst, relative_difference(ours, theirs))
        results[name] = worst
    for mode in ("magnitude", "log"):
        settings = dict(mode=mode, frame_length=256, frame_step=128, fft_length=512)
        batch = np.stack(clips)[..., None].astype("float32")
        theirs = np.asarray(keras.layers.STFTSpectrogram(**settings)(batch))
        ours = layers.STFTSpectrogram(**settings)(torch.tensor(batch)).detach().numpy()
        results[f"stft_{mode}"] = relative_difference(ours, theirs)
    return results


if __name__ == "__main__":
    print(f"keras {keras.__version__} ({keras.backend.backend()} backend)")
    for name, value in main().items():
        print(f"{name:14s} max relative difference {value:.2e}")
