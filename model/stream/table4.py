"""``kws stream table4``: the study's Table 4 on the host engine. Ten words (yes, no, go, yes, S, Q,
no, yes, start, help), said in turn in one stream, three trials, each by another held-out speaker;
the label detected for each word.

Speakers come from the synthetic corpus's speaker pool (``model.data.synth.speaker_pool`` with
``--corpus-seed``, the seed the corpus was made with) and only those whose files the hash split puts
in the test split: with the corpus's seed, speakers the model never trained on. Each word is
rendered as the corpus renders a clip (``synth.render_clips``, middle band limits and level), planted one
per 3 s slot after 2 s of noise, over the corpus's first background recording at ``--snr`` dB (as
``kws stream make`` scales it). A word's detection is the first keyword heard in its window
(``model.stream.metrics.windows``), else ``-``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from model import config, options
from model.errors import BadInput

WORDS = ("yes", "no", "go", "yes", "S", "Q", "no", "yes", "start", "help")
TRIALS = 3
SLOT_S, LEAD_S = 3.0, 2.0


def corpus_sources(data: Path) -> list[str]:
    """The voice sources the corpus was made with (its sources.json; espeak-ng alone before there was one)."""
    from model.data.voices import SOURCES

    manifest = Path(data) / "sources.json"
    if not manifest.is_file():
        return ["espeak-ng"]
    try:
        used = set(json.loads(manifest.read_text())["sources"])
    except (ValueError, KeyError, TypeError):
        raise BadInput(manifest, "not a kws data synth sources manifest") from None
    return [source for source in SOURCES if source in used]


def held_out_speakers(seed: int, count: int, sources: list[str]) -> list:
    """The first ``count`` speakers of the corpus's pool whose clips fall in the test split."""
    from model.data import synth, voices
    from model.data.dataset import which_set

    pool = synth.speaker_pool(seed, 4000, voices.require(sources))
    chosen = [s for s in pool if which_set(f"{s.id}_nohash_0.wav") == "testing"]
    return chosen[:count]


def trial_stream(speaker, data: Path, snr_db: float | None, trial: int):
    """The stream of the ten words by ``speaker`` and its StreamSpec."""
    from model.data import synth
    from model.data.dataset import SpeechCommands
    from model.stream.plant import Planted, StreamSpec, noise_bed, speech_bounds

    slot, lead = round(SLOT_S * config.SAMPLE_RATE), round(LEAD_S * config.SAMPLE_RATE)
    audio = np.zeros(lead + len(WORDS) * slot, np.float64)
    planted, loudness = [], []
    specs = [
        synth.ClipSpec(word, f"{speaker.id}_{i}", speaker, 1.0, 150, 6000, 0.5, -12.0, -60.0, trial * 100 + i)
        for i, word in enumerate(WORDS)
    ]
    for i, (word, pcm) in enumerate(zip(WORDS, synth.render_clips(specs), strict=True)):
        start = lead + i * slot
        audio[start : start + pcm.size] += pcm
        first, end, rms = speech_bounds(pcm)
        loudness.append(rms)
        ms = [(start + s) * 1000 // config.SAMPLE_RATE for s in (0, pcm.size, first, end)]
        label = word if word in config.WANTED_WORDS else "unknown"
        planted.append(Planted(word, label, f"{speaker.id}:{word}", *ms))
    if snr_db is not None:
        _, noise = noise_bed(SpeechCommands(data), audio.size, np.random.default_rng([0, 2]))
        audio += noise * float(np.median(loudness)) * 10 ** (-snr_db / 20)
    pcm = np.clip(np.round(audio), -32768, 32767).astype(np.int16)
    spec = StreamSpec(f"trial{trial + 1}", "", False, snr_db, 0.0, pcm.size / config.SAMPLE_RATE, None, tuple(planted))
    return pcm, spec


def detected(spec, heard, tolerance_ms: int) -> list[str]:
    from model.stream.metrics import windows

    keywords = [h for h in heard if h.label in config.WANTED_WORDS]
    out = []
    for start, end in windows(spec, tolerance_ms):
        inside = [h.label for h in keywords if start <= h.t_ms < end]
        out.append(inside[0] if inside else "-")
    return out


def run(args: argparse.Namespace) -> int:
    from model.stream.engine import HostEngine

    engine = HostEngine(Path(args.model), args.stride)
    speakers = held_out_speakers(args.corpus_seed, TRIALS, corpus_sources(Path(args.data)))
    rows = []
    for trial, speaker in enumerate(speakers):
        pcm, spec = trial_stream(speaker, Path(args.data), args.snr, trial)
        rows.append(
            {
                "speaker": f"{speaker.voice}+{speaker.variant} p{speaker.pitch} s{speaker.speed}",
                "detected": detected(spec, engine.heard(pcm), 1500),
            }
        )
    if args.json:
        print(json.dumps({"words": WORDS, "trials": rows}, indent=1))
        return 0
    print("| trial (speaker) | " + " | ".join(WORDS) + " |")
    print("| --- |" + " --- |" * len(WORDS))
    for n, row in enumerate(rows, 1):
        print(f"| {n} ({row['speaker']}) | " + " | ".join(row["detected"]) + " |")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("table4", help="the study's Table 4: ten words, three held-out speakers, what is heard")
    p.add_argument("--data", required=True, help="the corpus (its _background_noise_/ gives the noise)")
    p.add_argument("--model", required=True, help="the .tflite the host engine runs")
    p.add_argument(
        "--corpus-seed",
        type=options.non_negative_int,
        default=0,
        help="seed the corpus was synthesised with: its test-split speakers are held out (default: %(default)s)",
    )
    p.add_argument("--snr", type=options.snr_db, default=10.0, help="SNR in dB, or clean (default: %(default)s)")
    p.add_argument(
        "--stride",
        type=options.int_range(1, 50),
        default=1,
        help="frames per PDM block of the firmware (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    p.set_defaults(func=run)
