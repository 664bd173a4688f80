"""``kws stream make``: keyword streams at several SNRs and levels, and a keyword-free stream,
from a split of a dataset, with ``streams.json`` saying what was planted where (``model.stream.plant``).

Output: ``OUT/<name>.wav`` (16 kHz mono 16-bit; ``--s16le`` adds the raw samples the firmware's PDM
is fed, ``<name>.s16le``) and ``OUT/streams.json``. The same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from model import options
from model.atomic import atomic_write_text
from model.errors import BadInput
from model.stream.plant import StreamSpec, plan_layout, render, split_clips


def snr_tag(snr: float | None) -> str:
    return "clean" if snr is None else f"{snr:g}dB"


def make_streams(args: argparse.Namespace) -> list[StreamSpec]:
    """Write every stream the arguments ask for into ``args.out`` and return their specs."""
    from model.data.audio import write_wav
    from model.data.dataset import SpeechCommands

    data = Path(args.data)
    dataset = SpeechCommands(data)
    words = split_clips(data, args.split)
    if not any(words.get(w) for w in dataset.wanted_words):
        raise BadInput(data, f"no keyword clips in the {args.split} split")
    common = {"other_share": args.other_share, "spacing_s": args.spacing, "lead_s": args.lead}
    free_slots = max(1, round(args.free_minutes * 60 / args.spacing))
    keyword_layout = plan_layout(
        words,
        data,
        np.random.default_rng([args.seed, 0]),
        keywords=True,
        max_keywords=args.max_keywords,
        free_slots=0,
        **common,
    )
    free_layout = plan_layout(
        words,
        data,
        np.random.default_rng([args.seed, 1]),
        keywords=False,
        max_keywords=None,
        free_slots=free_slots,
        **common,
    )
    suffix = (lambda level: f"-{level:+g}dBFS") if len(args.levels) > 1 else (lambda level: "")
    jobs = [
        (f"keywords-{snr_tag(snr)}{suffix(level)}", keyword_layout, snr, level, False)
        for level in args.levels
        for snr in args.snr
    ]
    if args.free_minutes > 0:
        jobs.append((f"free-{snr_tag(args.free_snr)}", free_layout, args.free_snr, args.levels[0], True))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    specs = []
    for name, layout, snr, level, free in jobs:
        pcm, planted, noise = render(dataset, layout, snr, level, np.random.default_rng([args.seed, 2]))
        write_wav(out / f"{name}.wav", pcm)
        if args.s16le:
            (out / f"{name}.s16le").write_bytes(pcm.astype("<i2").tobytes())
        specs.append(StreamSpec(name, f"{name}.wav", free, snr, level, pcm.size / 16000, noise, planted))
    return specs


def write_streams(args: argparse.Namespace) -> list[StreamSpec]:
    """The streams and their ``streams.json`` in ``args.out``."""
    specs = make_streams(args)
    listing = {
        "data": str(Path(args.data).resolve()),
        "split": args.split,
        "seed": args.seed,
        "streams": [s.to_json() for s in specs],
    }
    atomic_write_text(Path(args.out) / "streams.json", json.dumps(listing, indent=1) + "\n")
    return specs


def run(args: argparse.Namespace) -> int:
    for s in write_streams(args):
        words = sum(p.label != "unknown" for p in s.planted)
        print(f"{Path(args.out) / s.file}: {s.seconds:g} s, {words} keywords, {len(s.planted) - words} other words")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("make", help="long streams with planted words, at several SNRs, and their ground truth")
    p.add_argument("--data", required=True, help="dataset in Speech Commands layout (with _background_noise_/)")
    p.add_argument("--out", required=True, help="directory for the streams and streams.json")
    p.add_argument(
        "--split",
        default="testing",
        choices=("training", "validation", "testing"),
        help="split the words come from (default: %(default)s)",
    )
    p.add_argument(
        "--snr",
        type=options.list_of(options.snr_db),
        default=[None, 20.0, 10.0, 5.0],
        help="SNRs of the keyword streams in dB, 'clean' for none (default: clean,20,10,5)",
    )
    p.add_argument(
        "--levels",
        type=options.list_of(options.float_range(-60, 20)),
        default=[0.0],
        help="gains of the words in dB, one stream per level and SNR (default: 0)",
    )
    p.add_argument(
        "--max-keywords",
        type=options.positive_int,
        default=None,
        help="plant at most this many keywords (default: every keyword clip of the split)",
    )
    p.add_argument(
        "--other-share",
        type=options.float_range(0, 10),
        default=0.5,
        help="other words planted per keyword (default: %(default)s)",
    )
    p.add_argument(
        "--spacing",
        type=options.float_range(2.5, 60),
        default=3.0,
        help="seconds per planted word (default: %(default)s)",
    )
    p.add_argument(
        "--lead",
        type=options.float_range(0, 60),
        default=2.0,
        help="seconds of noise before the first word (default: %(default)s)",
    )
    p.add_argument(
        "--free-minutes",
        type=options.float_range(0, 600),
        default=10.0,
        help="length of the keyword-free stream, 0 for none (default: %(default)s)",
    )
    p.add_argument(
        "--free-snr", type=options.snr_db, default=10.0, help="SNR of the keyword-free stream (default: %(default)s)"
    )
    p.add_argument("--seed", type=options.non_negative_int, default=0, help="(default: %(default)s)")
    p.add_argument("--s16le", action="store_true", help="also write raw s16le samples (default: WAV only)")
    p.set_defaults(func=run)
