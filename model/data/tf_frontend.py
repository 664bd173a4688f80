"""TensorFlow's ``audio_microfrontend`` op with the micro_speech parameters: the golden reference.

Tests and benchmarks compare :func:`model.features.microfrontend` against it. TensorFlow is
imported on first use only (it takes seconds), so importing this module stays cheap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from model import config
from model.data.features import check_pcm


@functools.cache
def _op() -> Callable[..., Any]:
    import tensorflow as tf
    from tensorflow.lite.experimental.microfrontend.python.ops import audio_microfrontend_op

    def run(pcm: np.ndarray) -> Any:
        return audio_microfrontend_op.audio_microfrontend(
            tf.constant(pcm, dtype=tf.int16),
            sample_rate=config.SAMPLE_RATE,
            window_size=config.WINDOW_MS,
            window_step=config.STEP_MS,
            num_channels=config.NUM_CHANNELS,
            upper_band_limit=float(config.UPPER_BAND_HZ),
            lower_band_limit=float(config.LOWER_BAND_HZ),
            smoothing_bits=config.NR_SMOOTHING_BITS,
            even_smoothing=config.NR_EVEN_SMOOTHING,
            odd_smoothing=config.NR_ODD_SMOOTHING,
            min_signal_remaining=config.NR_MIN_SIGNAL_REMAINING,
            enable_pcan=config.PCAN_ENABLE,
            pcan_strength=config.PCAN_STRENGTH,
            pcan_offset=config.PCAN_OFFSET,
            gain_bits=config.PCAN_GAIN_BITS,
            enable_log=config.LOG_ENABLE,
            scale_shift=config.LOG_SCALE_SHIFT,
            out_scale=1,
            out_type=tf.uint16,
        )

    return run


def load() -> None:
    """Import TensorFlow and build the op now, e.g. to keep that out of a timed region."""
    _op()


def tf_microfrontend(pcm: np.ndarray) -> np.ndarray:
    """Features of 1-D int16 16 kHz ``pcm`` computed by TensorFlow: uint16, shape (frames, channels)."""
    pcm = check_pcm(pcm)
    return np.asarray(_op()(pcm).numpy(), dtype=np.uint16).reshape(-1, config.NUM_CHANNELS)
