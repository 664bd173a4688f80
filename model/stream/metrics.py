"""Detection measured against what was planted (streams.json).

A planted word's *window* runs from the start of its speech to ``tolerance_ms`` after its end, and
never into the next word's speech. For a planted keyword: a *hit* is a detection of its label in
its window (latency: the first such detection's time minus the end of its speech); a *wrong
label* is a detection of another keyword in its window. A planted other word is *accepted* when a
keyword is detected in its window. Keyword detections outside every window are *stray*. On a
keyword-free stream every keyword detection is a false accept. Only keywords count as detections:
silence and unknown lines say nothing was heard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model import config
from model.stream.engine import Heard
from model.stream.plant import StreamSpec


@dataclass
class Tally:
    """Counts over one or more keyword streams."""

    planted: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    wrong: int = 0
    others: int = 0
    others_accepted: int = 0
    stray: int = 0
    latencies_ms: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        keywords = sum(self.planted.values())
        lat = np.array(self.latencies_ms, dtype=np.float64)
        return {
            "keywords": dict(self.planted),
            "hit_rate": {k: self.hits.get(k, 0) / n for k, n in self.planted.items() if n},
            "wrong_label_rate": self.wrong / keywords if keywords else None,
            "other_words": self.others,
            "other_accept_rate": self.others_accepted / self.others if self.others else None,
            "stray_detections": self.stray,
            "latency_ms": {
                "median": float(np.median(lat)) if lat.size else None,
                "p90": float(np.percentile(lat, 90)) if lat.size else None,
            },
        }


def windows(spec: StreamSpec, tolerance_ms: int) -> list[tuple[int, int]]:
    """[start, end) in ms of every planted word's window, in planted order."""
    out = []
    for i, p in enumerate(spec.planted):
        end = p.speech_end_ms + tolerance_ms
        if i + 1 < len(spec.planted):
            end = min(end, spec.planted[i + 1].speech_start_ms)
        out.append((p.speech_start_ms, end))
    return out


def tally(spec: StreamSpec, heard: list[Heard], tolerance_ms: int, into: Tally | None = None) -> Tally:
    """Add a keyword stream's hits, wrong labels, accepted other words and stray detections to ``into``."""
    t = into or Tally()
    detections = [h for h in heard if h.label in config.WANTED_WORDS]
    claimed: set[int] = set()
    for p, (start, end) in zip(spec.planted, windows(spec, tolerance_ms), strict=True):
        inside = [i for i, h in enumerate(detections) if start <= h.t_ms < end]
        claimed.update(inside)
        labels = [detections[i].label for i in inside]
        if p.label in config.WANTED_WORDS:
            t.planted[p.label] = t.planted.get(p.label, 0) + 1
            if p.label in labels:
                t.hits[p.label] = t.hits.get(p.label, 0) + 1
                t.latencies_ms.append(detections[inside[labels.index(p.label)]].t_ms - p.speech_end_ms)
            t.wrong += any(label != p.label for label in labels)
        else:
            t.others += 1
            t.others_accepted += bool(labels)
    t.stray += len(detections) - len(claimed)
    return t


def false_accepts(heard: list[Heard]) -> int:
    """Keyword detections on a keyword-free stream."""
    return sum(h.label in config.WANTED_WORDS for h in heard)
