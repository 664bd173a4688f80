"""Project constants.

Numbers shared with the firmware live in ``firmware/include/kws_config.h`` and are read
from there, so C and Python cannot drift apart. Python-only settings follow below.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE_DIR = ROOT / "firmware"
BUILD_DIR = ROOT / "build"
CONFIG_HEADER = FIRMWARE_DIR / "include" / "kws_config.h"


def _read_header(path: Path) -> dict[str, int]:
    pattern = re.compile(r"^#define\s+KWS_([A-Z0-9_]+)\s+(-?\d+)\s*$")
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        match = pattern.match(line)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


_C = _read_header(CONFIG_HEADER)

SAMPLE_RATE: int = _C["SAMPLE_RATE_HZ"]
CLIP_MS: int = _C["CLIP_MS"]
CLIP_SAMPLES: int = SAMPLE_RATE * CLIP_MS // 1000
WINDOW_MS: int = _C["WINDOW_MS"]
STEP_MS: int = _C["STEP_MS"]
NUM_CHANNELS: int = _C["NUM_CHANNELS"]
LOWER_BAND_HZ: int = _C["LOWER_BAND_HZ"]
UPPER_BAND_HZ: int = _C["UPPER_BAND_HZ"]
NR_SMOOTHING_BITS: int = _C["NR_SMOOTHING_BITS"]
NR_EVEN_SMOOTHING: float = _C["NR_EVEN_SMOOTHING_MILLI"] / 1000
NR_ODD_SMOOTHING: float = _C["NR_ODD_SMOOTHING_MILLI"] / 1000
NR_MIN_SIGNAL_REMAINING: float = _C["NR_MIN_SIGNAL_REMAINING_MILLI"] / 1000
PCAN_ENABLE: bool = bool(_C["PCAN_ENABLE"])
PCAN_STRENGTH: float = _C["PCAN_STRENGTH_CENTI"] / 100
PCAN_OFFSET: float = _C["PCAN_OFFSET_CENTI"] / 100
PCAN_GAIN_BITS: int = _C["PCAN_GAIN_BITS"]
LOG_ENABLE: bool = bool(_C["LOG_ENABLE"])
LOG_SCALE_SHIFT: int = _C["LOG_SCALE_SHIFT"]
CPU_HZ: int = _C["CPU_HZ"]
FLASH_BYTES: int = _C["FLASH_BYTES"]
RAM_BYTES: int = _C["RAM_BYTES"]
UART_BAUD: int = _C["UART_BAUD"]
RC_DETECTION_THRESHOLD: int = _C["RC_DETECTION_THRESHOLD"]
RC_AVERAGE_WINDOW_MS: int = _C["RC_AVERAGE_WINDOW_MS"]
RC_SUPPRESSION_MS: int = _C["RC_SUPPRESSION_MS"]
RC_MINIMUM_COUNT: int = _C["RC_MINIMUM_COUNT"]

WINDOW_SAMPLES: int = SAMPLE_RATE * WINDOW_MS // 1000
STEP_SAMPLES: int = SAMPLE_RATE * STEP_MS // 1000
#: Frames of a full clip: 49 for 1 s with a 30 ms window and 20 ms step.
NUM_FRAMES: int = 1 + (CLIP_SAMPLES - WINDOW_SAMPLES) // STEP_SAMPLES

# Python-only settings.
SILENCE_LABEL = "_silence_"
UNKNOWN_LABEL = "_unknown_"
WANTED_WORDS: tuple[str, ...] = ("yes", "no")
#: Model output order: silence, unknown, then the wanted words.
LABELS: tuple[str, ...] = ("silence", "unknown", *WANTED_WORDS)
BACKGROUND_NOISE_DIR = "_background_noise_"
SPEECH_COMMANDS_URL = "https://storage.googleapis.com/download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
