"""Speed of the host engine of ``kws stream eval`` (C frontend over the stream, the model per
window, the firmware's recognizer), in CPU seconds of this process on one core, per stage.

The stream is the first of a ``kws stream make`` directory (or 60 s of its first stream with
``--seconds``); each stage is timed over a few rounds and the best counts (least disturbed by
the rest of the machine). Goal (issue 12): at least 200x real time. With ``--engine c`` the model is
also timed with the host build's convolution row memo off (every window computed in full, as on
the chip), side by side.

    .venv/bin/python benchmarks/bench_stream.py --streams DIR --model MODEL.tflite [--engine c|tflm]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

ROUNDS = 3


def best(function, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        function()
        times.append(time.process_time() - started)
    return min(times)


def fail(message: str) -> NoReturn:
    print(f"bench_stream.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--engine", default="c", choices=("c", "tflm"))
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    from model.data.audio import read_wav
    from model.data.features import microfrontend
    from model.errors import BadInput
    from model.stream.engine import HostEngine

    listing = Path(args.streams) / "streams.json"
    if not listing.is_file():
        fail(f"{listing}: no such file (make the streams with kws stream make)")
    spec = json.loads(listing.read_text())["streams"][0]
    pcm = read_wav(Path(args.streams) / spec["file"])[: round(args.seconds * 16000)]
    audio_s = pcm.size / 16000
    try:
        engine = HostEngine(Path(args.model), engine=args.engine)
    except BadInput as exc:
        fail(str(exc))
    scores = engine.scores(pcm)
    stages = {"frontend": best(lambda: microfrontend(pcm))}
    if args.engine == "c":  # the memo starts empty in each round: a round must not reuse the last one's rows
        target = engine.model.target
        target.remember_rows(False)
        stages["frontend + model, row memo off"] = best(lambda: engine.scores(pcm))
        stages["frontend + model"] = best(lambda: (target.remember_rows(True), engine.scores(pcm)))
    else:
        stages["frontend + model"] = best(lambda: engine.scores(pcm))
    stages["recognizer"] = best(lambda: engine.recognize(scores))
    total = stages["frontend + model"] + stages["recognizer"]
    print(f"{audio_s:g} s of audio, {len(scores)} windows, model on {args.engine}, one core, best of {ROUNDS}:")
    for name, seconds in stages.items():
        print(f"  {name}: {seconds:.3f} CPU s ({audio_s / seconds:.0f}x real time)")
    print(
        f"  host engine: {total:.3f} CPU s = {audio_s / total:.0f}x real time, "
        f"{1e6 * stages['frontend + model'] / len(scores):.0f} us per window"
    )
    if args.engine == "c":
        off = stages["frontend + model, row memo off"]
        print(f"  row memo: frontend + model {off / stages['frontend + model']:.2f}x faster than without it")


if __name__ == "__main__":
    main()
