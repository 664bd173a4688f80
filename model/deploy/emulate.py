"""``kws emulate``: classify WAV clips with the firmware ELF running in an emulator.

Each clip boots the firmware afresh and reaches it through the PDM microphone, as Renode feeds
audio (``sysbus.pdm SetInputFile``; see ``emulation.clip``): the firmware classifies the first
second it hears and its ``result`` line gives the four int8 scores, the label and the DWT cycles
of preprocessing, inference and post-processing. On the Unicorn backend DWT counts modelled
Cortex-M4 cycles (README.md, "Cycle model"), and ``ms`` is them at the 64 MHz core clock; a second
run without the cycle model, where DWT counts executed instructions, gives the same stages in
``stage_instructions``. On Renode (one instruction per cycle) both are its instruction counts.
``instructions`` and ``total_cycles`` count everything from reset to the ``result`` line (boot,
the boot-time timing run of the model and the wait for the audio included). With ``--json``, one
JSON object per clip and line (contract 4).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from model import config
from model.errors import BadInput

#: Contract 4's stage names and the ``result`` line's keys for them.
STAGES = {"preprocess": "pre", "inference": "inf", "postprocess": "post"}


def _stages(run) -> dict[str, int]:
    return {stage: int(run.result[key]) for stage, key in STAGES.items()}


def clip_record(wav: Path, run, instructions_run=None) -> dict[str, Any]:
    """Contract 4's object for one clip from the firmware's ``result`` fields: DWT cycles per stage
    (modelled when ``run.cycles`` is not None) and ms at CPU_HZ; with ``instructions_run`` (the same
    clip without the cycle model) the stages' executed instructions beside them."""
    result = run.result
    cycles = _stages(run)
    record = {
        "wav": str(wav),
        "scores": [int(v) for v in result["scores"].split(",")],
        "label": result["label"],
        "checksum": result["checksum"],
        "cycles": cycles,
        "ms": {stage: 1000 * value / config.CPU_HZ for stage, value in cycles.items()},
        "instructions": run.instructions,
        "total_cycles": run.cycles,
        "cycle_model": run.cycles is not None,
    }
    if instructions_run is not None:
        record["stage_instructions"] = _stages(instructions_run)
    elif run.cycles is None:
        record["stage_instructions"] = dict(cycles)  # one instruction per DWT cycle
    return record


def check_elf(elf: Path) -> Path:
    """``elf`` if it is a Cortex-M firmware ELF (class, machine, entry, vector table), else BadInput."""
    from emulation.elf import FirmwareImage
    from emulation.errors import InvalidFirmware

    try:
        FirmwareImage(elf)
    except InvalidFirmware as exc:
        raise BadInput(None, str(exc)) from None
    except OSError as exc:
        raise BadInput(elf, f"cannot read: {exc.strerror}") from None
    return elf


def emulate_wavs(elf: Path, wavs: list[Path], backend: str, strict: bool = True):
    """Yield the contract-4 record of each WAV; every WAV is checked before the first run. A run
    that faults or ends without a result line is BadInput naming the ELF and what it printed last."""
    from emulation.errors import BackendUnavailable, EmulationError
    from model.data.audio import pad_or_trim, read_wav

    check_elf(elf)
    clips = [pad_or_trim(read_wav(wav, max_samples=config.CLIP_SAMPLES)) for wav in wavs]
    for wav, pcm in zip(wavs, clips, strict=True):
        try:
            yield _emulate_clip(elf, wav, pcm.astype("<i2").tobytes(), backend, strict)
        except BackendUnavailable as exc:
            raise BadInput(None, f"--backend {backend}: {exc}") from None
        except EmulationError as exc:
            first = str(exc).strip().splitlines()[0]  # a fault's registers follow on the next lines
            raise BadInput(None, f"{first} (clip {wav})") from None


def _emulate_clip(elf: Path, wav: Path, samples: bytes, backend: str, strict: bool) -> dict[str, Any]:
    """One clip's record: run with the cycle model, and again without it for the instructions per
    stage (the two runs must classify alike)."""
    from emulation.clip import run_clip
    from emulation.errors import EmulationError

    run = run_clip(elf, samples, backend, strict=strict)
    plain = run_clip(elf, samples, backend, cycle_model=False, strict=strict) if run.cycles is not None else None
    if plain is not None and any(plain.result[k] != run.result[k] for k in ("scores", "checksum")):
        raise EmulationError(f"{elf}: {wav} classifies differently with and without the cycle model")
    return clip_record(wav, run, plain)


def run(args: argparse.Namespace) -> int:
    for record in emulate_wavs(Path(args.elf), [Path(w) for w in args.wav], args.backend, args.strict):
        _print(record, args.json)
    return 0


def _print(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(record))
    else:
        stages = " ".join(
            f"{key}={record['cycles'][stage]:,} cycles ({record['ms'][stage]:.2f} ms, "
            f"{record['stage_instructions'][stage]:,} instructions)"
            for stage, key in STAGES.items()
        )
        print(f"{record['wav']}: {record['label']} scores={record['scores']} {stages}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="classify WAV clips with the firmware running in an emulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--elf", required=True, metavar="FILE", help="firmware ELF from kws firmware build")
    parser.add_argument("--wav", required=True, nargs="+", metavar="WAV", help="1 s (or shorter) 16 kHz WAV clips")
    parser.add_argument("--backend", choices=("unicorn", "renode"), default="unicorn", help="default unicorn")
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="unicorn: stop with an error on a store to flash, EasyDMA outside data RAM or an unmodelled "
        "peripheral register (default); --no-strict logs a warning and goes on",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per clip (contract 4)")
    parser.set_defaults(func=run)
