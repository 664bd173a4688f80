"""Audio features: the project's C micro frontend (firmware/frontend) loaded through ctypes.

:func:`microfrontend` is contract 3: 1-D int16 16 kHz samples in, uint16 (frames, 40) out,
identical to TensorFlow's ``audio_microfrontend`` op with the micro_speech parameters. The
shared library is a build artifact of ``firmware/Makefile``; it is (re)built with
``make -C firmware host-frontend`` whenever it is missing or older than a source it is built
from. :class:`FeatureCache` keeps computed features on disk.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import hashlib
import io
import subprocess
import threading
from pathlib import Path

import numpy as np

from model import config
from model.atomic import atomic_write_bytes
from model.data.audio import read_wav
from model.errors import BadInput

LIBRARY = config.BUILD_DIR / "host" / "libkwsfrontend.so"
FRONTEND_SOURCES = config.FIRMWARE_DIR / "frontend"

_build_lock = threading.Lock()


def frontend_sources() -> list[Path]:
    """Every file the shared library is built from, in a stable order."""
    files = [p for p in FRONTEND_SOURCES.rglob("*") if p.suffix in {".c", ".h"}]
    return sorted([*files, config.CONFIG_HEADER, config.FIRMWARE_DIR / "Makefile"])


def _is_stale() -> bool:
    if not LIBRARY.exists():
        return True
    built = LIBRARY.stat().st_mtime
    return any(src.stat().st_mtime > built for src in frontend_sources())


def _build() -> None:
    """Run make under a file lock, so parallel processes do not build over each other."""
    LIBRARY.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock, open(config.BUILD_DIR / ".frontend-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_stale():
            return
        result = subprocess.run(
            ["make", "-s", "-C", str(config.FIRMWARE_DIR), "host-frontend"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not LIBRARY.exists():
            detail = (result.stderr or result.stdout).strip()
            raise RuntimeError(f"building the C frontend failed (make -C firmware host-frontend):\n{detail}")


@functools.cache
def _library() -> ctypes.CDLL:
    if _is_stale():
        _build()
    lib = ctypes.CDLL(str(LIBRARY))
    lib.kws_frontend_state_size.restype = ctypes.c_size_t
    lib.kws_frontend_state_size.argtypes = []
    lib.kws_frontend_init.restype = None
    lib.kws_frontend_init.argtypes = [ctypes.c_void_p]
    lib.kws_frontend_process.restype = ctypes.c_int
    lib.kws_frontend_process.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_void_p,
    ]
    lib.kws_frontend_run.restype = ctypes.c_size_t
    lib.kws_frontend_run.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_void_p,
        ctypes.c_size_t,
    ]
    return lib


def check_pcm(pcm: np.ndarray) -> np.ndarray:
    """Return ``pcm`` as a contiguous 1-D int16 array; TypeError/BadInput for anything else."""
    if not isinstance(pcm, np.ndarray):
        raise TypeError(f"expected a numpy int16 array, got {type(pcm).__name__}")
    if pcm.dtype != np.int16:
        raise TypeError(f"expected int16 samples, got dtype {pcm.dtype}")
    if pcm.ndim != 1:
        raise BadInput(None, f"expected 1-D mono samples, got an array of shape {pcm.shape}")
    return np.ascontiguousarray(pcm)


def num_frames(num_samples: int) -> int:
    """Frames the frontend produces for ``num_samples`` samples (0 below one window)."""
    if num_samples < config.WINDOW_SAMPLES:
        return 0
    return 1 + (num_samples - config.WINDOW_SAMPLES) // config.STEP_SAMPLES


class _State:
    """A ``struct kws_frontend`` allocated opaquely (its size comes from the library)."""

    def __init__(self) -> None:
        self.lib = _library()
        self.buffer = ctypes.create_string_buffer(self.lib.kws_frontend_state_size())


_local = threading.local()


def microfrontend(pcm: np.ndarray) -> np.ndarray:
    """Features of 1-D int16 16 kHz ``pcm``: uint16, shape (frames, 40); 49 frames for one second."""
    pcm = check_pcm(pcm)
    state = getattr(_local, "state", None)
    if state is None:
        state = _local.state = _State()
    frames = num_frames(pcm.size)
    out = np.empty((frames, config.NUM_CHANNELS), dtype=np.uint16)
    produced = state.lib.kws_frontend_run(state.buffer, pcm.ctypes.data, pcm.size, out.ctypes.data, frames)
    if produced != frames:
        raise RuntimeError(f"C frontend produced {produced} frames for {pcm.size} samples, expected {frames}")
    return out


class StreamingFrontend:
    """The firmware's streaming API (``kws_frontend_process``): feed blocks of any size."""

    def __init__(self) -> None:
        self._state = _State()
        self._state.lib.kws_frontend_init(self._state.buffer)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Consume ``samples``; return the frames they completed, shape (n, 40)."""
        samples = check_pcm(samples)
        frames: list[np.ndarray] = []
        consumed = ctypes.c_size_t()
        offset = 0
        while offset < samples.size:
            out = np.empty(config.NUM_CHANNELS, dtype=np.uint16)
            produced = self._state.lib.kws_frontend_process(
                self._state.buffer,
                samples.ctypes.data + 2 * offset,
                samples.size - offset,
                ctypes.byref(consumed),
                out.ctypes.data,
            )
            offset += consumed.value
            if produced:
                frames.append(out)
        if not frames:
            return np.empty((0, config.NUM_CHANNELS), dtype=np.uint16)
        return np.stack(frames)


@functools.cache
def frontend_fingerprint() -> str:
    """Hash of the frontend's parameters and of every source file the library is built from."""
    digest = hashlib.sha256()
    params = (
        config.SAMPLE_RATE,
        config.WINDOW_MS,
        config.STEP_MS,
        config.NUM_CHANNELS,
        config.LOWER_BAND_HZ,
        config.UPPER_BAND_HZ,
        config.NR_SMOOTHING_BITS,
        config.NR_EVEN_SMOOTHING,
        config.NR_ODD_SMOOTHING,
        config.NR_MIN_SIGNAL_REMAINING,
        config.PCAN_ENABLE,
        config.PCAN_STRENGTH,
        config.PCAN_OFFSET,
        config.PCAN_GAIN_BITS,
        config.LOG_ENABLE,
        config.LOG_SCALE_SHIFT,
    )
    digest.update(repr(params).encode())
    for path in frontend_sources():
        digest.update(str(path.relative_to(config.ROOT)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class FeatureCache:
    """Features cached on disk as .npy, keyed by frontend fingerprint + the audio's bytes.

    Changing the audio, a frontend parameter or any frontend source gives a new key, so stale
    entries are never read (they are simply left behind). Entries are written atomically, so
    concurrent workers can share a directory.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def key(self, pcm: np.ndarray) -> str:
        pcm = check_pcm(pcm)
        digest = hashlib.sha256(frontend_fingerprint().encode())
        digest.update(pcm.astype("<i2", copy=False).tobytes())
        return digest.hexdigest()

    def path_for(self, pcm: np.ndarray) -> Path:
        key = self.key(pcm)
        return self.directory / key[:2] / f"{key}.npy"

    def get(self, pcm_or_path: np.ndarray | str | Path) -> np.ndarray:
        """Features of an int16 array or of a WAV file, computed once and then read from disk."""
        pcm = pcm_or_path if isinstance(pcm_or_path, np.ndarray) else read_wav(pcm_or_path)
        path = self.path_for(pcm)
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            pass  # missing or unreadable: (re)compute below
        features = microfrontend(pcm)
        buffer = io.BytesIO()
        np.save(buffer, features, allow_pickle=False)
        atomic_write_bytes(path, buffer.getvalue())
        return features
