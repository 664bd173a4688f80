"""The C micro frontend against TensorFlow's audio_microfrontend op, element by element.

The corpus is seeded and covers the arithmetic's corners: digital silence, clipping and
saturation (where the int16 FFT wraps), 1-4 LSB signals, DC offsets, clips shorter than a
window, long clips, tones, chirps, noise at many levels, impulses and speech-like sounds.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from model import config
from model.data.audio import write_wav
from model.data.features import FeatureCache, StreamingFrontend, microfrontend, num_frames
from model.errors import BadInput

RATE = config.SAMPLE_RATE
N = config.CLIP_SAMPLES


def _clip(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _t(n: int = N) -> np.ndarray:
    return np.arange(n) / RATE


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n)
    peak = np.max(np.abs(pink), initial=0)
    return pink / peak if peak else pink


def _speech_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Voiced harmonics with a wandering pitch and formant-ish AM, noise bursts, pauses."""
    t = _t(n)
    f0 = rng.uniform(90, 260) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 5) * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voiced = sum(np.sin(k * phase) / k * (1 + np.sin(2 * np.pi * rng.uniform(2, 8) * t + k)) for k in range(1, 25))
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(1, 4) * t + rng.uniform(0, 6)), 0, None) ** 2
    bursts = rng.standard_normal(n) * (rng.random(n // 800 + 1).repeat(800)[:n] > 0.7)
    signal = voiced * envelope + 0.5 * bursts
    peak = np.max(np.abs(signal), initial=0)
    return signal / peak if peak else signal


def corpus() -> Iterator[tuple[str, np.ndarray]]:
    """(name, clip) pairs; about 420 clips, deterministic."""
    rng = np.random.default_rng(20240611)
    t = _t()

    for n in (N, 480, 5000, 3 * N):
        yield f"zeros {n}", np.zeros(n, np.int16)

    # Clipping and saturation.
    for freq in (50, 125, 440, 1000, 3000, 7999):
        square = np.where(np.sin(2 * np.pi * freq * t) >= 0, 32767, -32768)
        yield f"square {freq} Hz", square.astype(np.int16)
        yield f"square {freq} Hz +-32767", (square.clip(-32767) * 1).astype(np.int16)
    for gain in (1.5, 4, 50, 1e4):
        yield f"saturated noise x{gain}", _clip(rng.standard_normal(N) * 32767 * gain)
    yield "uniform full scale", rng.integers(-32768, 32768, N, dtype=np.int16)
    yield "sign noise", np.where(rng.random(N) < 0.5, -32768, 32767).astype(np.int16)
    yield "const -32768", np.full(N, -32768, np.int16)
    yield "const 32767", np.full(N, 32767, np.int16)
    yield "alternating extremes", np.tile(np.array([-32768, 32767], np.int16), N // 2)
    yield "alternating -32768 pairs", np.tile(np.array([-32768, -32768, 32767, 32767], np.int16), N // 4)
    for i in range(12):
        levels = rng.choice(np.array([-32768, -32767, 0, 32767], np.int16), size=N)
        yield f"extreme levels {i}", levels
    for freq in (200, 1000, 4000):
        yield f"clipped sine {freq} Hz", _clip(3 * 32767 * np.sin(2 * np.pi * freq * t))

    # Very quiet.
    for amp in (1, 2, 3, 4):
        yield f"noise {amp} LSB", rng.integers(-amp, amp + 1, N).astype(np.int16)
        yield f"sine {amp} LSB", _clip(amp * np.sin(2 * np.pi * 1000 * t))
        yield f"positive noise {amp} LSB", rng.integers(0, amp + 1, N).astype(np.int16)
    yield "single LSB", np.eye(1, N, 8000, dtype=np.int16)[0]
    yield "const 1", np.ones(N, np.int16)
    yield "const -1", np.full(N, -1, np.int16)

    # DC offsets, with and without signal.
    for dc in (-20000, -1000, -3, 3, 1000, 20000):
        yield f"dc {dc}", np.full(N, dc, np.int16)
        yield f"dc {dc} + sine", _clip(dc + 5000 * np.sin(2 * np.pi * 700 * t))
        yield f"dc {dc} + noise", _clip(dc + 2000 * rng.standard_normal(N))
    yield "dc step", np.where(t < 0.5, -12000, 12000).astype(np.int16)

    # Short clips (fewer than 480 samples give no frame) and long ones.
    for n in (0, 1, 100, 479, 480, 481, 799, 800, 801, 1119, 1120, 5000, 15999, 16001):
        yield f"noise {n} samples", _clip(3000 * rng.standard_normal(n))
    for seconds in (2, 5, 10):
        n = seconds * RATE
        yield f"speech-like {seconds} s", _clip(20000 * _speech_like(rng, n))
        yield f"noise {seconds} s", _clip(8000 * rng.standard_normal(n))

    # Tones.
    for freq in np.geomspace(20, 7990, 48):
        amp = rng.uniform(100, 32767)
        yield f"sine {freq:.1f} Hz", _clip(amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)))
    for freq in (125, 1000, 7500, 8000):
        yield f"cosine {freq} Hz full", _clip(32767 * np.cos(2 * np.pi * freq * t))
    for i in range(10):
        freqs = rng.uniform(50, 7900, 3)
        tones = sum(np.sin(2 * np.pi * f * t) for f in freqs) / 3
        yield f"three tones {i}", _clip(rng.uniform(500, 32767) * tones)

    # Chirps.
    for f0, f1 in ((20, 8000), (8000, 20), (100, 4000), (3000, 3500)):
        for amp in (300, 10000, 32767):
            linear = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / 2))
            yield f"linear chirp {f0}-{f1} x{amp}", _clip(amp * linear)
            k = (f1 / f0) ** (1 / t[-1])
            log = np.sin(2 * np.pi * f0 * (k**t - 1) / np.log(k))
            yield f"log chirp {f0}-{f1} x{amp}", _clip(amp * log)

    # Noise at many levels.
    for level in np.geomspace(5, 40000, 24):
        yield f"white noise {level:.0f}", _clip(level * rng.standard_normal(N))
        yield f"pink noise {level:.0f}", _clip(level * _pink(rng, N))
    for i in range(8):
        envelope = np.abs(np.sin(2 * np.pi * rng.uniform(0.5, 6) * t)) ** rng.uniform(1, 6)
        yield f"modulated noise {i}", _clip(rng.uniform(100, 30000) * envelope * rng.standard_normal(N))

    # Impulses.
    for pos in (0, 1, 239, 240, 479, 480, 8000, 15999):
        for amp in (32767, -32768, 1000):
            x = np.zeros(N, np.int16)
            x[pos] = amp
            yield f"impulse {amp} at {pos}", x
    for period in (10, 160, 320, 333, 1000):
        x = np.zeros(N, np.int16)
        x[::period] = 30000
        yield f"impulse train {period}", x
    yield "random impulses", _clip((rng.random(N) < 0.01) * rng.uniform(-32768, 32767, N))

    # Speech-like AM/FM.
    for i in range(40):
        level = rng.choice([200, 2000, 10000, 32767, 60000])
        yield f"speech-like {i} x{level}", _clip(level * _speech_like(rng, N))
    for i in range(12):
        carrier = rng.uniform(200, 4000)
        modulator = rng.uniform(2, 40)
        fm = np.sin(2 * np.pi * carrier * t + rng.uniform(1, 50) * np.sin(2 * np.pi * modulator * t))
        am = 0.5 * (1 + np.sin(2 * np.pi * rng.uniform(1, 10) * t))
        yield f"am-fm {i}", _clip(rng.uniform(1000, 32767) * am * fm)

    # Mixtures: speech-like over noise with an offset, and arbitrary random signals.
    for i in range(30):
        mix = rng.uniform(0, 20000) * _speech_like(rng, N) + rng.uniform(0, 5000) * rng.standard_normal(N)
        yield f"mix {i}", _clip(mix + rng.uniform(-3000, 3000))
    for i in range(20):
        n = int(rng.integers(0, 3 * N))
        yield (
            f"random {i} ({n} samples)",
            (rng.integers(-32768, 32768, n, dtype=np.int16) >> int(rng.integers(0, 15))).astype(np.int16),
        )


