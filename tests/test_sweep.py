"""``kws sweep``: the sweep file's checks (one line naming the key, exit 2, before any trial), the
Pareto front against a brute-force one, and the tiny sweep (sweeps/tiny.toml) on a real Ray
cluster started here on loopback: every trial journalled, the deliberately failing one with its
reason, the report and the best variant written; a second run reruns no trial."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from model.cli import main
from model.sweep import results, spec
from model.sweep.tuning import longest_first

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "sweeps" / "tiny.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[space]\nwidth = [4]\n", "unknown key space.width"),
        ("[space]\nchannels = [0]\n", "space.channels: must be between 1 and 256, got 0"),
        ("[space]\nlr = ['fast']\n", "space.lr: expected float"),
        ("[space]\nsparsity = []\n", "space.sparsity: needs at least one value"),
        ("[chip]\nflash_bytes = 2000000\n", "chip.flash_bytes: must be between 1 and 1048576"),
        ("[chip]\nrealtime_margin = 1.5\n", "chip.realtime_margin: must be between 0.0 and 0.99"),
        ("[search]\nalgorithm = 'bayes'\n", "search.algorithm: one of grid, random, asha"),
        ("[model]\nchannels = 4\n", "unknown table [model]"),
        ("[space\n", "not valid TOML"),
    ],
)
def test_bad_sweep_file_is_one_line_exit_2(tmp_path, capsys, text, message):
    out = tmp_path / "out"
    assert main(["sweep", "--config", str(write(tmp_path, text)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not out.exists()  # refused before any work


def test_missing_ray_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    assert main(["sweep", "--config", str(TINY), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Ray is not installed" in err and err.count("\n") == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_address_is_one_line_exit_2(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is the optional extra 'sweep'")
    address = f"127.0.0.1:{free_port()}"
    assert main(["sweep", "--config", str(TINY), "--out", str(tmp_path / "out"), "--address", address]) == 2
    err = capsys.readouterr().err
    assert f"--address {address}: no Ray cluster reachable" in err and err.count("\n") == 1


def test_grid_and_random_trials_are_deterministic(tmp_path):
    text = "[space]\nchannels = [2, 4, 8]\nbits = [8, 4]\n[search]\nalgorithm = 'random'\nsamples = 4\nseed = 3\n"
    grid = spec.load(TINY).trials()
    assert len(grid) == 12 and len({t["id"] for t in grid}) == 12
    drawn = spec.load(write(tmp_path, text)).trials()
    assert drawn == spec.load(write(tmp_path, text)).trials()
    assert 1 <= len(drawn) <= 4 and all(t["channels"] in (2, 4, 8) and t["bits"] in (8, 4) for t in drawn)


def test_trials_go_to_ray_longest_first():
    base = {"bits": 8, "sparsity": 0.0, "prune_channels": 0, "finetune_steps": 100, "steps": 1000, "channels": 8}
    trials = [
        base | {"id": "short", "steps": 200},
        base | {"id": "narrow", "channels": 2},
        base | {"id": "plain"},
        base | {"id": "pruned", "prune_channels": 4},  # one fine-tuning more
        base | {"id": "quantized-and-sparse", "bits": 4, "sparsity": 0.5},  # two more
    ]
    assert [t["id"] for t in longest_first(trials)] == ["quantized-and-sparse", "pruned", "plain", "narrow", "short"]


def test_pareto_front_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        records = [
            {
                "status": "ok" if rng.random() > 0.2 else "failed",
                "metrics": {"accuracy": float(rng.integers(0, 5)) / 4, "inference_cycles": int(rng.integers(0, 6))},
            }
            for _ in range(n)
        ]
        ok = [r for r in records if r["status"] == "ok"]

        def dominated(r, ok=ok):
            a, c = r["metrics"]["accuracy"], r["metrics"]["inference_cycles"]
            return any(
                (o["metrics"]["accuracy"] >= a and o["metrics"]["inference_cycles"] <= c)
                and (o["metrics"]["accuracy"] > a or o["metrics"]["inference_cycles"] < c)
                for o in ok
            )

        expected = {(r["metrics"]["accuracy"], r["metrics"]["inference_cycles"]) for r in ok if not dominated(r)}
        front = results.pareto(records, "inference_cycles")
        assert {(r["metrics"]["accuracy"], r["metrics"]["inference_cycles"]) for r in front} == expected


def node_ip() -> str:
    """The address a Ray client on this machine takes for it: Ray replaces a loopback address it is
    given by the source address of the default route (the one a UDP socket towards the internet
    gets; no packet is sent), and keeps loopback on a machine without one (CI)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("8.8.8.8", 53))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


