"""``kws pipeline``: the main job, from a synthetic corpus to firmware results, in one report.

Stages, in order (``--stop-after`` ends the run after one of them):

  corpus    synthetic dataset under OUT/corpus (``kws data synth``), unless ``--data DIR``
  features  micro-frontend features of every split and the augmented training pool (cached)
  train     TinyConv with TensorFlow's recipe into OUT/run (``kws train``), its ``kws size``
            estimate and its CPU latency (``kws profile``)
  compress  ``kws compress``'s study on the trained model, split and corpus: PTQ and QAT, magnitude
            and channel pruning with and without fine-tuning (``--compress-grid`` fast, demo or
            full; model/pipeline/compress.py), checkpoints in OUT/compress/models
  export    OUT/models/int8.tflite, float32.tflite and int4.tflite, and <variant>.tflite of each
            compressed model that gets firmware, with tflite_micro's test accuracy
  firmware  OUT/firmware/<variant>/ for int8 (Cortex-M4 kernels), int8-ref (reference kernels),
            float32, int4, and the compressed variants (``kws firmware build``): by default qat-8
            and channel pruning with fine-tuning to about a half and a quarter of the channels
            (``--all-variants``: every deployable one), plus every fine-tuned channel-pruned level
            for its measurements (Table 5); OUT/variants.json lists the Robot suites' variants,
            those measured only, and the compressed models without firmware and why
  emulate   the test split on each firmware in the Unicorn backend (all clips on int8, the first
            ``--variant-clips`` on the others, 3 on those built for measurements): labels, stage
            cycles, and the scores checked against tflite_micro clip by clip
  robot     ``robot_tests/run.py --build OUT`` (the Robot Framework suites), output in OUT/robot
  report    OUT/report.md (figures linked) and OUT/report.html (figures embedded)

Each finished stage leaves ``OUT/.stages/<stage>.json`` with the key of its inputs and what it
measured; a rerun skips every stage whose key is unchanged, and the training, the compression
and the emulation resume where they were interrupted. The report is written from those records only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from model import config
from model.atomic import atomic_write_text
from model.data.synth import DEFAULT_AUGMENT
from model.data.voices import DEFAULT_SOURCES, SOURCES
from model.errors import BadInput
from model.options import float_range, int_range, list_of, non_negative_int, positive_float, positive_int, threads
from model.pipeline.compress import (
    GRIDS,
    MEASURE_CLIPS,
    Grid,
    compress_stage,
    compressed_variants,
    make_grid,
    study_config,
)
from model.pipeline.records import (
    LATENCY_REPEATS,
    STAGES,
    VARIANTS,
    Variant,
    cached,
    cached_info,
    file_digest,
    problems,
    read_record,
    refuse_changed,
    say,
    sources_digest,
    write_record,
)

ROBOT_SCRIPT = config.ROOT / "robot_tests" / "run.py"
#: What every variant must reach on test-split streams at 10 dB SNR (issue 12's acceptance), written
#: into variants.json for the Robot suites' stream detection test.
STREAM_THRESHOLDS = {
    "snr_db": 10.0,
    "min_hit_rate": 0.9,
    "max_wrong_label_rate": 0.02,
    "max_false_accepts_per_hour": 2.0,
}
#: What a firmware build is made of besides the model: its C sources and the code generator.
DEPLOY = config.ROOT / "model" / "deploy"
FIRMWARE_SOURCES = (
    config.FIRMWARE_DIR,
    *(
        config.ROOT / "model" / "deploy" / part
        for part in ("codegen", "tflite_reader.py", "quantization.py", "firmware.py")
    ),
)


@dataclass
class Job:
    """One pipeline run: where it writes, what it was asked for, and data shared by the stages."""

    out: Path
    data: Path | None
    per_word: int
    seed: int
    train_config: Any  # model.train.TrainConfig
    backend: str = "unicorn"
    #: Test clips emulated on the variants after the first (0: all); the first always runs them all.
    variant_clips: int = 40
    progress: bool = True
    compress_grid: Grid = GRIDS["demo"]
    #: Every deployable compressed variant gets a Robot suite (else a representative handful).
    all_variants: bool = False
    #: Voice sources and microphone augmentation of a synthesised corpus (``kws data synth``).
    sources: tuple[str, ...] = DEFAULT_SOURCES
    augment: str = DEFAULT_AUGMENT
    keys: dict[str, Any] = field(default_factory=dict)

    def variants(self) -> list[Variant]:
        """The firmware variants: the trained model's, then the compress stage's (once it has run)."""
        return [*VARIANTS, *compressed_variants(self.out, self.all_variants)]

    @cached_property
    def settings(self) -> dict[str, Any]:
        from model.train.batches import DATA_SETTINGS

        return {key: asdict(self.train_config)[key] for key in DATA_SETTINGS}

    @cached_property
    def train_data(self):
        """Clean features of every split and the augmented pool (``model.batches.TrainData``)."""
        from model.train.batches import load_train_data

        assert self.data is not None
        cfg = self.train_config
        return load_train_data(
            self.data, self.out / "features", self.settings, cfg.pool, self.progress, **cfg.augmentation()
        )


# -- stages ----------------------------------------------------------------------------------


def corpus_stage(job: Job) -> dict:
    if job.data is not None:
        if not job.data.is_dir():
            raise BadInput(job.data, "no such dataset directory")
        say("corpus", f"using {job.data}")
        return {"data": str(job.data), "synthesised": False}
    corpus = job.out / "corpus"
    # Sources and augmentation are part of the key: a corpus of espeak-ng alone is another corpus.
    key = {"per_word": job.per_word, "seed": job.seed, "sources": list(job.sources), "augment": job.augment}
    job.data = corpus.resolve()
    job.keys["corpus"] = key
    info = cached(job.out, "corpus", key)
    if info is not None:
        say("corpus", f"{corpus} is ready ({info['clips']:,} clips)")
        return info
    refuse_changed(job.out, "corpus", key, corpus)
    from model.data.synth import synthesize

    say("corpus", f"synthesising {job.per_word} clips per word into {corpus}")
    options = {"sources": job.sources, "augment": job.augment, "progress": job.progress}
    info = synthesize(corpus, per_word=job.per_word, seed=job.seed, **options)
    say("corpus", f"{info['clips']:,} clips of {info['speakers']} speakers in {info['seconds']} s")
    return write_record(job.out, "corpus", key, info | {"synthesised": True})


def data_key(job: Job) -> str:
    """The dataset as a cache key: relative to OUT when the pipeline made it there, so that a moved
    or copied tree keeps its cache; a dataset of the user's own is named by its path."""
    data = Path(job.data).resolve()
    out = job.out.resolve()
    return data.relative_to(out).as_posix() if data.is_relative_to(out) else str(data)


