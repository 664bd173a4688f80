"""The main job end to end on a tiny synthetic corpus and short training: ``--stop-after firmware``
leaves what the Robot suites need, a full run emulates the test split and writes both reports,
a rerun redoes nothing, an interrupted emulation resumes, and the robot stage runs the suites'
script (here a stand-in with the agreed command line). Then train → eval → profile → export →
verify → firmware → emulate through the CLI on the pipeline's outputs."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import pytest

from model import config
from model.cli import main
from model.pipeline import stages as pipeline
from model.pipeline import streams as pipeline_streams

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("sox", "espeak-ng", "flite", "festival")),
    reason="needs sox, espeak-ng, flite and festival to synthesise the corpus (make setup)",
)

ARGS = ["--per-word", "24", "--seed", "3", "--steps", "60", "--compress-grid", "fast", "--compress-steps", "20"]
ARGS += ["--no-progress"]

#: Stands in for robot_tests/run.py: checks the agreed command line and BUILD/variants.json,
#: writes Robot's three output files and a one-line summary, exits with $FAKE_ROBOT_EXIT.
FAKE_ROBOT = """
import argparse, json, os, sys
from pathlib import Path
p = argparse.ArgumentParser()
p.add_argument("--build", required=True)
p.add_argument("--out")
p.add_argument("--backend", default="unicorn")
p.add_argument("--processes", type=int)
a = p.parse_args()
build = Path(a.build)
listing = json.loads((build / "variants.json").read_text())
for v in listing["variants"]:
    assert (build / v["dir"] / "kws.elf").is_file() and (build / v["model"]).is_file(), v
out = Path(a.out or build / "robot")
out.mkdir(parents=True, exist_ok=True)
for name in ("output.xml", "log.html", "report.html"):
    (out / name).write_text("robot output")
