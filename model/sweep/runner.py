"""Running the trials: data prepared once, trials on Ray Tune (or one after the other), a journal.

Data reach the trials through Ray's object store: the driver computes the features and reads the
validation clips once (cached in OUT/corpus and OUT/features across runs), and
``tune.with_parameters`` puts them in the object store, from which every worker on every node
reads them. Results come back to the driver in the trials' reports; the driver's journal
(OUT/trials.jsonl, one finished trial per line) is what a rerun resumes from: a trial whose id is
in it, finished or failed, is not run again.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from model.atomic import atomic_write_bytes, atomic_write_text
from model.errors import BadInput
from model.sweep.spec import Sweep
from model.sweep.trial import run_trial

JOURNAL = "trials.jsonl"
RAY_MISSING = "Ray is not installed: pip install -e '.[sweep]' (ray[tune]) to run sweeps"
#: The augmented pool's stream context, as the pipeline trains (TrainConfig's default).
STREAM_CONTEXT = 0.5


def corpus(sweep: Sweep, out: Path, progress: bool) -> Path:
    """The dataset: ``data.path``, or a corpus synthesised once into OUT/corpus."""
    if "path" in sweep.data:
        return Path(sweep.data["path"]).resolve()
    from model.data.synth import synthesize
    from model.data.voices import DEFAULT_SOURCES

    target = out / "corpus"
    key = {"per_word": sweep.data["per_word"], "seed": sweep.data["seed"], "sources": list(DEFAULT_SOURCES)}
    marker = out / "corpus.json"
    if not (target.is_dir() and marker.is_file() and json.loads(marker.read_text()) == key):
        synthesize(target, per_word=key["per_word"], seed=key["seed"], progress=progress)
        atomic_write_text(marker, json.dumps(key))
    return target.resolve()


def shared_data(sweep: Sweep, out: Path, progress: bool = False) -> dict[str, Any]:
    """What every trial reads: training data (features and augmented pool), the validation clips'
    audio and labels, and the chip's constraints. Plain numpy arrays, so Ray can ship them."""
    from model.train.batches import DATA_SETTINGS, load_train_data, open_dataset
    from model.train.training import TrainConfig

    data_dir = corpus(sweep, out, progress)
    defaults = TrainConfig(seed=sweep.data["seed"])
    settings = {key: getattr(defaults, key) for key in DATA_SETTINGS}
    data = load_train_data(
        data_dir, out / "features", settings, sweep.data["pool"], progress, stream_context=STREAM_CONTEXT
    )
    data.pool = np.ascontiguousarray(data.pool)  # from a memory map to an array the object store can hold
    dataset = open_dataset(data_dir, settings)
    examples = dataset.split("validation")[: sweep.data["validation_clips"] or None]
    if not examples:
        raise BadInput(sweep.path, f"data: the validation split of {data_dir} is empty (raise data.per_word)")
    clips = np.stack([dataset.load(example) for example in examples]).astype(np.int16)
    labels = np.array([example.label for example in examples], dtype=np.int64)
    return {"data": data, "clips": clips, "labels": labels, "chip": dict(sweep.chip), "corpus": str(data_dir)}


def read_journal(out: Path) -> dict[str, dict]:
    """Finished trials by id; a line cut short by an interruption is ignored (that trial reruns)."""
    records = {}
    path = out / JOURNAL
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[record["id"]] = record
    return records


def record_trial(out: Path, trial: dict[str, Any], result: dict[str, Any]) -> None:
    """Append a finished trial to the journal; its artifacts go to OUT/trials/<id>/."""
    result = dict(result)
    for name, encoded in result.pop("artifacts", {}).items():
        atomic_write_bytes(out / "trials" / trial["id"] / name, base64.b64decode(encoded))
    line = json.dumps({"id": trial["id"], "config": {k: v for k, v in trial.items() if k != "id"}, **result})
    with (out / JOURNAL).open("a") as handle:
        handle.write(line + "\n")


def run_sequential(trials: list[dict], shared: dict[str, Any], out: Path, say: Callable[[str], None]) -> None:
    """The trials one after the other in this process (no Ray): the benchmark's baseline."""
    for trial in trials:
        result = run_trial(trial, shared, lambda _metrics: None)
        record_trial(out, trial, result)
        say(_line(trial, result))


def _line(trial: dict[str, Any], result: dict[str, Any]) -> str:
    if result["status"] != "ok":
        return f"trial {trial['id']}: {result['status']}: {result.get('reason', '')}"
    m = result["metrics"]
    return (
        f"trial {trial['id']}: accuracy {m['accuracy']:.3f}, flash {m['flash_bytes']:,} B, "
        f"inference {m['inference_cycles']:,.0f} cycles{'' if result['fits'] else ' (does not fit)'}"
    )


def check_address(address: str) -> None:
    """BadInput unless something listens at ``address`` (host:port); ``auto`` and ray:// URLs are
    left to Ray. Checked with a short TCP connect, since ray.init retries for a long time."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise BadInput(None, f"--address {address!r}: expected HOST:PORT (the head's GCS port, 6379 by default)")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        raise BadInput(None, f"--address {address}: no Ray cluster reachable ({exc.strerror or exc})") from None


def _loopback_hint(address: str) -> str:
    """Ray's client replaces a loopback host by this machine's network address: a head bound to
    loopback alone (`ray start --node-ip-address=127.0.0.1`) is then out of its reach."""
    host = address.rpartition(":")[0]
    if host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        return (
            " (Ray connects to this machine's network address instead of loopback:"
            " start the head without --node-ip-address=127.0.0.1)"
        )
    return ""


def connect(address: str | None, cpus: int | None = None) -> None:
    """Join the cluster at ``address``, or start Ray on this machine with its cores (or ``cpus``)."""
    try:
        import ray
    except ImportError:
        raise BadInput(None, RAY_MISSING) from None
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # results stay in the journal
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report to Anyscale from a sweep
    if address:
        check_address(address)
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        except (ConnectionError, RuntimeError) as exc:
            raise BadInput(None, f"--address {address}: {str(exc).splitlines()[0]}{_loopback_hint(address)}") from None
    else:
        ray.init(  # "local": a new Ray on this machine, never a cluster some earlier `ray start` left running
            address="local",
            num_cpus=cpus or os.cpu_count(),
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
        )