def features_stage(job: Job) -> dict:
    key = {
        "data": data_key(job),
        "corpus": job.keys.get("corpus"),
        "settings": job.settings,
        "pool": job.train_config.pool,
        "stream_context": job.train_config.stream_context,
    }
    job.keys["features"] = key
    info = cached(job.out, "features", key)
    if info is not None:
        say("features", "cached")
        return info
    from model.train.batches import open_dataset

    say("features", f"micro frontend on every split, {job.train_config.pool} augmented versions per training clip")
    start = time.perf_counter()
    data = job.train_data
    splits = {"train": data.train, "validation": data.validation, "test": data.test}
    info = {
        "dataset": open_dataset(job.data, job.settings).summary(),
        "splits": {
            name: {"clips": len(s.labels), "max_feature": int(s.features.max(initial=0))} for name, s in splits.items()
        },
        "pool_shape": list(data.pool.shape),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return write_record(job.out, "features", key, info)


def train_stage(job: Job) -> dict:
    from model.train.training import completed_steps, train

    cfg = job.train_config
    run = job.out / "run"
    key = {"config": cfg.key(), "features": job.keys["features"]}
    info = cached(job.out, "train", key)
    if info is not None:
        say("train", f"cached: {run / 'model.pt'}")
        return info
    refuse_changed(job.out, "train", key, run)
    done = completed_steps(run, cfg)
    total = sum(cfg.steps)
    say("train", f"{'resuming at step ' + str(done) if done else 'starting'} of {total:,} steps into {run}")
    start = time.perf_counter()
    metrics = train(job.train_data, run, cfg, progress=job.progress)
    seconds = time.perf_counter() - start
    info = {
        "metrics": metrics,
        "seconds": round(seconds, 1),
        "steps_run": total - done,
        "steps_per_second": round((total - done) / seconds, 1) if total > done else None,
        **checkpoint_figures(run / "model.pt"),
    }
    test = metrics["splits"]["test"]["total"]
    say("train", f"test accuracy {test['accuracy']:.4f} on {test['samples']} clips ({seconds:.0f} s)")
    return write_record(job.out, "train", key, info)


def checkpoint_figures(checkpoint: Path) -> dict:
    """The best checkpoint's step, ``kws size`` estimate and batch-1 CPU latency (``kws profile``)."""
    from model.train.profile import profile_model
    from model.train.size import model_size
    from model.train.tinyconv import load_checkpoint

    model, payload = load_checkpoint(checkpoint)
    latency = profile_model(model, "cpu", repeats=LATENCY_REPEATS, ops=False)
    return {
        "best_step": payload["step"],
        "best_validation_accuracy": payload["validation_accuracy"],
        "size": model_size(model),
        "latency_us": latency["latency_us"],
        "latency_threads": latency["threads"],
    }


#: the models the export stage writes (OUT/models/<name>.tflite), int8 before the int4 made from it
EXPORTED = ("int8", "float32", "int4")


def export_stage(job: Job) -> dict:
    checkpoint = job.out / "run" / "model.pt"
    compressed = {v.name: v for v in job.variants() if v.checkpoint}
    key = {
        "checkpoint": file_digest(checkpoint),
        "features": job.keys["features"],
        "models": list(EXPORTED),
        "compressed": {name: [file_digest(job.out / v.checkpoint), v.weights] for name, v in compressed.items()},
    }
    job.keys["export"] = key
    info = cached(job.out, "export", key)
    if info is not None:
        say("export", "cached")
        return info
    from model.train.tinyconv import load_checkpoint

    start = time.perf_counter()
    model, _ = load_checkpoint(checkpoint)
    info: dict[str, Any] = {"models": {}}
    for dtype in EXPORTED:
        info["models"][dtype] = _export(job, dtype, model if dtype != "int4" else None, dtype)
    for name, variant in compressed.items():
        info["models"][name] = _export(job, name, load_checkpoint(job.out / variant.checkpoint)[0], variant.weights)
    info["seconds"] = round(time.perf_counter() - start, 1)
    return write_record(job.out, "export", key, info)


def _export(job: Job, name: str, model, kind: str) -> dict:
    """OUT/models/<name>.tflite of ``model`` as ``kind`` (int8, float32; int4: the int8 export with INT4
    filters, of ``model`` or, when None, of OUT/models/int8.tflite) and its tflite_micro test accuracy."""
    from model.atomic import atomic_write_bytes
    from model.deploy.export import export_tflite, tflm_predictions
    from model.deploy.int4 import int4_flatbuffer
    from model.train.evaluate import confusion_matrix, split_metrics

    data = job.train_data
    if kind == "int4":
        int8 = (job.out / "models" / "int8.tflite").read_bytes() if model is None else None
        flatbuffer = int4_flatbuffer(int8 or export_tflite(model, data.train.features))
    else:
        flatbuffer = export_tflite(model, data.train.features if kind in ("int8", "") else None)
    path = job.out / "models" / f"{name}.tflite"
    atomic_write_bytes(path, flatbuffer)
    metrics = split_metrics(confusion_matrix(data.test.labels, tflm_predictions(flatbuffer, data.test.features)))
    say("export", f"{path} ({len(flatbuffer):,} bytes): tflite_micro test accuracy {metrics['total']['accuracy']:.4f}")
    return {"path": str(path.relative_to(job.out)), "bytes": len(flatbuffer), "test": metrics}


def firmware_stage(job: Job) -> dict:
    """Every variant's firmware (reused while its model, kernels and the firmware sources are unchanged)
    and variants.json: the variants with a Robot suite, then those built for their measurements
    only, and the compressed models that cannot be deployed, with the reason.

    A variant that cannot be built is recorded with the reason and left out of variants.json;
    the next run tries it again.
    """
    previous = (read_record(job.out, "firmware") or {}).get("info", {}).get("variants", {})
    sources = sources_digest(FIRMWARE_SOURCES)
    wanted = job.variants()
    variants = {v.name: _firmware(job, v, previous.get(v.name, {}), sources) for v in wanted}
    built = [v for v in wanted if "error" not in variants[v.name]]
    listing = {
        "data": str(Path(job.data).resolve()),
        "variants": [_listed(v) for v in built if v.listed],
        "measured": [_listed(v) for v in built if not v.listed],
        "unbuilt": [{"name": name, "reason": v["error"]} for name, v in variants.items() if "error" in v],
        "without_firmware": [
            {"name": row["name"], "reason": row["note"]}
            for row in (read_record(job.out, "compress") or {}).get("info", {}).get("rows", [])
            if not row["weights"]
        ],
    }
    atomic_write_text(job.out / "variants.json", json.dumps(listing, indent=2) + "\n")
    say(
        "firmware",
        f"wrote {job.out / 'variants.json'} ({len(listing['variants'])} variants with Robot suites, "
        f"{len(listing['measured'])} for measurements only; {len(built)} of {len(wanted)} built)",
    )
    key = {name: v["key"] for name, v in variants.items()}
    status = "done" if len(built) == len(wanted) else "partial"
    # the builds' own times, cached ones as first measured: a rerun that rebuilds nothing is not 0 s
    seconds = sum(v.get("seconds", 0.0) for v in variants.values())
    info = {"variants": variants, "seconds": round(seconds, 1)}
    return write_record(job.out, "firmware", key, info, status)


def _firmware(job: Job, variant: Variant, old: dict, sources: str) -> dict:
    """One variant's OUT/firmware/<name>/ (cached while its key holds): its record entry."""
    from model.deploy.firmware import build

    model = job.out / variant.model_path
    directory = job.out / "firmware" / variant.name
    key = {"model": file_digest(model), "kernels": variant.kernels, "sources": sources}
    entry = {"dtype": variant.dtype, "kernels": variant.kernels, "model": variant.model_path, "listed": variant.listed}
    if old.get("key") == key and "error" not in old and (directory / "kws.elf").is_file():
        say("firmware", f"{variant.name}: cached")
        return old | entry
    say("firmware", f"{variant.name}: building ({variant.dtype}, {variant.kernels} kernels)")
    start = time.perf_counter()
    try:
        size = build(model, directory, variant=variant.name, kernels=variant.kernels)
    except BadInput as exc:
        say("firmware", f"{variant.name}: NOT BUILT: {exc.reason}")
        return {"key": key, "error": exc.reason} | entry
    say("firmware", f"{variant.name}: flash {size['flash_bytes']:,} B, RAM {size['ram_bytes']:,} B")
    return {"key": key, "size": size, "seconds": round(time.perf_counter() - start, 1)} | entry


def _listed(v: Variant) -> dict:
    return {
        "name": v.name,
        "dtype": v.dtype,
        "kernels": v.kernels,
        "model": v.model_path,
        **({"weights": v.weights} if v.weights else {}),
        **({"channels": v.channels} if v.channels else {}),
        **({"nonzero_weights": v.nonzero_weights} if v.nonzero_weights else {}),
        "dir": f"firmware/{v.name}",
        "stream_thresholds": STREAM_THRESHOLDS,
    }


def emulate_stage(job: Job) -> dict:
    from model.pipeline.emulate import emulate_variant

    firmware = cached_info(job.out, "firmware")
    built = [v for v in job.variants() if "error" not in firmware["variants"].get(v.name, {"error": ""})]
    key = {
        "features": job.keys["features"],
        "backend": job.backend,
        "variant_clips": job.variant_clips,
        "elfs": {v.name: file_digest(job.out / "firmware" / v.name / "kws.elf") for v in built},
    }
    info = cached(job.out, "emulate", key)
    if info is not None:
        say("emulate", "cached")
        return info
    from model.train.batches import SPLITS, open_dataset

    dataset = open_dataset(job.data, job.settings)
    examples = dataset.split(SPLITS["test"])
    start = time.perf_counter()
    info: dict[str, Any] = {"backend": job.backend, "variants": {}}
    for variant in built:
        # The first variant (int8, the product) runs the whole test split; the others, run for
        # their cycles and agreement, take the first --variant-clips clips, and those built for
        # Table 5's measurements only the first MEASURE_CLIPS.
        clips = examples if variant == VARIANTS[0] or not job.variant_clips else examples[: job.variant_clips]
        clips = clips if variant.listed else examples[:MEASURE_CLIPS]
        say("emulate", f"{variant.name}: {len(clips)} test clips on {job.backend}")
        info["variants"][variant.name] = emulate_variant(
            job.out / "firmware" / variant.name / "kws.elf",
            job.out / variant.model_path,
            dataset,
            clips,
            job.out / "emulate" / variant.name,
            job.backend,
            job.progress,
        )
        summary = info["variants"][variant.name]
        say(
            "emulate",
            f"{variant.name}: accuracy {summary['test']['total']['accuracy']:.4f}, "
            f"{summary['matches_tflite_micro']}/{summary['clips']} clips match tflite_micro",
        )
    info["seconds"] = round(time.perf_counter() - start, 1)
    return write_record(job.out, "emulate", key, info)


def streams_stage(job: Job) -> dict:
    """Keyword detection of every variant with a Robot suite on test-split streams (DIR/streams)."""
    from model.pipeline.streams import STREAM_ARGUMENTS, make_streams
    from model.stream.evaluate import evaluate_variants

    listed = [v for v in job.variants() if v.listed and (job.out / "firmware" / v.name / "kws.elf").is_file()]
    variants = {v.name: (job.out / v.model_path, job.out / "firmware" / v.name / "kws.elf") for v in listed}
    key = {
        "features": job.keys["features"],
        "arguments": list(STREAM_ARGUMENTS),
        "files": {name: [file_digest(model), file_digest(elf)] for name, (model, elf) in variants.items()},
        "sources": sources_digest((config.ROOT / "model" / "stream", config.FIRMWARE_DIR / "recognizer")),
    }
    info = cached(job.out, "streams", key)
    if info is not None:
        say("streams", "cached")
        return info
    start = time.perf_counter()
    try:
        make_streams(job.data, job.out / "streams")
    except BadInput as exc:  # a corpus too small for a stream: said, not fatal
        say("streams", f"skipped: {exc}")
        return write_record(job.out, "streams", key, {"reason": str(exc)}, "skipped")
    say("streams", f"made {job.out / 'streams'}; hearing {len(variants)} variants on the host engine")
    metrics = evaluate_variants(job.out / "streams", variants, det_png=job.out / "streams" / "det.png")
    for name, m in metrics.items():
        ten = next((s for s in m["keyword_streams"].values() if s["snr_db"] == STREAM_THRESHOLDS["snr_db"]), None)
        hits = ", ".join(f"{k} {r:.3f}" for k, r in (ten or {}).get("hit_rate", {}).items())
        per_hour = m["free"]["per_hour"] if m["free"] else float("nan")
        say("streams", f"{name}: at 10 dB hit rate {hits}; {per_hour:.1f} false accepts per hour")
    info = {"variants": metrics, "det": "streams/det.png", "seconds": round(time.perf_counter() - start, 1)}
    return write_record(job.out, "streams", key, info)


def robot_stage(job: Job) -> dict:
    """Runs the Robot suites through robot_tests/run.py; skipped, with the reason, while it is absent."""
    variants = job.out / "variants.json"
    elfs = sorted((job.out / "firmware").glob("*/kws.elf"))
    key = {"variants": file_digest(variants, *elfs), "backend": job.backend}
    info = cached(job.out, "robot", key)
    if info is not None:
        say("robot", f"cached: {info['summary']}")
        return info
    if not ROBOT_SCRIPT.is_file():
        reason = f"{ROBOT_SCRIPT} does not exist yet: the Robot suites were not run"
        say("robot", f"SKIPPED: {reason}")
        return write_record(job.out, "robot", key, {"summary": reason}, "skipped")
    robot = job.out / "robot"
    command = [sys.executable, str(ROBOT_SCRIPT), "--build", str(job.out), "--out", str(robot)]
    command += ["--backend", job.backend]
    say("robot", " ".join(command))
    start = time.perf_counter()
    # Its output is shown as it comes (progress); the last line is the suites' one-line summary.
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(f"[robot] {line.rstrip()}", flush=True)
            if line.strip():
                lines.append(line.strip())
    summary = lines[-1] if lines else "robot_tests/run.py printed nothing"
    info = {"summary": summary, "returncode": process.returncode, "seconds": round(time.perf_counter() - start, 1)}
    info["report"] = "robot/report.html" if (robot / "report.html").is_file() else None
    if process.returncode != 0:
        say("robot", f"FAILED (exit {process.returncode}): {summary}")
        return write_record(job.out, "robot", key, info, "failed")
    return write_record(job.out, "robot", key, info)


def report_stage(job: Job) -> dict:
    from model.pipeline.report import write_reports

    md, html = write_reports(job.out, job.data)
    say("report", f"wrote {md} and {html}")
    return {"markdown": str(md), "html": str(html)}


STAGE_FUNCTIONS = {
    "corpus": corpus_stage,
    "features": features_stage,
    "train": train_stage,
    "compress": compress_stage,
    "export": export_stage,
    "firmware": firmware_stage,
    "emulate": emulate_stage,
    "streams": streams_stage,
    "robot": robot_stage,
    "report": report_stage,
}


def run_job(job: Job, stop_after: str = "report") -> int:
    job.out.mkdir(parents=True, exist_ok=True)
    for stage in STAGES[: STAGES.index(stop_after) + 1]:
        STAGE_FUNCTIONS[stage](job)
    if stop_after != "report":
        say(stop_after, f"stopped after {stop_after} (--stop-after)")
    found = problems(job.out)
    for problem in found:
        sys.stderr.write(f"kws pipeline: {problem}\n")
    return 1 if found else 0


def run(args: argparse.Namespace) -> int:
    from model.train.training import TrainConfig

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter would bury the stage lines
    defaults = TrainConfig()
    steps = args.steps or defaults.steps
    lr = args.lr or defaults.lr[: len(steps)]
    try:
        cfg = TrainConfig(steps=steps, lr=lr, seed=args.seed, pool=args.pool, threads=args.threads)
    except ValueError as exc:
        raise BadInput(None, str(exc)) from None
    if args.per_word < 1:
        raise BadInput(None, f"--per-word must be at least 1, got {args.per_word}")
    grid = make_grid(
        args.compress_grid,
        bits=args.compress_bits,
        sparsity=args.compress_sparsity,
        channel_fractions=args.compress_channels,
        finetune_steps=args.compress_steps,
        norm=args.compress_norm,
    )
    study_config(grid, cfg.channels)  # an impossible grid stops the run before anything is written
    job = Job(
        out=Path(args.out),
        data=Path(args.data).resolve() if args.data else None,
        per_word=args.per_word,
        seed=args.seed,
        train_config=cfg,
        backend=args.backend,
        variant_clips=args.variant_clips,
        progress=not args.no_progress,
        compress_grid=grid,
        all_variants=args.all_variants,
        sources=tuple(args.sources),
        augment=args.augment,
    )
    return run_job(job, args.stop_after)


def register(subparsers: argparse._SubParsersAction) -> None:
    from model.data.synth import AUGMENTS, DEFAULT_PER_WORD, source_name

    parser = subparsers.add_parser(
        "pipeline",
        help="the main job: corpus, features, train, export, firmware, emulation, Robot suites, report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, help="output directory (reused: finished stages are skipped)")
    parser.add_argument("--data", help="a dataset in Speech Commands layout (default: synthesise one)")
    parser.add_argument(
        "--per-word",
        type=positive_int,
        default=DEFAULT_PER_WORD,
        help=f"synthetic clips per keyword ({DEFAULT_PER_WORD}; other words a quarter)",
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of corpus, data pipeline and training (0)"
    )
    parser.add_argument(
        "--sources",
        type=list_of(source_name),
        default=list(DEFAULT_SOURCES),
        help=f"voice sources of the synthesised corpus, some of {','.join(SOURCES)} "
        f"(default {','.join(DEFAULT_SOURCES)}; kws data synth)",
    )
    parser.add_argument(
        "--augment",
        choices=AUGMENTS,
        default=DEFAULT_AUGMENT,
        help=f"microphone augmentation of the synthesised corpus ({DEFAULT_AUGMENT})",
    )
    parser.add_argument("--steps", type=list_of(positive_int), help="training steps per phase (default 12000,3000)")
    parser.add_argument("--lr", type=list_of(positive_float), help="learning rate per phase")
    parser.add_argument("--pool", type=positive_int, default=8, help="augmented versions per training clip (8)")
    parser.add_argument("--threads", type=threads, default=1, help="torch CPU threads for training (1)")
    parser.add_argument("--backend", choices=("unicorn", "renode"), default="unicorn", help="emulator (unicorn)")
    parser.add_argument(
        "--variant-clips",
        type=non_negative_int,
        default=40,
        help="test clips emulated on int8-ref and float32 (default 40; 0: all); int8 runs the whole test split",
    )
    _compress_options(parser)
    parser.add_argument("--stop-after", choices=STAGES, default="report", help="last stage to run (report)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (stage lines only)")
    parser.set_defaults(func=run)


def _compress_options(parser: argparse.ArgumentParser) -> None:
    from model.compress import NORMS

    group = parser.add_argument_group("compress stage (the grid: see model/pipeline/compress.py)")
    group.add_argument(
        "--compress-grid",
        choices=tuple(GRIDS),
        default="demo",
        help="fast (make test), demo (default) or full (the study's grid)",
    )
    group.add_argument("--compress-bits", type=list_of(int_range(2, 8)), help="PTQ/QAT weight bits (the grid's)")
    group.add_argument(
        "--compress-sparsity",
        type=list_of(float_range(0, 1, low_open=True, high_open=True)),
        help="unstructured pruning sparsities (the grid's)",
    )
    group.add_argument(
        "--compress-channels",
        type=list_of(float_range(0, 1, low_open=True, high_open=True)),
        help="fractions of the conv channels removed by structured pruning (the grid's)",
    )
    group.add_argument("--compress-steps", type=non_negative_int, help="QAT and fine-tuning steps (the grid's)")
    group.add_argument("--compress-norm", choices=NORMS, help="filter norm ranking channels (l1)")
    group.add_argument(
        "--all-variants",
        action="store_true",
        help="firmware and a Robot suite for every deployable compressed model (default: QAT 8-bit and two "
        "channel-pruned ones)",
    )