with open(os.environ["FAKE_ROBOT_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
code = int(os.environ.get("FAKE_ROBOT_EXIT", "0"))
print("suite progress line")
print(f"{len(listing['variants'])} suites, {'all passed' if code == 0 else 'some failed'}")
sys.exit(code)
"""


@pytest.fixture(scope="module")
def fake_robot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("robot")
    script = folder / "run.py"
    script.write_text(FAKE_ROBOT)
    log = folder / "calls.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "ROBOT_SCRIPT", script)
        # The streams stage's keyword-free stream: one minute here, not ten.
        mp.setattr(pipeline_streams, "STREAM_ARGUMENTS", ("--snr", "clean,10", "--free-minutes", "1"))
        mp.setenv("FAKE_ROBOT_LOG", str(log))
        mp.setenv("FAKE_ROBOT_EXIT", "0")
        yield log


def stage_mtimes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / ".stages").glob("*.json")}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, fake_robot):
    """``--stop-after firmware``: what tox's robot environment runs before the suites."""
    out = tmp_path_factory.mktemp("demo")
    assert main(["pipeline", "--out", str(out), *ARGS, "--stop-after", "firmware"]) == 0
    return out, {p.name for p in (out / ".stages").glob("*.json")}


@pytest.fixture(scope="module")
def demo(prepared, fake_robot):
    out, _ = prepared
    assert main(["pipeline", "--out", str(out), *ARGS]) == 0
    return out


def test_stop_after_firmware_leaves_the_agreed_layout(prepared):
    out, stages = prepared
    assert stages == {"corpus.json", "features.json", "train.json", "compress.json", "export.json", "firmware.json"}
    for path in ("run/model.pt", "run/metrics.json", "run/report.md", "run/curves.png"):
        assert (out / path).is_file(), path
    for model in ("int8", "float32", "int4"):
        assert (out / "models" / f"{model}.tflite").read_bytes()[4:8] == b"TFL3"
    listing = json.loads((out / "variants.json").read_text())
    assert listing["data"] == str((out / "corpus").resolve())
    wanted = [("int8", "int8", "cortex_m4"), ("int8-ref", "int8", "reference"), ("float32", "float32", "reference"),
              ("int4", "int8", "cortex_m4"), ("qat-8", "int8", "cortex_m4"), ("channels-ft-4", "int8", "cortex_m4"),
              ("channels-ft-2", "int8", "cortex_m4")]  # fmt: skip
    listed = [(v["name"], v["dtype"], v["kernels"]) for v in listing["variants"]]
    unbuilt = {v["name"]: v["reason"] for v in listing["unbuilt"]}
    # Every variant is either built and listed, or left out with the reason; int8 must build.
    assert [w for w in wanted if w[0] not in unbuilt] == listed and "int8" not in unbuilt, unbuilt
    for variant in listing["variants"]:
        model = variant["name"] if variant["name"] not in ("int8-ref", "float32") else variant["dtype"]
        assert variant["model"] == f"models/{model}.tflite"
        assert variant["dir"] == f"firmware/{variant['name']}"
        size = json.loads((out / variant["dir"] / "size.json").read_text())
        assert 0 < size["flash_bytes"] < size["flash_limit"] and 0 < size["ram_bytes"] < size["ram_limit"]
    # Channel-pruned variants carry their channel count (their inference budget scales with it).
    assert {v["name"]: v.get("channels") for v in listing["variants"]}["channels-ft-2"] == 2
    assert "channels" not in listing["variants"][4]  # qat-8: the int8 budget
    # The fast grid's 2-bit models have no kernel: listed with the reason, not built.
    without = {v["name"]: v["reason"] for v in listing["without_firmware"]}
    assert "no 2-bit kernel" in without["qat-2"] and listing["measured"] == []
    assert not (out / "report.md").exists()


def test_full_run_emulates_the_test_split_and_reports(demo):
    records = {name: json.loads((demo / ".stages" / f"{name}.json").read_text()) for name in pipeline.STAGES[:-1]}
    assert all(r["status"] == "done" for name, r in records.items() if name != "firmware")
    listing = json.loads((demo / "variants.json").read_text())
    test_clips = records["features"]["info"]["splits"]["test"]["clips"]
    emulated = records["emulate"]["info"]["variants"]
    assert list(emulated) == [v["name"] for v in listing["variants"]]
    host_int8 = records["export"]["info"]["models"]["int8"]["test"]
    for name, summary in emulated.items():
        clips = json.loads((demo / "emulate" / name / "clips.json").read_text())
        assert summary["clips"] == len(clips) == test_clips > 0
        assert summary["matches_tflite_micro"] == test_clips and summary["errors"] == 0
        for stage in ("preprocess", "inference", "postprocess"):
            assert summary["cycles"][stage]["median"] > 0
        if name.startswith("int8"):
            # Bit-exact scores give the host's int8 labels, class by class.
            assert summary["test"] == host_int8
    if {"int8", "int8-ref"} <= set(emulated):
        # The same model on other kernels: same scores, different speed.
        ref = {c["clip"]: c["scores"] for c in json.loads((demo / "emulate" / "int8-ref" / "clips.json").read_text())}
        m4 = {c["clip"]: c["scores"] for c in json.loads((demo / "emulate" / "int8" / "clips.json").read_text())}
        assert ref == m4
        assert emulated["int8"]["cycles"]["inference"]["median"] < emulated["int8-ref"]["cycles"]["inference"]["median"]
    assert records["robot"]["info"]["summary"].endswith("all passed")

    md = (demo / "report.md").read_text()
    for heading in (
        "## Test accuracy per class: host and firmware",
        "## Size: estimate against the ELF",
        "## Compression",
    ):
        assert heading in md
    assert "Table 5" in md and "| 0.5 | 8,328 |" in md  # half the channels: its params, measured in emulation
    assert "not emulated" not in md
    assert "| study: nRF52840, TFLM reference kernels | (21 ms) | (86 ms) |" in md
    assert f"firmware {next(iter(emulated))} (unicorn)" in md
    for figure in ("figures/test_accuracy.png", "figures/stage_times.png", "run/curves.png"):
        assert f"]({figure})" in md and (demo / figure).read_bytes()[:4] == b"\x89PNG"
    assert "## Keyword detection in a stream" in md and "](streams/det.png)" in md
    html = (demo / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == md.count("![") == 10
    assert 'src="figures' not in html and 'src="run' not in html


def test_streams_stage_hears_every_variant_as_the_stream_command_does(demo, capsys):
    """Each variant's record is what `kws stream eval` gives on its model at its firmware's stride,
    and what `kws stream eval --build` prints; --build refuses options of a single model."""
    streams = json.loads((demo / ".stages" / "streams.json").read_text())["info"]["variants"]
    listing = json.loads((demo / "variants.json").read_text())
    assert list(streams) == [v["name"] for v in listing["variants"]]
    assert streams["int8"]["stride"] == 1 and streams["float32"]["stride"] > 1  # float32 paces itself
    models = {v["name"]: demo / v["model"] for v in listing["variants"]}
    for name in ("int8", "float32"):
        capsys.readouterr()
        args = ["stream", "eval", "--streams", str(demo / "streams"), "--model", str(models[name]), "--json"]
        assert main([*args, "--stride", str(streams[name]["stride"])]) == 0
        alone = json.loads(capsys.readouterr().out)
        assert alone["keyword_streams"] == streams[name]["keyword_streams"] and alone["free"] == streams[name]["free"]
        assert set(alone["keyword_streams"]) == {"keywords-clean", "keywords-10dB"} and alone["free"]["seconds"] >= 60
    assert main(["stream", "eval", "--streams", str(demo / "streams"), "--build", str(demo), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == streams
    assert main(["stream", "eval", "--streams", str(demo / "streams"), "--build", str(demo), "--stride", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--stride does not go with --build" in err


def test_stream_tune_scores_the_firmware_setting_as_eval_does(demo, capsys):
    """`kws stream tune` ranks every recognizer setting; its row for the firmware's own settings
    holds the figures the streams stage measured with them."""
    from model.stream.tune import GRID

    int8 = json.loads((demo / ".stages" / "streams.json").read_text())["info"]["variants"]["int8"]
    args = ["stream", "tune", "--streams", str(demo / "streams"), "--model", str(demo / "models" / "int8.tflite")]
    capsys.readouterr()
    assert main([*args, "--json", "--top", "100000"]) == 0
    rows = json.loads(capsys.readouterr().out)["settings"]
    assert len(rows) == len(list(itertools.product(*GRID.values())))
    assert rows == sorted(rows, key=lambda r: not r["meets_goals"])  # those meeting the goals first
    firmware = {
        "average_window_ms": config.RC_AVERAGE_WINDOW_MS, "detection_threshold": config.RC_DETECTION_THRESHOLD,
        "suppression_ms": config.RC_SUPPRESSION_MS, "minimum_count": config.RC_MINIMUM_COUNT,
    }  # fmt: skip
    row = next(r for r in rows if r["settings"] == firmware)
    ten = int8["keyword_streams"]["keywords-10dB"]
    assert row["min_hit_rate"] == min(ten["hit_rate"].get(k, 0.0) for k in ("yes", "no"))
    assert row["false_accepts_per_hour"] == int8["free"]["per_hour"]
    assert row["latency_median_ms"] == ten["latency_ms"]["median"]
    assert main([*args, "--snr", "5"]) == 2  # no 5 dB stream was made
    assert "no keyword stream at --snr 5" in capsys.readouterr().err


def test_rerun_reuses_every_stage(demo, fake_robot, capsys, monkeypatch):
    before = stage_mtimes(demo)
    calls = fake_robot.read_text()
    capsys.readouterr()
    monkeypatch.chdir(demo.parent)  # OUT given relative to the working directory: the same stages
    assert main(["pipeline", "--out", demo.name, *ARGS]) == 0
    out = capsys.readouterr().out
    for stage in ("features", "train", "export", "emulate", "streams", "robot"):
        assert f"[{stage}] cached" in out
    changed = {name for name, t in stage_mtimes(demo).items() if before[name] != t}
    assert changed <= {"firmware.json"}  # rewritten only while a variant is left to build
    assert fake_robot.read_text() == calls


def test_firmware_is_rebuilt_when_its_sources_change(demo, tmp_path, monkeypatch, capsys):
    source = tmp_path / "kernel.c"
    source.write_text("/* v1 */\n")
    monkeypatch.setattr(pipeline, "FIRMWARE_SOURCES", (*pipeline.FIRMWARE_SOURCES, source))
    args = ["pipeline", "--out", str(demo), *ARGS, "--stop-after", "firmware"]
    assert main(args) == 0  # the sources' digest changed: every variant is built again
    capsys.readouterr()
    assert main(args) == 0
    assert "int8: cached" in capsys.readouterr().out
    source.write_text("/* v2 */\n")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "int8: building" in out and "int8: cached" not in out


def test_interrupted_emulation_resumes(demo, capsys):
    """A journal cut in the middle of a line: finished clips are kept, the rest run again."""
    name = json.loads((demo / "variants.json").read_text())["variants"][0]["name"]
    clips = json.loads((demo / "emulate" / name / "clips.json").read_text())
    (journal,) = (demo / "emulate" / name).glob("journal-*.jsonl")
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:2]) + lines[2][:10])
    (demo / ".stages" / "emulate.json").unlink()
    (demo / "emulate" / name / "clips.json").unlink()
    assert main(["pipeline", "--out", str(demo), *ARGS, "--stop-after", "emulate"]) == 0
    assert json.loads((demo / "emulate" / name / "clips.json").read_text()) == clips


def test_robot_failure_fails_the_run_and_is_retried(demo, fake_robot, monkeypatch, capsys):
    (demo / ".stages" / "robot.json").unlink()
    monkeypatch.setenv("FAKE_ROBOT_EXIT", "1")
    capsys.readouterr()
    assert main(["pipeline", "--out", str(demo), *ARGS]) == 1
    captured = capsys.readouterr()
    assert "[robot] suite progress line" in captured.out
    assert "Robot suites failed: " in captured.err and "some failed" in captured.err
    assert "FAILED: Robot suites failed" in (demo / "report.md").read_text()
    calls = fake_robot.read_text().splitlines()
    assert calls[-1] == f"--build {demo} --out {demo / 'robot'} --backend unicorn"
    monkeypatch.setenv("FAKE_ROBOT_EXIT", "0")
    assert main(["pipeline", "--out", str(demo), *ARGS]) == 0
    assert len(fake_robot.read_text().splitlines()) == len(calls) + 1
    assert "FAILED" not in (demo / "report.md").read_text()


def test_robot_script_absent_is_skipped_with_the_reason(demo, monkeypatch, capsys):
    (demo / ".stages" / "robot.json").unlink()
    monkeypatch.setattr(pipeline, "ROBOT_SCRIPT", demo / "no-such-run.py")
    capsys.readouterr()
    assert main(["pipeline", "--out", str(demo), *ARGS]) == 0
    assert "[robot] SKIPPED: " in capsys.readouterr().out
    report = (demo / "report.md").read_text()
    assert "Robot suites skipped: " in report and "Status: skipped." in report


def test_bad_input_is_one_line(demo, tmp_path, capsys):
    capsys.readouterr()
    assert main(["pipeline", "--out", str(tmp_path / "x"), "--data", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing" in err[0] and "no such dataset directory" in err[0]
    # The same OUT with another corpus size: refused, the corpus left alone.
    before = stage_mtimes(demo)
    assert main(["pipeline", "--out", str(demo), *ARGS[:-1], "--per-word", "30"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corpus" in err[0] and "use another --out" in err[0]
    assert stage_mtimes(demo) == before


def test_train_eval_profile(demo, capsys):
    run = demo / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    # kws train with the same settings finds the pipeline's run finished and its augmented pool
    # (same stream context, same cache key) instead of building another.
    args = ["train", "--data", str(demo / "corpus"), "--out", str(run), "--cache", str(demo / "features")]
    assert main([*args, "--steps", "60", "--lr", "0.001", "--seed", "3"]) == 0
    assert len(list((demo / "features").glob("pool-*"))) == 1
    assert json.loads((run / "metrics.json").read_text()) == metrics
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(run / "model.pt"), "--data", str(demo / "corpus"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == metrics
    assert set(metrics["splits"]) == {"train", "validation", "test"}
    assert main(["profile", "--checkpoint", str(run / "model.pt"), "--repeats", "5", "--json"]) == 0
    latency = json.loads(capsys.readouterr().out)
    assert latency["device"] == "cpu" and latency["latency_us"]["median"] > 0


def test_profile_cuda_without_gpu_is_one_line(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the error path cannot be exercised")
    from model.train.tinyconv import TinyConv, save_checkpoint

    save_checkpoint(tmp_path / "m.pt", TinyConv(), {})
    assert main(["profile", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cuda" in err[0].lower()


def test_export_verify_and_firmware_build(demo, tmp_path, capsys):
    """The trained model, exported to int8, runs bit-exact in generated C on the corpus's test
    split and on edge cases, and builds into firmware that fits the nRF52840."""
    import numpy as np
    from wavs import pcm16, tone

    run = demo / "run"
    model = tmp_path / "tinyconv.tflite"
    assert (
        main(["export", "--checkpoint", str(run / "model.pt"), "--data", str(demo / "corpus"), "--out", str(model)])
        == 0
    )
    assert model.read_bytes() == (demo / "models" / "int8.tflite").read_bytes()  # the pipeline's export
    capsys.readouterr()
    assert main(["verify", "--model", str(model), "--data", str(demo / "corpus"), "--target", "host", "--json"]) == 0
    report_split = json.loads(capsys.readouterr().out)
    assert report_split["clips"] > 0 and report_split["bit_exact"] == report_split["clips"]
    assert report_split["mismatches"] == []

    edges = tmp_path / "edges"
    edges.mkdir()
    rng = np.random.default_rng(5)
    pcm16(edges / "silence.wav", np.zeros(16000, np.int16))
    pcm16(edges / "clipping.wav", np.clip(rng.normal(0, 30000, 16000), -32768, 32767).astype(np.int16))
    pcm16(edges / "square.wav", np.where(tone(freq=300) >= 0, 32767, -32768).astype(np.int16))
    pcm16(edges / "quiet.wav", rng.integers(-2, 3, 16000).astype(np.int16))
    pcm16(edges / "short.wav", tone(0.3, 500))
    for source in sorted((demo / "corpus" / "yes").glob("*.wav"))[:3]:
        pcm = np.frombuffer(source.read_bytes()[44:], "<i2")
        pcm16(edges / f"quiet_{source.name}", (pcm // 256).astype(np.int16))
    assert main(["verify", "--model", str(model), "--data", str(edges), "--target", "host", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"clips": 8, "bit_exact": 8, "mismatches": []}

    out = tmp_path / "fw"
    assert main(["firmware", "build", "--model", str(model), "--variant", "int8", "--out", str(out)]) == 0
    size = json.loads((out / "size.json").read_text())
    assert 0 < size["flash_bytes"] < size["flash_limit"] and 0 < size["ram_bytes"] < size["ram_limit"]
    assert (out / "kws.elf").read_bytes()[:4] == b"\x7fELF"

    # The same ELF in the Unicorn backend: contract 4's record, and bit-exact with the host.
    capsys.readouterr()
    elf = str(out / "kws.elf")
    assert (
        main(["emulate", "--elf", elf, "--wav", str(edges / "silence.wav"), str(edges / "square.wav"), "--json"]) == 0
    )
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["wav"] for r in records] == [str(edges / "silence.wav"), str(edges / "square.wav")]
    for record in records:
        assert len(record["scores"]) == 4 and record["label"] in ("silence", "unknown", "yes", "no")
        assert all(record["cycles"][k] > 0 for k in ("preprocess", "inference", "postprocess"))
        assert record["instructions"] > record["cycles"]["inference"]
        # the cycle model beside the instructions: every stage takes more cycles than instructions
        assert record["cycle_model"] and record["total_cycles"] > record["instructions"]
        for stage, cycles in record["cycles"].items():
            assert 0 < record["stage_instructions"][stage] < cycles
            assert record["ms"][stage] == pytest.approx(1000 * cycles / 64_000_000)
    args = ["verify", "--model", str(model), "--elf", elf, "--data", str(demo / "corpus"), "--json"]
    assert main(args) == 0
    firmware = json.loads(capsys.readouterr().out)
    assert firmware["clips"] == report_split["clips"] and firmware["bit_exact"] == firmware["clips"]


def test_emulate_renode_without_renode_is_one_line(tmp_path, capsys):
    if shutil.which("renode") or os.environ.get("RENODE"):
        pytest.skip("Renode is installed: the error path cannot be exercised")
    if not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc not installed")
    from test_elf import SILENT, assemble

    elf = assemble(tmp_path, SILENT)
    wav = tmp_path / "a.wav"
    from wavs import pcm16, tone

    pcm16(wav, tone())
    assert main(["emulate", "--elf", str(elf), "--wav", str(wav), "--backend", "renode"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Renode is not installed" in err[0]


def test_sources_digest_follows_sources_not_docs_or_bytecode(tmp_path):
    from model.pipeline.records import sources_digest

    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "conv.c").write_text("int x;\n")
    (tmp_path / "README.md").write_text("docs\n")
    before = sources_digest((tmp_path,))
    (tmp_path / "README.md").write_text("docs, edited\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "gen.cpython-311.pyc").write_bytes(b"\0")
    assert sources_digest((tmp_path,)) == before
    (tmp_path / "kernels" / "conv.c").write_text("int y;\n")
    assert sources_digest((tmp_path,)) != before
