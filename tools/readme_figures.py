"""The READMEs' figure blocks, regenerated from a ``make demo`` tree's records.

A figure block in a README sits between two markers and is never edited by hand::

    <!-- figures:train begin: python tools/readme_figures.py --build build/demo -->
    ...
    <!-- figures:train end -->

``--build DIR`` reads the records of a ``kws pipeline`` tree (``DIR/.stages/*.json``, and
``DIR/study/compress.json`` and ``DIR/study-same/compress.json`` where the README's
``kws compress`` commands wrote them), keeps what each block shows in
``docs/figures/<name>.json`` with the command, the machine (CPU model, cores), the commit and
the date, and renders the blocks into the READMEs. ``--check`` renders every block again from
those records and fails if a README differs: a figure changes only by regenerating it
(``tests/test_readme.py`` runs the check).

    python tools/readme_figures.py --build build/demo    # after make demo: new records, READMEs rewritten
    python tools/readme_figures.py --check               # READMEs equal their records
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "firmware/README.md")
RECORDS = ROOT / "docs" / "figures"
SCRIPT = "tools/readme_figures.py"
BLOCK = re.compile(
    r"<!-- figures:(?P<name>[\w-]+) begin: (?P<command>[^>]*?) -->\n(?P<body>.*?)<!-- figures:(?P=name) end -->\n",
    re.DOTALL,
)
CLASSES = ("silence", "unknown", "yes", "no")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _stage(build: Path, stage: str) -> dict[str, Any]:
    return _load(build / ".stages" / f"{stage}.json")["info"]


def _total(split: dict[str, Any]) -> dict[str, Any]:
    return {key: split["total"][key] for key in ("samples", "correct", "accuracy")}


# Each figure: what it reads from a tree (None when the tree lacks it) and how it renders.


def extract_train(build: Path) -> dict[str, Any] | None:
    if not (build / ".stages" / "train.json").is_file():
        return None
    info = _stage(build, "train")
    splits = info["metrics"]["splits"]
    return {
        "test": _total(splits["test"]),
        "per_class": {name: splits["test"]["per_class"][name] for name in CLASSES},
        "validation": _total(splits["validation"]),
        "best_step": info["best_step"],
        "steps_run": info["steps_run"],
        "seconds": info["seconds"],
        "corpus": _load(build / ".stages" / "corpus.json")["key"],
    }


def corpus_text(key: dict[str, Any]) -> str:
    """How the pipeline's corpus record says the corpus was made."""
    if "per_word" not in key:
        return f"`--data {key.get('data', '?')}`"
    options = f"--per-word {key['per_word']} --seed {key['seed']}"
    if "sources" not in key:  # recorded before the corpus had voice sources
        return f"`kws data synth {options}` of its time: espeak-ng voices only"
    return f"`kws data synth {options} --sources {','.join(key['sources'])} --augment {key['augment']}`"


def render_train(data: dict[str, Any]) -> str:
    test, validation = data["test"], data["validation"]
    rows = "".join(
        f"| {name} | {c['samples']} | {c['correct']} | {c['accuracy']:.3f} |\n" for name, c in data["per_class"].items()
    )
    return (
        f"On the synthetic corpus ({corpus_text(data['corpus'])}) the default recipe\n"
        f"reaches test accuracy {test['accuracy']:.3f} ({test['correct']} of {test['samples']} clips; best checkpoint "
        f"at step {data['best_step']:,} of {data['steps_run']:,},\nvalidation {validation['accuracy']:.3f} on "
        f"{validation['samples']}; training {data['seconds'] / 60:.1f} minutes):\n\n"
        "| class | test samples | correct | accuracy |\n| --- | ---: | ---: | ---: |\n" + rows
    )


