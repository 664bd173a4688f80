"""A stream with known keyword positions, for the firmware's stream mode.

Background noise from the dataset at a low volume, and one keyword clip every ``spacing_s``
seconds, yes and no in turn where the model allows. A keyword's *position* is the end of its 1 s
clip: the first moment the model's window holds all of it; RecognizeCommands (1 s average)
reports it around then.

Which clips: the suite tests the firmware, not the model's accuracy (metrics.json reports that),
and a TinyConv trained on aligned 1 s clips hears only some clips in a stream (RecognizeCommands
wants an average score above 200 over a whole second of windows sliding across the word: about
one test clip in four passes on the small BUILD tox trains). So each slot takes the first clip
(test split first, then validation, then training; the slot's word first, then the other) that
the host reference (:mod:`kwsrobot.stream_reference`) hears at its position in this very stream,
trying at most ``CANDIDATES`` clips per word. The whole stream is then checked on the host: its heard keywords
must be exactly the planted ones. When no clip works the stream cannot be made and the suite
says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kwsrobot.clips import SPLIT_ORDER
from kwsrobot.stream_reference import Heard, StreamReference
from model import config

KEYWORDS = config.WANTED_WORDS
TOLERANCE_MS = 500
NOISE_VOLUME = 0.05  # background level under the keywords (training mixes U(0, 0.1))
CANDIDATES = 200
SETTLE_MS = 1500  # a slot's check runs this far into the next one: a late false detection shows there


@dataclass(frozen=True)
class Keyword:
    label: str
    clip: str  # the dataset clip planted
    start_ms: int
    position_ms: int  # end of the clip


@dataclass(frozen=True)
class KeywordStream:
    pcm: np.ndarray  # int16
    keywords: tuple[Keyword, ...]
    reference: tuple[Heard, ...]  # everything the host reference hears, silence and unknown included

    @property
    def seconds(self) -> float:
        return self.pcm.size / config.SAMPLE_RATE


def keyword_heard(events: list[Heard], start_ms: int = 0, end_ms: int | None = None) -> list[Heard]:
    """The keyword detections among ``events`` in [start_ms, end_ms)."""
    return [e for e in events if e.label in KEYWORDS and e.t_ms >= start_ms and (end_ms is None or e.t_ms < end_ms)]


def _noise_bed(dataset, samples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = dataset.background[int(rng.integers(len(dataset.background)))]
    repeats = -(-samples // noise.size)
    start = int(rng.integers(noise.size))
    return np.float32(NOISE_VOLUME * 32768) * np.tile(noise, repeats + 1)[start : start + samples]


def _mix(bed: np.ndarray, planted: list[tuple[int, np.ndarray]]) -> np.ndarray:
    audio = bed.copy()
    for start, clip in planted:
        audio[start : start + clip.size] += clip.astype(np.float32)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)


def keyword_stream(
    data: Path,
    tflite: Path,
    stride: int = 1,
    slots: int = 4,
    first_s: float = 1.0,
    spacing_s: float = 3.0,
    seed: int = 0,
) -> KeywordStream:
    """The stream (see the module docstring), ``first_s + slots * spacing_s`` seconds long, heard by
    ``tflite`` paced to ``stride`` frames per block;
    ValueError when no clip is heard in a slot."""
    from model.data.dataset import SpeechCommands

    dataset = SpeechCommands(data)
    reference = StreamReference(tflite, stride)
    n = round((first_s + slots * spacing_s) * config.SAMPLE_RATE)
    bed = _noise_bed(dataset, n, seed)
    planted: list[tuple[int, np.ndarray]] = []
    keywords: list[Keyword] = []
    known = reference.scores(_mix(bed, []))
    for slot in range(slots):
        start_ms = round(1000 * (first_s + slot * spacing_s))
        start = start_ms * config.SAMPLE_RATE // 1000
        # what is heard up to the next slot, and in the suppression time after it (nothing else may be)
        end_ms = start_ms + round(1000 * spacing_s)
        end = min(n, (end_ms + SETTLE_MS) * config.SAMPLE_RATE // 1000)
        known = known[: reference.windows_before(start)]
        found = None
        for word in (KEYWORDS[slot % 2], KEYWORDS[(slot + 1) % 2]):
            label = dataset.labels.index(word)
            examples = [e for split in SPLIT_ORDER for e in dataset.split(split) if e.label == label]
            for example in examples[:CANDIDATES]:
                clip = dataset.load(example)
                scores = reference.scores(_mix(bed, [*planted, (start, clip)])[:end], known)
                heard = keyword_heard(reference.recognize(scores), start_ms, end_ms + SETTLE_MS)
                position = start_ms + clip.size * 1000 // config.SAMPLE_RATE
                if [e.label for e in heard] == [word] and abs(heard[0].t_ms - position) <= TOLERANCE_MS:
                    found = Keyword(word, f"{example.split}/{word}/{example.path.name}", start_ms, position), clip
                    break
            if found is not None:
                break
        if found is None:
            raise ValueError(f"{data}: the host reference hears no keyword clip at {start_ms} ms of the stream")
        keywords.append(found[0])
        planted.append((start, found[1]))
        known = reference.scores(_mix(bed, planted), known)
    pcm = _mix(bed, planted)
    events = reference.recognize(known)
    got = [(e.label, e.t_ms) for e in keyword_heard(events)]
    if [label for label, _ in got] != [k.label for k in keywords]:
        raise ValueError(f"the host reference hears {got} in the whole stream, not the planted {keywords}")
    return KeywordStream(pcm, tuple(keywords), tuple(events))


def speech_stream(data: Path, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Speech of every class in turn over the noise bed, one clip per second, nothing chosen by a
    model: realistic input for stage cycles (they depend on the data) whatever the model hears."""
    from kwsrobot.clips import dataset_clips
    from model.data.dataset import SpeechCommands

    n = round(seconds * config.SAMPLE_RATE)
    clips = dataset_clips(data, 2)
    planted = [(i * config.SAMPLE_RATE, clips[i % len(clips)].pcm) for i in range(int(seconds) - 1)]
    return _mix(_noise_bed(SpeechCommands(data), n, seed), planted)


def cached_keyword_stream(cache: Path, data: Path, tflite: Path, stride: int) -> KeywordStream:
    """:func:`keyword_stream` through an on-disk cache (suites of variants sharing a model and a pace
    share the search), keyed by the model, the pace, the dataset and this code."""
    import hashlib
    import io
    import json

    from kwsrobot import stream_reference
    from model.atomic import atomic_write_bytes

    key = hashlib.sha256()
    for part in (Path(tflite).read_bytes(), str(stride).encode(), str(Path(data).resolve()).encode()):
        key.update(part)
    for module in (__file__, stream_reference.__file__):
        key.update(Path(module).read_bytes())
    path = Path(cache) / f"stream-{key.hexdigest()[:16]}.npz"
    if path.is_file():
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            return KeywordStream(
                saved["pcm"], tuple(Keyword(**k) for k in meta["keywords"]), tuple(Heard(**h) for h in meta["heard"])
            )
    stream = keyword_stream(data, tflite, stride)
    meta = {"keywords": [vars(k) for k in stream.keywords], "heard": [vars(h) for h in stream.reference]}
    buffer = io.BytesIO()
    np.savez(buffer, pcm=stream.pcm, meta=np.array(json.dumps(meta)))
    atomic_write_bytes(path, buffer.getvalue())
    return stream
