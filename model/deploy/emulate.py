"""``kws emulate``: classify WAV clips with the firmware ELF running in an emulator.

Each clip boots the firmware afresh and reaches it through the PDM microphone, as Renode feeds
audio (``sysbus.pdm SetInputFile``; see ``emulation.clip``): the firmware classifies the first
second it hears and its ``result`` line gives the four int8 scores, the label and the DWT cycles
of preprocessing, inference and post-processing. ``instructions`` counts everything the core
executed from reset to that line (boot, the boot-time timing run of the model and the wait for
the audio included). With ``--json``, one JSON object per clip and line (contract 4).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from model import config
from model.errors import BadInput


def clip_record(wav: Path, run) -> dict[str, Any]:
    """Contract 4's object for one clip from the firmware's ``result`` fields."""
    result = run.result
    return {
        "wav": str(wav),
        "scores": [int(v) for v in result["scores"].split(",")],
        "label": result["label"],
        "checksum": result["checksum"],
        "cycles": {
            "preprocess": int(result["pre"]),
            "inference": int(result["inf"]),
            "postprocess": int(result["post"]),
        },
        "instructions": run.instructions,
    }


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
    from emulation.clip import run_clip
    from emulation.errors import BackendUnavailable, EmulationError
    from model.data.audio import pad_or_trim, read_wav

    check_elf(elf)
    clips = [pad_or_trim(read_wav(wav, max_samples=config.CLIP_SAMPLES)) for wav in wavs]
    for wav, pcm in zip(wavs, clips, strict=True):
        try:
            run = run_clip(elf, pcm.astype("<i2").tobytes(), backend, strict=strict)
        except BackendUnavailable as exc:
            raise BadInput(None, f"--backend {backend}: {exc}") from None
        except EmulationError as exc:
            first = str(exc).strip().splitlines()[0]  # a fault's registers follow on the next lines
            raise BadInput(None, f"{first} (clip {wav})") from None
        yield clip_record(wav, run)


def run(args: argparse.Namespace) -> int:
    for record in emulate_wavs(Path(args.elf), [Path(w) for w in args.wav], args.backend, args.strict):
        _print(record, args.json)
    return 0


def _print(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(record))
    else:
        cycles = record["cycles"]
        print(
            f"{record['wav']}: {record['label']} scores={record['scores']} pre={cycles['preprocess']:,} "
            f"inf={cycles['inference']:,} post={cycles['postprocess']:,} cycles"
        )


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