CORPUS = list(corpus())


def test_corpus_is_large_and_covers_the_cases() -> None:
    assert len(CORPUS) >= 300
    names = " ".join(name for name, _ in CORPUS)
    for kind in ("zeros", "square", "LSB", "dc", "samples", "chirp", "pink", "impulse", "speech-like", "10 s"):
        assert kind in names


def test_bit_exact_with_tensorflow() -> None:
    pytest.importorskip("tensorflow")
    from model.data.tf_frontend import tf_microfrontend

    for name, pcm in CORPUS:
        ours = microfrontend(pcm)
        ref = tf_microfrontend(pcm)
        assert ours.dtype == np.uint16
        assert ours.shape == ref.shape == (num_frames(pcm.size), config.NUM_CHANNELS), name
        diff = np.argwhere(ours != ref)
        if diff.size:
            frame, channel = diff[0]
            pytest.fail(
                f"{name}: {len(diff)} of {ref.size} values differ; first at frame {frame} channel {channel}: "
                f"ours {ours[frame, channel]}, TensorFlow {ref[frame, channel]}"
            )


def test_one_second_gives_49_frames() -> None:
    assert microfrontend(np.zeros(N, np.int16)).shape == (config.NUM_FRAMES, config.NUM_CHANNELS) == (49, 40)
    assert microfrontend(np.zeros(479, np.int16)).shape == (0, 40)


