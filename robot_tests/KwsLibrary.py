"""The project's Robot keywords: what a variant of a BUILD must do, and the inputs to check it with.

Emulator keywords are Renode's (``${RENODEKEYWORDS}``); this library only prepares audio files,
knows the expected answers (host frontend + ``tflite_micro``, the stated cycle budgets, the flash
and RAM limits) and parses the firmware's protocol lines (contract 5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from kwsrobot.clips import Reference, dataset_clips, edge_clips
from kwsrobot.streams import FREE_SLOTS, SNR_DB, PlantedStream, host_heard, planted_stream, speech_stream
from kwsrobot.variants import read_build
from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import DotDict

from emulation.protocol import parse_line
from emulation.renode_backend import QUANTUM_S
from model import config
from model.deploy.firmware import size_report
from model.deploy.verify import Expected, check_result
from model.stream.metrics import false_accepts, tally

FRAME_CYCLES = config.CPU_HZ * config.STEP_MS // 1000  # one 20 ms frame of audio at 64 MHz
QUANTUM_CYCLES = round(QUANTUM_S * config.CPU_HZ)  # Renode's DWT step (kws.resource sets the quantum)


def _dwt_step() -> int:
    """Cycles per step of the DWT the suite reads: 1 on the Unicorn backend (exact); one time
    quantum under renode-test (Renode's CYCCNT follows virtual time, README "Renode"), where a
    timed interval reads up to one step off its exact count and a short stage can read 0."""
    keywords = BuiltIn().get_variable_value("${RENODEKEYWORDS}") or ""
    return 1 if keywords.endswith("unicorn.resource") else QUANTUM_CYCLES


def _fields(line: str, record: str) -> dict[str, str]:
    kind, fields = parse_line(line)
    if kind != record:
        raise AssertionError(f"expected a {record!r} line, got {line!r}")
    return fields


@library(scope="SUITE", auto_keywords=False)
class KwsLibrary:
    """Keywords about one firmware variant of a BUILD (robot_tests/run.py passes both)."""

    def __init__(self, build: str, variant: str) -> None:
        self.build = read_build(build)
        self.variant = self.build.variant(variant)
        self._stream: PlantedStream | None = None

    def _audio_dir(self) -> Path:
        out = Path(BuiltIn().get_variable_value("${OUTPUT DIR}")) / "audio" / self.variant.name
        out.mkdir(parents=True, exist_ok=True)
        return out

    # --- the variant ---

    @keyword
    def firmware_of_the_variant(self) -> str:
        """The variant's kws.elf."""
        if not self.variant.elf.is_file():
            raise AssertionError(f"{self.variant.elf}: no such firmware (was the variant built?)")
        return str(self.variant.elf)

    @keyword
    def flash_and_ram_should_fit_the_chip(self) -> None:
        """size.json is the ELF's own figures, and they fit the chip's 1 MiB flash and 256 KiB RAM."""
        import json

        recorded = json.loads(self.variant.size_json.read_text())
        actual = size_report(Path(self.firmware_of_the_variant()))
        if recorded != actual:
            raise AssertionError(f"{self.variant.size_json} does not describe {self.variant.elf}: rebuild the variant")
        if (actual["flash_limit"], actual["ram_limit"]) != (config.FLASH_BYTES, config.RAM_BYTES):
            raise AssertionError(f"size.json limits {actual['flash_limit']}/{actual['ram_limit']} are not the chip's")
        logger.info(
            f"flash {actual['flash_bytes']:,} / {config.FLASH_BYTES:,} bytes, RAM {actual['ram_bytes']:,} / "
            f"{config.RAM_BYTES:,} bytes"
        )
        for what in ("flash", "ram"):
            if actual[f"{what}_bytes"] > actual[f"{what}_limit"]:
                raise AssertionError(f"{what} {actual[f'{what}_bytes']:,} bytes exceed {actual[f'{what}_limit']:,}")

    @keyword
    def silence(self) -> str:
        """A second of digital silence as an s16le file."""
        path = self._audio_dir() / "silence.s16le"
        path.write_bytes(bytes(2 * config.CLIP_SAMPLES))
        return str(path)

    @keyword
    def boot_line_should_name_the_variant(self, line: str) -> None:
        fields = _fields(line, "boot")
        want = {"variant": self.variant.name, "kernels": self.variant.kernels}
        got = {key: fields.get(key) for key in want}
        if got != want:
            raise AssertionError(f"boot line says {got}, variants.json says {want}")

    # --- clips against the reference ---

    @keyword
    def reference_clips(self, per_class: int) -> list[DotDict]:
        """``per_class`` clips of every class plus the edge cases, each written as s16le for the PDM,
        with the checksum and scores the firmware must print."""
        reference = Reference(self.variant.model)
        clips = [*dataset_clips(self.build.data, int(per_class)), *edge_clips()]
        out = self._audio_dir()
        items = []
        for n, clip in enumerate(clips):
            path = out / f"clip{n:04d}.s16le"
            path.write_bytes(clip.pcm.astype("<i2").tobytes())
            expected = reference.expected(clip.pcm)
            items.append(
                DotDict(
                    name=clip.name,
                    label=clip.label,
                    file=str(path),
                    checksum=expected.checksum,
                    output=expected.output.tolist(),
                )
            )
        counts = {label: sum(c.label == label for c in clips) for label in dict.fromkeys(c.label for c in clips)}
        logger.info(f"{len(items)} clips: {counts}")
        return items

    @keyword
    def result_should_equal_the_reference(self, line: str, clip: DotDict) -> None:
        """The firmware's model input (its checksum) and scores are the host's, for ``clip``
        (model.deploy.verify.check_result: int8 bit for bit, float32 within the tolerance after rounding)."""
        dtype = np.int8 if self.variant.dtype == "int8" else np.float32
        mismatch = check_result(_fields(line, "result"), Expected(clip.checksum, np.array(clip.output, dtype=dtype)))
        if mismatch is None:
            return
        firmware = mismatch["firmware"]
        if mismatch["stage"] == "input":
            host = mismatch["host"]
            raise AssertionError(f"{clip.name}: model input checksum {firmware} on the firmware, {host} on the host")
        raise AssertionError(f"{clip.name}: firmware scores {firmware}, tflite_micro {mismatch['tflite_micro']}")

    # --- stage cycles ---

    @keyword
    def cycle_budget_of_the_variant(self) -> DotDict:
        """The variant's budget from resources/budgets.py, by dtype and kernels; a pruned model's
        inference budget from its conv channels or its nonzero weights."""
        key = self.variant.budget_key
        budgets = BuiltIn().get_variable_value("${BUDGETS}")
        if budgets is None or key not in budgets:
            raise AssertionError(f"no cycle budget stated for {key} in resources/budgets.py")
        budget = dict(budgets[key])
        for count, unit in ((self.variant.channels, "channel"), (self.variant.nonzero_weights, "nonzero")):
            if count:
                line = (BuiltIn().get_variable_value(f"${{PER_{unit.upper()}_INF}}") or {}).get(key)
                if line is None:
                    raise AssertionError(f"no per-{unit} inference budget stated for {key} in resources/budgets.py")
                budget["inf"] = int(line["fixed"] + count * line[f"per_{unit}"])
        return DotDict(budget)

    @keyword
    def stage_should_stay_within_budget(self, line: str, budget: DotDict, boot: str) -> None:
        """A ``profile`` line's worst case is positive (a DWT counts) and within the stage's budget;
        ``pre`` covers a PDM block of ``stride`` frames (boot line) and its budget is per frame."""
        fields = _fields(line, "profile")
        stage, worst = fields["stage"], int(fields["max"])
        per = int(_fields(boot, "boot").get("stride", 1)) if stage == "pre" else 1
        step = _dwt_step()
        logger.info(f"{stage}: min {int(fields['min']):,} avg {int(fields['avg']):,} max {worst:,} cycles / {per}")
        least = int(fields["min"])
        if worst <= 0 or least > worst or (step == 1 and least <= 0):
            raise AssertionError(f"{stage}: implausible cycle figures {fields} (is the DWT counting?)")
        if worst > budget[stage] * per + step - 1:
            raise AssertionError(
                f"{stage}: worst case {worst:,} cycles per {per} exceeds the budget of {budget[stage]:,} each"
            )

    @keyword
    def busy_time_should_fit_one_block(self, boot: str, line: str) -> None:
        """The firmware says it keeps real time, and the worst busy time of a PDM block since reset
        (``profile stage=busy`` ``peak``: frontend, model, recognizer and every line the block
        queued or waited for on the UART) is below one block's cycles (``stride`` x 20 ms at
        64 MHz): the firmware waits again before the next block ends. Logs the margin."""
        fields = _fields(boot, "boot")
        if fields.get("realtime") != "1":
            raise AssertionError(f"the firmware does not keep real time by its own measure: {boot}")
        block_cycles = FRAME_CYCLES * int(fields.get("stride", 1))
        busy = _fields(line, "profile")
        if busy.get("stage") != "busy" or int(busy.get("peak", 0)) <= 0:
            raise AssertionError(f"expected the busy cycles of PDM blocks (is the DWT counting?), got {line!r}")
        worst = int(busy["peak"])
        margin = block_cycles - worst
        logger.info(
            f"worst block busy {worst:,} of {block_cycles:,} cycles per block (window max {int(busy['max']):,}, "
            f"avg {int(busy['avg']):,}): margin {margin:,} cycles ({margin / block_cycles:.1%})"
        )
        if worst >= block_cycles:
            raise AssertionError(
                f"a PDM block kept the firmware busy {worst:,} cycles, a block lasts {block_cycles:,}: "
                f"it is not waiting when the next one ends, so blocks can be lost ({line})"
            )

    @keyword
    def stack_should_stay_within_its_reserve(self, line: str) -> None:
        """The ``profile stage=stack`` line's painted peak leaves ``${STACK_MARGIN}`` bytes of the reserve."""
        fields = _fields(line, "profile")
        peak, reserve = int(fields["peak"]), int(fields["reserve"])
        margin = int(BuiltIn().get_variable_value("${STACK_MARGIN}", 0))
        logger.info(f"stack peak {peak:,} of a {reserve:,}-byte reserve")
        if not 0 < peak <= reserve - margin:
            raise AssertionError(f"stack peak {peak:,} bytes leaves less than {margin} of the {reserve:,}-byte reserve")

    # --- streaming ---

    @keyword
    def speech_stream(self) -> str:
        """A few seconds of speech of every class over background noise, as an s16le file."""
        path = self._audio_dir() / "speech.s16le"
        path.write_bytes(speech_stream(self.build.data).astype("<i2").tobytes())
        return str(path)

    @keyword
    def keyword_stream_for(self, boot: str) -> DotDict:
        """The suite's keyword stream (test-split words drawn by a seed, kwsrobot.streams) as an s16le
        file, what is planted in it, and the heard lines the host engine computes for the firmware
        that printed ``boot`` (its pace)."""
        stride = int(_fields(boot, "boot").get("stride", 1))
        if self._stream is None:
            self._stream = planted_stream(self.build.data)
        stream = self._stream
        path = self._audio_dir() / "stream.s16le"
        path.write_bytes(stream.pcm.astype("<i2").tobytes())
        heard = [DotDict(vars(h)) for h in host_heard(stream, self.variant.model, stride)]
        planted = ", ".join(f"{p.word} at {p.speech_start_ms}-{p.speech_end_ms} ms" for p in stream.spec.planted)
        logger.info(f"{stream.seconds:g} s stream at {stream.spec.snr_db:g} dB: {planted}")
        said = ", ".join(f"{h.label} {h.score} at {h.t_ms} ms" for h in heard)
        logger.info(f"the host engine hears: {said or 'nothing'}")
        return DotDict(file=str(path), seconds=stream.seconds, heard=heard)

    @keyword
    def heard_line_should_equal(self, line: str, expected: DotDict) -> None:
        """A ``heard`` line's label, score and time are the host engine's."""
        fields = _fields(line, "heard")
        got = (fields["label"], int(fields["score"]), int(fields["t_ms"]))
        if got != (expected.label, expected.score, expected.t_ms):
            raise AssertionError(f"firmware: {line}; host engine: {dict(expected)}")

    @keyword
    def detection_should_meet_the_thresholds(self, boot: str) -> None:
        """On the test split's keyword stream (every keyword) and a keyword-free stream, both at the
        SNR variants.json names, the host engine (whose heard lines the firmware's equal) meets the
        variant's hit rate, wrong-label and false-accept thresholds (variants.json ``stream``)."""
        goals = self.variant.stream_thresholds
        if not goals:
            raise AssertionError(f"{self.build.root / 'variants.json'}: no stream thresholds for {self.variant.name}")
        if float(goals["snr_db"]) != SNR_DB:
            raise AssertionError(f"thresholds are for {goals['snr_db']} dB, the suite's streams are at {SNR_DB:g} dB")
        stride = int(_fields(boot, "boot").get("stride", 1))
        keywords = planted_stream(self.build.data, max_keywords=None)
        free = planted_stream(self.build.data, keywords=False, free_slots=FREE_SLOTS)
        summary = tally(keywords.spec, host_heard(keywords, self.variant.model, stride), 1500).summary()
        per_hour = false_accepts(host_heard(free, self.variant.model, stride)) * 3600 / free.seconds
        logger.info(f"{keywords.seconds:g} s keyword stream: {summary}; {per_hour:.1f} false accepts per hour")
        failures = [
            f"hit rate of {k} {r:.3f} < {goals['min_hit_rate']}"
            for k, r in summary["hit_rate"].items()
            if r < goals["min_hit_rate"]
        ]
        if summary["wrong_label_rate"] > goals["max_wrong_label_rate"]:
            failures.append(f"wrong-label rate {summary['wrong_label_rate']:.3f} > {goals['max_wrong_label_rate']}")
        if per_hour > goals["max_false_accepts_per_hour"]:
            failures.append(f"{per_hour:.1f} false accepts per hour > {goals['max_false_accepts_per_hour']}")
        if failures:
            raise AssertionError("; ".join(failures))

    @keyword
    def seconds_left_in_the_stream(self, stream: DotDict, timestamp_ms: float) -> int:
        """Whole virtual seconds from ``timestamp_ms`` to the end of ``stream`` (UART waits take whole seconds)."""
        return max(0, int(stream.seconds - float(timestamp_ms) / 1000))

    @keyword
    def skip_unless_the_firmware_keeps_real_time(
        self, boot: str, consequence: str = "its stream cannot be checked against the host engine"
    ) -> None:
        """Skips the test when the boot line says realtime=0, with the firmware's own figures."""
        fields = _fields(boot, "boot")
        if fields.get("realtime") != "1":
            BuiltIn().skip(
                f"the firmware does not keep real time (realtime={fields.get('realtime')}, model "
                f"{int(fields.get('boot_inf', 0)):,} cycles against a budget of {int(fields.get('budget', 0)):,}): "
                f"it drops audio, so {consequence}"
            )

    @keyword
    def no_block_should_be_dropped(self, line: str) -> None:
        """A ``heard`` line reports no PDM block lost since the stream began."""
        dropped = int(_fields(line, "heard")["dropped"])
        if dropped:
            raise AssertionError(f"{dropped} PDM blocks dropped by {line.split('t_ms=')[1].split()[0]} ms: {line}")