def extract_firmware_size(build: Path) -> dict[str, Any] | None:
    if not (build / ".stages" / "firmware.json").is_file():
        return None
    variants = _stage(build, "firmware")["variants"]
    size = _stage(build, "train")["size"]
    return {
        "variants": {
            name: {key: variants[name]["size"][key] for key in ("flash_bytes", "ram_bytes")}
            for name in ("int8-ref", "int8", "float32", "int4")
            if name in variants and "size" in variants[name]
        },
        "weight_bytes": size["weight_bytes"],
        "activation_bytes": size["activation_bytes"],
    }


def estimate(data: dict[str, Any], dtype: str) -> str:
    return f"{data['weight_bytes'][dtype]:,} / {data['activation_bytes'][dtype]:,}"


def render_firmware_size(data: dict[str, Any]) -> str:
    names = {
        "int8-ref": ("int8, `--kernels reference`", "int8"),
        "int8": ("int8, `--kernels cortex_m4`", "int8"),
        "float32": ("float32, `--kernels reference`", "float32"),
        "int4": ("int4 weights, `--kernels cortex_m4`", "int4"),
    }
    rows = "".join(
        f"| {names[name][0]} | {v['flash_bytes']:,} | {v['ram_bytes']:,} | "
        f"{estimate(data, names[name][1]) if name != 'int4' else '—'} |\n"
        for name, v in data["variants"].items()
    )
    return (
        "| firmware | flash bytes | RAM bytes | `kws size`: weights / activations |\n| --- | ---: | ---: | --- |\n"
        + rows
    )


def extract_main_job(build: Path) -> dict[str, Any] | None:
    stages = build / ".stages"
    if not (stages / "emulate.json").is_file():
        return None
    seconds = {}
    from model.pipeline.records import STAGES

    for stage in STAGES[:-1]:  # the report's own time is not recorded
        if (stages / f"{stage}.json").is_file():
            seconds[stage] = _stage(build, stage).get("seconds")
    int8 = _stage(build, "emulate")["variants"]["int8"]
    return {
        "seconds": seconds,
        "pytorch": _total(_stage(build, "train")["metrics"]["splits"]["test"]),
        "tflite_int8": _total(_stage(build, "export")["models"]["int8"]["test"]),
        "firmware_int8": _total(int8["test"]),
        "bit_exact": [int8["matches_tflite_micro"], int8["clips"]],
        "ms": {stage: int8["cycles"][stage]["ms"] for stage in ("preprocess", "inference") if stage in int8["cycles"]},
        # The summary ends with the report's absolute path: the counts only.
        "robot": _stage(build, "robot")["summary"].split(";")[0] if (stages / "robot.json").is_file() else None,
    }


def render_main_job(data: dict[str, Any]) -> str:
    def acc(total: dict[str, Any]) -> str:
        return f"{total['accuracy']:.3f} ({total['correct']}/{total['samples']})"

    times = ", ".join(f"{stage} {s:.0f} s" for stage, s in data["seconds"].items() if s is not None)
    ms = data["ms"]
    return (
        f"Stage times: {times}; {sum(s for s in data['seconds'].values() if s is not None):,.0f} s in all.\n"
        f"Test accuracy: PyTorch {acc(data['pytorch'])}, int8 on tflite_micro "
        f"{acc(data['tflite_int8'])}, int8 on the emulated firmware {acc(data['firmware_int8'])} "
        f"({data['bit_exact'][0]} of {data['bit_exact'][1]} clips equal to tflite_micro);\nint8 firmware "
        f"{ms['preprocess']:.1f} ms preprocessing and {ms['inference']:.1f} ms "
        f"inference per 1 s clip at 64 MHz (modelled cycles, median);\nRobot: {data['robot'] or 'not run'}.\n"
    )


def extract_compress(build: Path, folder: str = "study") -> dict[str, Any] | None:
    path = build / folder / "compress.json"
    if not path.is_file():
        return None
    keys = ("method", "setting", "bits", "activation_bits", "channels", "weight_bytes", "nonzero_weights")
    rows = [{key: row.get(key) for key in keys} | {"test": _total(row["test"])} for row in _load(path)["variants"]]
    return {"variants": rows}


