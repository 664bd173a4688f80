"""The ``kws`` command line: help, usage errors and bad input as one line with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from wavs import pcm16, tone, wav_file


def kws(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_help_lists_commands():
    result = kws("--help")
    assert result.returncode == 0
    assert "data" in result.stdout
    for sub in ("synth", "download", "plot"):
        result = kws("data", sub, "--help")
        assert result.returncode == 0, result.stderr
        assert "--out" in result.stdout


def test_usage_error_is_one_line_exit_2():
    result = kws("data", "plot")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: wav_file(p, b"\x00" * 400, channels=2), "2 channels"),
        (lambda p: wav_file(p, b"\x00" * 300, bits=24), "24-bit"),
        (lambda p: pcm16(p, tone(), rate=8000), "sample rate 8000 Hz"),
    ],
)
def test_plot_bad_input_writes_nothing(tmp_path, make, reason):
    good = pcm16(tmp_path / "good.wav", tone())
    bad = tmp_path / "bad.wav"
    make(bad)
    out = tmp_path / "out"
    result = kws("data", "plot", str(good), str(bad), "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bad) in lines[0] and reason in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_plot_writes_figures(tmp_path):
    (tmp_path / "yes").mkdir()
    loud = pcm16(tmp_path / "yes" / "clip.wav", tone(freq=700, amplitude=0.9))
    quiet = pcm16(tmp_path / "clip.wav", (tone(freq=700, amplitude=0.9) // 64).astype(np.int16))
    out = tmp_path / "figs"
    result = kws("data", "plot", str(loud), str(quiet), "--out", str(out))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["comparison.png", f"{tmp_path.name}_clip.png", "yes_clip.png"])
    for name in names:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _dataset(root, words, long_clip=False):
    for word in words:
        (root / word).mkdir(parents=True)
        for speaker in ("aaaa0001", "bbbb0002", "cccc0003"):
            pcm16(root / word / f"{speaker}_nohash_0.wav", tone(0.5, 300 + 50 * len(word)))
    (root / "_background_noise_").mkdir()
    pcm16(root / "_background_noise_" / "noise.wav", tone(3.0, 100, 0.1))
    if long_clip:
        pcm16(root / words[0] / "dddd0004_nohash_0.wav", tone(1.25))
    return root


def test_dataset_missing_wanted_word_is_one_line(tmp_path):
    data = _dataset(tmp_path / "sc", ["yes", "up"])
    out = tmp_path / "run"
    result = kws("train", "--data", str(data), "--out", str(out), "--steps", "5", "--lr", "0.001")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(data) in lines[0] and "'no'" in lines[0]
    assert not out.exists()


def test_dataset_clip_longer_than_one_second_is_one_line(tmp_path):
    data = _dataset(tmp_path / "sc", ["yes", "no", "up"], long_clip=True)
    out = tmp_path / "demo"
    result = kws("pipeline", "--data", str(data), "--out", str(out))
    assert result.returncode == 2, result.stderr
    # Progress bars of the work done before the bad clip came up may precede the error line.
    lines = [line for line in result.stderr.splitlines() if line.startswith("kws:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "dddd0004_nohash_0.wav" in lines[0] and "1.250 s long, at most 1 s" in lines[0]
    assert not (out / "report.md").exists()


@pytest.mark.parametrize(
    ("argv", "option", "reason"),
    [
        ("train --data D --out R --threads 0", "--threads", "between 1 and 256, got 0"),
        ("train --data D --out R --channels 0", "--channels", "between 1 and 256, got 0"),
        ("train --data D --out R --dropout 1.5", "--dropout", "in [0, 1), got 1.5"),
        ("train --data D --out R --steps 100,-5", "--steps", "at least 1, got -5"),
        ("train --data D --out R --lr 0.1,nan", "--lr", "finite number"),
        ("train --data D --out R --stream-context 2", "--stream-context", "in [0, 1], got 2"),
        ("train --data D --out R --testing-pct 101", "--testing-pct", "between 0 and 100"),
        ("train --data D --out R --batch-size x", "--batch-size", "not an integer: 'x'"),
        ("export --checkpoint C --data D --out F --threads 0", "--threads", "got 0"),
        ("eval --checkpoint C --data D --threads 0", "--threads", "got 0"),
        ("profile --checkpoint C --repeats 0", "--repeats", "at least 1, got 0"),
        ("compress --checkpoint C --data D --out O --sparsity 0.5,1.0", "--sparsity", "in (0, 1), got 1"),
        ("compress --checkpoint C --data D --out O --bits 8,1", "--bits", "between 2 and 8, got 1"),
        ("compress --checkpoint C --data D --out O --channels 0", "--channels", "at least 1, got 0"),
        ("data synth --out O --per-word 0", "--per-word", "at least 1, got 0"),
        ("pipeline --out O --steps 10,", "--steps", "comma-separated"),
        ("pipeline --out O --variant-clips -1", "--variant-clips", "at least 0, got -1"),
        ("pipeline --out O --compress-sparsity 1.0", "--compress-sparsity", "in (0, 1), got 1"),
        ("pipeline --out O --compress-bits 1", "--compress-bits", "between 2 and 8, got 1"),
        ("pipeline --out O --compress-steps -1", "--compress-steps", "at least 0, got -1"),
        ("pipeline --out O --compress-norm l3", "--compress-norm", "invalid choice: 'l3'"),
        ("compress --checkpoint C --data D --out O --norm l3", "--norm", "invalid choice: 'l3'"),
        ("pipeline --out O --sources espeak-ng,mbrola", "--sources", "unknown source 'mbrola'"),
        ("data synth --out O --sources ,flite", "--sources", "comma-separated"),
        ("loso --data D --out O --speed-perturb 0.5", "--speed-perturb", "in [0, 0.5), got 0.5"),
        ("train --data D --out R --speed-perturb -0.1", "--speed-perturb", "got -0.1"),
        ("train --data D --out R --time-shift 600", "--time-shift", "in [0, 500], got 600"),
        ("train --data D --out R --background-volume 1.5", "--background-volume", "in [0, 1], got 1.5"),
        ("export --checkpoint C --data D --out O --weight-bits 3", "--weight-bits", "must be 8 or 4, got '3'"),
    ],
)
def test_bad_option_values_stop_before_any_work(tmp_path, monkeypatch, capsys, argv, option, reason):
    """Ranges are checked when the options are read: one line naming the option, exit 2, nothing written."""
    from model.cli import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv.split())
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"argument {option}: " in lines[0] and reason in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_int4_weights_of_a_float_model_are_refused(tmp_path, capsys):
    from model.cli import main

    code = main(["export", "--checkpoint", "C", "--data", "D", "--out", str(tmp_path / "m.tflite"), "--float",
                 "--weight-bits", "4"])  # fmt: skip
    assert code == 2 and "--weight-bits 4 needs an integer model" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_split_percentages_that_leave_no_training_data_are_refused(tmp_path, capsys):
    from model.cli import main

    code = main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--validation-pct", "50",
                 "--testing-pct", "50"])  # fmt: skip
    assert code == 2
    assert "leave no training split" in capsys.readouterr().err


def _pickled_object(path):
    import datetime
    import pickle

    path.write_bytes(pickle.dumps({"when": datetime.datetime(2026, 1, 1)}))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(np.random.default_rng(0).bytes(3000)), "not a TinyConv checkpoint: "),
        (lambda p: p.write_bytes(b""), "not a TinyConv checkpoint: unreadable"),
        (_pickled_object, "not a TinyConv checkpoint: torch's safe loader refused it"),
    ],
)
def test_a_file_that_is_no_checkpoint_is_one_line(tmp_path, capsys, make, reason):
    from model.cli import main

    bad = tmp_path / "model.pt"
    make(bad)
    assert main(["size", "--checkpoint", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"kws: {bad}: ") and reason in err, err


def test_codegen_out_naming_a_file_is_refused(tmp_path, capsys):
    from model.cli import main

    existing = tmp_path / "existing"
    existing.write_text("keep me")
    assert main(["codegen", "--model", str(tmp_path / "m.tflite"), "--out", str(existing)]) == 2
    assert "must be a directory" in capsys.readouterr().err and existing.read_text() == "keep me"


def _options_with_defaults(parser, path=("kws",)):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options_with_defaults(sub, (*path, name))
        elif action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            yield " ".join(path), action


def test_every_default_is_shown_in_help():
    """Each option with a default says it in its help: '(default X)', 'default X' or '(X...'."""
    from model.cli import build_parser

    silent = []
    for command, action in _options_with_defaults(build_parser()):
        default = ",".join(map(str, action.default)) if isinstance(action.default, list) else str(action.default)
        if "default" not in (action.help or "") and f"({default}" not in (action.help or ""):
            silent.append(f"{command} {action.option_strings[-1]}")
    assert not silent, silent
