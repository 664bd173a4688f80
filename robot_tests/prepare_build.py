"""Prepare a small BUILD for the Robot suites with the kws commands, in the pipeline's layout.

    python robot_tests/prepare_build.py --out BUILD [--per-word 40] [--steps 3000,600] [--seed 1]

BUILD/corpus (kws data synth), BUILD/run (kws train), BUILD/models/{int8,float32}.tflite
(kws export), BUILD/firmware/<variant> (kws firmware build) and BUILD/variants.json, as
``kws pipeline --stop-after firmware`` leaves them (the shared interface). Each step whose output
exists is skipped, so a rerun costs nothing; kws train resumes an interrupted run by itself.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from model.atomic import atomic_write_text

#: name, dtype, kernels: what tox's robot env tests.
VARIANTS = (("int8", "int8", "cortex_m4"), ("int8-ref", "int8", "reference"), ("float32", "float32", "reference"))


def kws(*args: str | Path) -> None:
    command = [str(Path(sys.executable).with_name("kws")), *map(str, args)]
    print("+", " ".join(command[1:]), flush=True)
    run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if run.returncode != 0:  # progress bars go to stderr: show only its end
        sys.stderr.write(run.stderr[-3000:])
        raise SystemExit(f"prepare_build.py: {' '.join(command[1:3])} failed with exit code {run.returncode}")


def prepare(out: Path, per_word: int, steps: str, seed: int) -> None:
    corpus, run, models = out / "corpus", out / "run", out / "models"
    if not (corpus / "yes").is_dir():
        kws("data", "synth", "--out", corpus, "--per-word", per_word, "--seed", seed)
    if not (run / "metrics.json").is_file():
        kws("train", "--data", corpus, "--out", run, "--steps", steps, "--eval-every", 600, "--seed", seed)
    for dtype in ("int8", "float32"):
        if not (models / f"{dtype}.tflite").is_file():
            flags = ["--float"] if dtype == "float32" else []
            kws(
                "export",
                "--checkpoint",
                run / "model.pt",
                "--data",
                corpus,
                "--out",
                models / f"{dtype}.tflite",
                *flags,
            )
    variants = []
    for name, dtype, kernels in VARIANTS:
        firmware = out / "firmware" / name
        if not (firmware / "size.json").is_file():
            kws(
                "firmware",
                "build",
                "--model",
                models / f"{dtype}.tflite",
                "--variant",
                name,
                "--kernels",
                kernels,
                "--out",
                firmware,
            )
        variants.append(
            {
                "name": name,
                "dtype": dtype,
                "kernels": kernels,
                "model": f"models/{dtype}.tflite",
                "dir": f"firmware/{name}",
            }
        )
    listing = {"data": str(corpus.resolve()), "variants": variants}
    atomic_write_text(out / "variants.json", json.dumps(listing, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--per-word", type=int, default=40, help="synthetic clips per word (default 40)")
    parser.add_argument("--steps", default="3000,600", help="training steps per phase (default 3000,600)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    prepare(args.out.resolve(), args.per_word, args.steps, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