@pytest.mark.parametrize("seed", range(6))
def test_streaming_in_random_chunks_matches_whole_clip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    name, pcm = CORPUS[int(rng.integers(len(CORPUS)))]
    pcm = np.concatenate([pcm, _clip(10000 * _speech_like(rng, N))])
    sizes = [1, 7, 320, 333, 480, 479, 2, 1000]
    stream = StreamingFrontend()
    frames, pos, i = [], 0, 0
    while pos < pcm.size:
        size = sizes[i] if i < len(sizes) else int(rng.integers(1, 700))
        frames.append(stream.feed(pcm[pos : pos + size]))
        pos += size
        i += 1
    np.testing.assert_array_equal(np.concatenate(frames), microfrontend(pcm), err_msg=name)


def test_streaming_20ms_blocks_give_one_frame_each_after_the_first_window() -> None:
    pcm = _clip(8000 * _speech_like(np.random.default_rng(1), N))
    stream = StreamingFrontend()
    counts = [len(stream.feed(block)) for block in pcm.reshape(-1, config.STEP_SAMPLES)]
    assert counts[0] == 0 and all(c == 1 for c in counts[2:]) and sum(counts) == 49


def test_cache_returns_identical_features_and_follows_content(tmp_path, monkeypatch) -> None:
    cache = FeatureCache(tmp_path / "cache")
    pcm = _clip(5000 * _speech_like(np.random.default_rng(2), N))
    first = cache.get(pcm)
    np.testing.assert_array_equal(first, microfrontend(pcm))
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 1

    import model.data.features

    def fail(_: np.ndarray) -> np.ndarray:
        raise AssertionError("cache miss")

    monkeypatch.setattr(model.data.features, "microfrontend", fail)
    np.testing.assert_array_equal(cache.get(pcm), first)
    write_wav(tmp_path / "clip.wav", pcm)
    np.testing.assert_array_equal(cache.get(tmp_path / "clip.wav"), first)
    monkeypatch.undo()

    changed = pcm.copy()
    changed[1234] ^= 1
    assert cache.path_for(changed) != cache.path_for(pcm)
    np.testing.assert_array_equal(cache.get(changed), microfrontend(changed))
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2


def test_cache_key_follows_frontend_sources(monkeypatch) -> None:
    import model.data.features

    pcm = np.zeros(N, np.int16)
    cache = FeatureCache("unused")
    before = cache.key(pcm)
    monkeypatch.setattr(model.data.features, "frontend_fingerprint", lambda: "another frontend")
    assert cache.key(pcm) != before


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (np.zeros(N, np.float32), TypeError),
        (np.zeros(N, np.int32), TypeError),
        ([0] * N, TypeError),
        (np.zeros((2, N), np.int16), BadInput),
        (np.zeros((), np.int16), BadInput),
    ],
)
def test_bad_input(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        microfrontend(bad)  # type: ignore[arg-type]
    with pytest.raises(error):
        StreamingFrontend().feed(bad)  # type: ignore[arg-type]


def test_failed_build_is_reported(monkeypatch, tmp_path) -> None:
    import model.data.features

    monkeypatch.setattr(model.data.features, "LIBRARY", tmp_path / "host" / "libkwsfrontend.so")
    monkeypatch.setattr(model.data.features.config, "FIRMWARE_DIR", tmp_path)  # no Makefile there
    with pytest.raises(RuntimeError, match="make -C firmware host-frontend"):
        model.data.features._build()
