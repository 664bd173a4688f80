"""Textbook spectral views of a clip (for plots and study figures, not for the model).

The model's input is the micro frontend (``model.features``); these are the classic
representations the study compares it with: magnitude spectrum, STFT spectrogram, mel
spectrogram and MFCC, on the same 30 ms / 20 ms framing as the frontend.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dct

from model import config

N_FFT = 512
N_MELS = 40
N_MFCC = 13


def to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 samples as float in [-1, 1)."""
    return np.asarray(pcm, dtype=np.float64) / 32768.0


def magnitude_spectrum(pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and magnitude (dBFS) of the whole clip, Hann-windowed."""
    x = to_float(pcm)
    window = np.hanning(x.size) if x.size > 1 else np.ones(1)
    spectrum = np.abs(np.fft.rfft(x * window)) / max(window.sum() / 2, 1e-12)
    freqs = np.fft.rfftfreq(x.size, 1 / config.SAMPLE_RATE)
    return freqs, 20 * np.log10(np.maximum(spectrum, 1e-10))


def power_spectrogram(pcm: np.ndarray) -> np.ndarray:
    """Power STFT, shape (frames, N_FFT // 2 + 1), with the frontend's window and step."""
    x = to_float(pcm)
    win, step = config.WINDOW_SAMPLES, config.STEP_SAMPLES
    if x.size < win:
        x = np.pad(x, (0, win - x.size))
    frames = 1 + (x.size - win) // step
    index = np.arange(win)[None, :] + step * np.arange(frames)[:, None]
    return np.abs(np.fft.rfft(x[index] * np.hanning(win), n=N_FFT)) ** 2


def mel_filterbank(n_mels: int = N_MELS) -> np.ndarray:
    """Triangular filters on the HTK mel scale between the frontend's band limits."""

    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(hz_to_mel(config.LOWER_BAND_HZ), hz_to_mel(config.UPPER_BAND_HZ), n_mels + 2))
    bins = np.fft.rfftfreq(N_FFT, 1 / config.SAMPLE_RATE)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel_spectrogram(pcm: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """Log mel energies (dB), shape (frames, n_mels)."""
    mel = power_spectrogram(pcm) @ mel_filterbank(n_mels).T
    return 10 * np.log10(np.maximum(mel, 1e-10))


def mfcc(pcm: np.ndarray, n_mfcc: int = N_MFCC) -> np.ndarray:
    """MFCCs: orthonormal DCT-II of the log mel energies, shape (frames, n_mfcc)."""
    return dct(log_mel_spectrogram(pcm), type=2, axis=1, norm="ortho")[:, :n_mfcc]