def render_compress(data: dict[str, Any]) -> str:
    """One line per setting: the variant without and with fine-tuning (PTQ → QAT, pruned → fine-tuned)."""
    rows = data["variants"]
    pairs = (("ptq", "qat", "weights {:g} bits"), ("prune", "prune+ft", "{:g} % of weights zeroed"))
    pairs += (("channels", "channels+ft", "{:g} conv channels"),)
    lines = [
        f"| float (`kws train`) | {rows[0]['weight_bytes']:,} | {rows[0]['test']['accuracy']:.3f} |\n"
        if rows[0]["method"] == "float"
        else ""
    ]
    for before, after, label in pairs:
        for row in (r for r in rows if r["method"] == before):
            tuned = next((r for r in rows if r["method"] == after and r["setting"] == row["setting"]), None)
            dense = " (dense)" if before == "prune" else ""
            result = f"{row['test']['accuracy']:.3f}" + (f" → {tuned['test']['accuracy']:.3f}" if tuned else "")
            setting = row["setting"] * 100 if before == "prune" else row["setting"]
            lines.append(f"| {label.format(setting)} | {row['weight_bytes']:,}{dense} | {result} |\n")
    head = "| variant | weight bytes | test accuracy (without → with fine-tuning) |\n| --- | ---: | --- |\n"
    return head + "".join(lines)


def extract_table5(build: Path) -> dict[str, Any] | None:
    """The pipeline's Table 5: its compress rows and, per firmware, the emulated inference and the ELF's size."""
    path = build / ".stages" / "compress.json"
    if not path.is_file():
        return None
    firmware = _stage(build, "firmware")["variants"]
    emulated = _stage(build, "emulate")["variants"] if (build / ".stages" / "emulate.json").is_file() else {}
    return {
        "rows": _load(path)["info"]["rows"],
        "firmware": {name: {"size": v["size"]} for name, v in firmware.items() if "size" in v},
        "emulate": {name: {"cycles": {"inference": v["cycles"]["inference"]}} for name, v in emulated.items()},
    }


def render_table5(data: dict[str, Any]) -> str:
    """The report's own Table 5 (model.pipeline.compress_report), as Markdown."""
    from model.pipeline.compress_report import table5
    from model.pipeline.document import to_markdown

    records = {"firmware": {"info": {"variants": data["firmware"]}}, "emulate": {"info": {"variants": data["emulate"]}}}
    return to_markdown(table5(records, data["rows"])[0], ROOT)


def extract_streams(build: Path) -> dict[str, Any] | None:
    """The streams stage's metrics per variant, when it ran."""
    path = build / ".stages" / "streams.json"
    if not path.is_file() or _load(path)["status"] != "done":
        return None
    return {"variants": _stage(build, "streams")["variants"]}


def render_streams(data: dict[str, Any]) -> str:
    """``kws stream eval --build``'s table, as the pipeline report shows it."""
    from model.stream.evaluate import variants_table

    return variants_table(data["variants"]) + "\n"


FIGURES: dict[str, tuple[Callable[[Path], dict[str, Any] | None], Callable[[dict[str, Any]], str]]] = {
    "train": (extract_train, render_train),
    "firmware-size": (extract_firmware_size, render_firmware_size),
    "main-job": (extract_main_job, render_main_job),
    "compress": (extract_compress, render_compress),
    "compress-same": (lambda build: extract_compress(build, "study-same"), render_compress),
    "table5": (extract_table5, render_table5),
    "streams": (extract_streams, render_streams),
}
SOURCES = {
    "train": "the pipeline tree `{build}` (`.stages/train.json`)",
    "firmware-size": "the pipeline tree `{build}` (`.stages/firmware.json`, `.stages/train.json`)",
    "main-job": "the pipeline tree `{build}` (`.stages/*.json`)",
    "compress": "`kws compress ... --out {build}/study` (*Compression*), its `compress.json`",
    "compress-same": "`kws compress ... --out {build}/study-same --activation-bits same`, its `compress.json`",
    "table5": "the pipeline tree `{build}` (`.stages/compress.json`, `firmware.json`, `emulate.json`)",
    "streams": "the pipeline tree `{build}` (`.stages/streams.json`, the streams stage)",
}


