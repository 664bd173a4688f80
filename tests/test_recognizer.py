"""RecognizeCommands in C (firmware/recognizer) against a Python model of the micro_speech rules.

The model below is written from the specification (kws-reference.md): average each class's
int8 score + 128 over a 1000 ms window; with at least 3 results spanning at least 250 ms, report
when the top average exceeds 200 and the label changed or more than 1500 ms passed since the last
report. The C library is the host build of the very file the firmware links.
"""

from __future__ import annotations

import ctypes
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from model import config
from model.stream.recognizer import Recognizer, load_library

HEADER = config._read_header(config.CONFIG_HEADER)
WINDOW_MS = HEADER["RC_AVERAGE_WINDOW_MS"]
THRESHOLD = HEADER["RC_DETECTION_THRESHOLD"]
SUPPRESSION_MS = HEADER["RC_SUPPRESSION_MS"]
MINIMUM_COUNT = HEADER["RC_MINIMUM_COUNT"]
MINIMUM_SPAN_MS = HEADER["RC_MINIMUM_SPAN_MS"]
MAX_RESULTS = HEADER["RC_MAX_RESULTS"]
CLASSES = 4
SILENCE, UNKNOWN, YES, NO = range(CLASSES)


@dataclass
class SpecRecognizer:
    """The rules, plainly: a queue of (time, scores), pruned to the window."""

    classes: int
    queue: deque[tuple[int, tuple[int, ...]]] = field(default_factory=deque)
    previous_label: int = SILENCE
    previous_time: int | None = None

    def process(self, scores: Sequence[int], time_ms: int) -> tuple[int, int, bool]:
        if len(self.queue) == MAX_RESULTS:
            self.queue.popleft()
        self.queue.append((time_ms, tuple(scores)))
        while self.queue and self.queue[0][0] < time_ms - WINDOW_MS:
            self.queue.popleft()
        if len(self.queue) < MINIMUM_COUNT or time_ms - self.queue[0][0] < MINIMUM_SPAN_MS:
            return self.previous_label, 0, False
        averages = [sum(s[c] + 128 for _, s in self.queue) // len(self.queue) for c in range(self.classes)]
        top = max(range(self.classes), key=lambda c: (averages[c], -c))
        recent = self.previous_time is not None and time_ms - self.previous_time <= SUPPRESSION_MS
        new = averages[top] > THRESHOLD and (top != self.previous_label or not recent)
        if new:
            self.previous_label, self.previous_time = top, time_ms
        return top, averages[top], new


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    return load_library(tmp_path_factory.mktemp("rc-build"))


def scores_for(label: int, level: int, rest: int = -128) -> list[int]:
    """int8 scores: ``label`` at ``level`` (0-255 scale), the others at ``rest`` (int8)."""
    scores = [rest] * CLASSES
    scores[label] = level - 128
    return scores


def feed(rec: Recognizer, items: Iterator[tuple[Sequence[int], int]]) -> list[tuple[int, int, bool]]:
    return [rec.process(s, t) for s, t in items]


def test_defaults_match_micro_speech() -> None:
    assert (WINDOW_MS, THRESHOLD, SUPPRESSION_MS, MINIMUM_COUNT, MINIMUM_SPAN_MS) == (1000, 200, 1500, 3, 250)


def test_config_out_of_range_is_refused(lib: ctypes.CDLL) -> None:
    state = ctypes.create_string_buffer(lib.kws_recognizer_state_size())
    for classes in (0, HEADER["RC_MAX_CLASSES"] + 1):
        cfg = lib.kws_recognizer_default_config(classes)
        assert lib.kws_recognizer_init(state, ctypes.byref(cfg)) == -1


@pytest.mark.parametrize("seed", range(12))
def test_random_streams_match_the_spec(lib: ctypes.CDLL, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c_rec, spec = Recognizer(lib), SpecRecognizer(CLASSES)
    time_ms = 0
    label = int(rng.integers(CLASSES))
    for _ in range(600):
        if rng.random() < 0.03:
            label = int(rng.integers(CLASSES))
        scores = rng.integers(-128, 128, CLASSES)
        scores[label] = rng.integers(40, 128)  # often a clear winner, sometimes not
        # Mostly the 20 ms stride, sometimes repeats, stalls (a long inference) or gaps.
        time_ms += int(rng.choice([20, 20, 20, 0, 40, 140, 700, 2000], p=[0.5, 0.2, 0.1, 0.05, 0.05, 0.05, 0.03, 0.02]))
        assert c_rec.process(scores.tolist(), time_ms) == spec.process(scores.tolist(), time_ms)


def test_threshold_is_strict(lib: ctypes.CDLL) -> None:
    at = feed(Recognizer(lib), ((scores_for(YES, THRESHOLD), t) for t in range(0, 1000, 20)))
    assert not any(new for _, _, new in at)
    above = feed(Recognizer(lib), ((scores_for(YES, THRESHOLD + 1), t) for t in range(0, 1000, 20)))
    assert [r for r in above if r[2]] == [(YES, THRESHOLD + 1, True)]


def test_needs_minimum_count_and_span(lib: ctypes.CDLL) -> None:
    rec = Recognizer(lib)
    # Two results are too few, however long they span; the third is enough.
    assert rec.process(scores_for(YES, 255), 0) == (SILENCE, 0, False)
    assert rec.process(scores_for(YES, 255), 600) == (SILENCE, 0, False)
    assert rec.process(scores_for(YES, 255), 700) == (YES, 255, True)
    # Many results within less than 250 ms are not enough either.
    rec = Recognizer(lib)
    results = feed(rec, ((scores_for(NO, 255), t) for t in range(0, MINIMUM_SPAN_MS, 10)))
    assert all(r == (SILENCE, 0, False) for r in results)
    assert rec.process(scores_for(NO, 255), MINIMUM_SPAN_MS) == (NO, 255, True)


def test_suppression_and_label_change(lib: ctypes.CDLL) -> None:
    rec = Recognizer(lib)
    yes = [(t, *rec.process(scores_for(YES, 255), t)) for t in range(0, 4000, 20)]
    reported = [t for t, _, _, new in yes if new]
    # First once three results span 250 ms; then again only after more than 1500 ms.
    assert reported == [260, 1780, 3300]
    # A different label is reported as soon as its average wins, suppression or not.
    no = [(t, *rec.process(scores_for(NO, 255), t)) for t in range(4000, 5000, 20)]
    first_no = next(t for t, _, _, new in no if new)
    assert first_no - 3300 <= SUPPRESSION_MS  # a repeated "yes" here would have been suppressed
    assert next(label for _, label, _, new in no if new) == NO


def test_results_older_than_the_window_are_dropped(lib: ctypes.CDLL) -> None:
    rec = Recognizer(lib)
    for t in range(0, 400, 20):
        rec.process(scores_for(YES, 255), t)
    quiet = [rec.process(scores_for(SILENCE, 128), t)[:2] for t in range(1000, 1420, 20)]
    # At 1380 ms the "yes" result of 380 ms is exactly 1000 ms old and still averaged in
    # (20 quiet results of 128 and one loud of 0 for silence) ...
    assert quiet[-2] == (SILENCE, 20 * 128 // 21)
    # ... at 1400 ms it is gone.
    assert quiet[-1] == (SILENCE, 128)


def test_time_going_backwards_is_an_error(lib: ctypes.CDLL) -> None:
    rec = Recognizer(lib)
    rec.process(scores_for(YES, 255), 100)
    with pytest.raises(ValueError):
        rec.process(scores_for(YES, 255), 99)


def test_full_queue_drops_the_oldest(lib: ctypes.CDLL) -> None:
    c_rec, spec = Recognizer(lib), SpecRecognizer(CLASSES)
    # More results than the queue holds, all inside one window (several per millisecond).
    for i in range(3 * MAX_RESULTS):
        scores = scores_for(YES if i < MAX_RESULTS else NO, 255)
        t = 250 + i // 4
        assert c_rec.process(scores, t) == spec.process(scores, t)
