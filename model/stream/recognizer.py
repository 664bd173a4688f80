"""RecognizeCommands on the host: the firmware's own ``firmware/recognizer/recognizer.c`` through ctypes.

One source of truth, as with the frontend (``model.features``): the host library is built from the
very file the firmware links (``make -C firmware host-recognizer``), so what the host computes of
a stream is what the firmware reports.
"""

from __future__ import annotations

import ctypes
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from model import config

#: The fields of ``struct kws_recognizer_config`` a caller may set (num_classes follows the model).
SETTINGS = ("average_window_ms", "detection_threshold", "suppression_ms", "minimum_count", "minimum_span_ms")


#: The firmware's own values of those settings (kws_config.h, through model.config).
FIRMWARE_SETTINGS = {
    "average_window_ms": config.RC_AVERAGE_WINDOW_MS,
    "detection_threshold": config.RC_DETECTION_THRESHOLD,
    "suppression_ms": config.RC_SUPPRESSION_MS,
    "minimum_count": config.RC_MINIMUM_COUNT,
}


class RecognizerConfig(ctypes.Structure):
    """``struct kws_recognizer_config`` (recognizer.h)."""

    _fields_ = [(name, ctypes.c_int32) for name in (*SETTINGS, "num_classes")]


class Recognition(ctypes.Structure):
    """``struct kws_recognition`` (recognizer.h)."""

    _fields_ = [("label", ctypes.c_int32), ("score", ctypes.c_int32), ("is_new", ctypes.c_int)]


def load_library(build: Path | None = None) -> ctypes.CDLL:
    """The recognizer built for the host into ``build`` (default: a private temporary directory, so
    that parallel callers never race on one file), with its function signatures declared."""
    build = Path(tempfile.mkdtemp(prefix="kws-recognizer-")) if build is None else Path(build)
    subprocess.run(
        ["make", "-s", "-C", str(config.FIRMWARE_DIR), "host-recognizer", f"BUILD={build}"],
        check=True,
        capture_output=True,
    )
    library = ctypes.CDLL(str(build / "host" / "libkwsrecognizer.so"))
    library.kws_recognizer_state_size.restype = ctypes.c_size_t
    library.kws_recognizer_default_config.restype = RecognizerConfig
    library.kws_recognizer_default_config.argtypes = [ctypes.c_int32]
    library.kws_recognizer_init.argtypes = [ctypes.c_void_p, ctypes.POINTER(RecognizerConfig)]
    library.kws_recognizer_process.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int8),
        ctypes.c_int32,
        ctypes.POINTER(Recognition),
    ]
    return library


class Recognizer:
    """One RecognizeCommands state with the firmware's default configuration for ``classes`` classes;
    ``settings`` replaces fields of it (``detection_threshold``, ``average_window_ms``, ...), as a
    DET curve or a search over the recognizer's settings does."""

    def __init__(
        self, library: ctypes.CDLL, classes: int = len(config.LABELS), settings: dict[str, int] | None = None
    ) -> None:
        self.library = library
        self.classes = classes
        self.state = ctypes.create_string_buffer(library.kws_recognizer_state_size())
        cfg = library.kws_recognizer_default_config(classes)
        for field, value in (settings or {}).items():
            if field not in SETTINGS:
                raise ValueError(f"unknown recognizer setting {field!r} (known: {', '.join(SETTINGS)})")
            setattr(cfg, field, value)
        if library.kws_recognizer_init(self.state, ctypes.byref(cfg)) != 0:
            raise ValueError(f"kws_recognizer_init refused the configuration {settings or 'default'}")

    def process(self, scores: Sequence[int], time_ms: int) -> tuple[int, int, bool]:
        """(label, score, is_new) after the int8 ``scores`` of one inference at ``time_ms``."""
        row = (ctypes.c_int8 * self.classes)(*scores)
        out = Recognition()
        status = self.library.kws_recognizer_process(self.state, row, time_ms, ctypes.byref(out))
        if status != 0:
            raise ValueError(f"kws_recognizer_process returned {status}")
        return out.label, out.score, bool(out.is_new)