def machine() -> str:
    """The CPU model and core count, as /proc/cpuinfo gives them."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    return f"{model}, {os.cpu_count()} cores"


def commit() -> str:
    result = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def render(name: str, record: dict[str, Any]) -> str:
    """A block's body: the figures, then where they come from."""
    body = FIGURES[name][1](record["data"])
    note = f" ({record['note']})" if record.get("note") else ""
    stamp = (
        f"\n*Figures from {record['source']},\nwritten by `{record['command']}` at commit {record['commit']} on "
        f"{record['date']};\nmachine: {record['machine']}{note}.*\n"
    )
    return body + stamp


def blocks(text: str) -> list[re.Match[str]]:
    return list(BLOCK.finditer(text))


def rewrite(text: str, records: dict[str, dict[str, Any]]) -> str:
    """The README with every block that has a record rendered from it."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in records:
            return match.group(0)
        begin = f"<!-- figures:{name} begin: {match.group('command')} -->\n"
        return begin + render(name, records[name]) + f"<!-- figures:{name} end -->\n"

    return BLOCK.sub(replace, text)


def load_records(folder: Path = RECORDS) -> dict[str, dict[str, Any]]:
    return {path.stem: _load(path) for path in sorted(folder.glob("*.json"))}


def problems(root: Path = ROOT, folder: Path = RECORDS) -> list[str]:
    """Every block that names no known script or figure, has no record, or differs from its record."""
    records = load_records(folder)
    found = []
    for readme in READMES:
        text = (root / readme).read_text(encoding="utf-8")
        for match in blocks(text):
            name, command = match.group("name"), match.group("command")
            where = f"{readme}: figures:{name}"
            if SCRIPT not in command or not (ROOT / SCRIPT).is_file() or name not in FIGURES:
                found.append(f"{where}: names no figure of {SCRIPT} ({command!r})")
            elif name not in records:
                found.append(f"{where}: no record docs/figures/{name}.json")
            elif match.group("body") != render(name, records[name]):
                found.append(f"{where}: differs from docs/figures/{name}.json (rerun {command})")
    return found


def build_records(build: Path, command: str, note: str = "") -> dict[str, dict[str, Any]]:
    stamp = {
        "command": command,
        "note": note,
        "machine": machine(),
        "commit": commit(),
        "date": datetime.date.today().isoformat(),
    }
    records = {}
    for name, (extract, _) in FIGURES.items():
        data = extract(build)
        if data is not None:
            records[name] = {"source": SOURCES[name].format(build=build), **stamp, "data": data}
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, help="a make demo tree: record its figures and rewrite the READMEs")
    parser.add_argument("--check", action="store_true", help="fail unless every block equals its record")
    parser.add_argument("--note", default="", help="said after the machine, e.g. the load while the tree was made")
    args = parser.parse_args(argv)
    if args.build is not None:
        if not (args.build / ".stages").is_dir():
            print(f"readme_figures: {args.build}: not a kws pipeline tree (no .stages/)", file=sys.stderr)
            return 2
        records = build_records(args.build, f"python {SCRIPT} --build {args.build}", args.note)
        RECORDS.mkdir(parents=True, exist_ok=True)
        for name, record in records.items():
            (RECORDS / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        for readme in READMES:
            path = ROOT / readme
            path.write_text(rewrite(path.read_text(encoding="utf-8"), load_records()), encoding="utf-8")
        print(f"recorded {', '.join(records) or 'nothing'} from {args.build}")
    found = problems() if args.check or args.build is not None else []
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