@pytest.fixture(scope="module")
def ray_cluster():
    """A Ray head on this machine (2 CPUs; on loopback where there is no network, else on the
    address Ray's client resolves loopback to), in its own process group, stopped after the tests."""
    pytest.importorskip("ray", reason="Ray is the optional extra 'sweep'")
    if any(shutil.which(tool) is None for tool in ("sox", "espeak-ng", "flite", "festival")):
        pytest.skip("needs sox, espeak-ng, flite and festival to synthesise the corpus (make setup)")
    port, ip = free_port(), node_ip()
    temp = tempfile.mkdtemp(prefix="kwsray-", dir="/tmp")  # Ray's socket paths must stay short
    ray = Path(sys.executable).with_name("ray")
    command = [str(ray), "start", "--head", "--block", f"--port={port}", f"--node-ip-address={ip}",
               "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]  # fmt: skip
    env = os.environ | RAY_ENV | {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    head = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        # Ready once a node is up (the GCS port opens before the head's raylet registers).
        status = [str(ray), "status", f"--address={ip}:{port}"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert head.poll() is None, "ray start exited"
            ready = subprocess.run(status, env=env, capture_output=True, text=True, timeout=60, check=False)
            if ready.returncode == 0 and "Active:" in ready.stdout:
                break
            time.sleep(2)
        yield f"{ip}:{port}"
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(10)  # `ray start --block` may not end on SIGTERM alone
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


#: The test cluster and its client share a token of their own: whatever ~/.ray/auth_token an earlier
#: Ray left, and whatever Ray state this pytest process holds, do not meet the cluster.
RAY_ENV = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}


def sweep_cli(args: list[str]) -> subprocess.CompletedProcess:
    """`kws sweep` in its own process, as a user runs it against a cluster."""
    env = os.environ | RAY_ENV | {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "model.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200, check=False)


@pytest.mark.slow
def test_tiny_sweep_on_a_local_ray_cluster_and_resume(ray_cluster, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", "--config", str(TINY), "--out", str(out), "--address", ray_cluster, "--no-progress"]
    first = sweep_cli(args)
    assert first.returncode == 0, first.stderr[-3000:]
    document = json.loads((out / "sweep.json").read_text())
    trials = document["trials"]
    assert len(trials) >= 6 and len({t["id"] for t in trials}) == len(trials)
    failed = [t for t in trials if t["status"] == "failed"]
    assert [t["reason"] for t in failed] == ["prune_channels 3 must be below channels 2"] * 2  # seeds 0 and 1
    ok = [t for t in trials if t["status"] == "ok"]
    assert len(ok) == len(trials) - 2
    for t in ok:
        m = t["metrics"]
        assert 0 <= m["accuracy"] <= 1 and m["inference_cycles"] > 0 and 0 < m["flash_bytes"] <= 1024 * 1024
        assert (out / "trials" / t["id"] / "kws.elf").read_bytes()[:4] == b"\x7fELF"
    report = (out / "report.md").read_text()
    assert "Pareto" in report and all(t["id"] in report for t in trials)
    assert (out / "pareto.png").read_bytes().startswith(b"\x89PNG")
    best = json.loads((out / "best" / "variants.json").read_text())
    assert best["trial"] == document["best"] and (out / "best" / "firmware" / "int8" / "kws.elf").is_file()
    assert (out / "best" / "run" / "model.pt").is_file() and (out / "best" / "models" / "int8.tflite").is_file()
    journal = (out / "trials.jsonl").read_text()
    again = sweep_cli(args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(trials)} trials, {len(trials)} already done" in again.stdout
    assert (out / "trials.jsonl").read_text() == journal  # no trial ran again
    assert json.loads((out / "sweep.json").read_text())["trials"] == trials
