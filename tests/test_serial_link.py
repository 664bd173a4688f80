"""The serial link's protocol client (emulation.serial_link) against a scripted firmware port:
line assembly, commands and their retries, clip upload and its pacing, timeouts that say why."""

from __future__ import annotations

import time

import pytest

from emulation import serial_link
from emulation.serial_link import CHUNK_BYTES, FirmwareLink, LinkTimeout

CLIP_BYTES = 32000
_idle = time.sleep  # the scripted port's own wait, untouched when a test replaces time.sleep
RESULT = "result scores=1,2,3,4 label=yes checksum=0x00000001 pre=10 inf=20 post=30"


class ScriptedFirmware:
    """A port whose other side answers like the firmware: ``ok`` for known commands, ``error``
    for others, and a result line after ``clip uart`` and 32000 bytes. ``drop_first`` bytes of
    input are lost, as a UART without flow control may lose them."""

    def __init__(self, drop_first: int = 0, reply_chunk: int = 7) -> None:
        self.timeout: float | None = 0.1
        self.pending = bytearray()  # what the firmware has printed, not yet read
        self.line = bytearray()
        self.writes: list[bytes] = []
        self.clip_left = 0
        self.drop_first = drop_first
        self.reply_chunk = reply_chunk  # lines arrive split across reads
        self.commands: list[str] = []

    def print(self, line: str) -> None:
        self.pending += line.encode() + b"\r\n"

    def read(self, size: int = 1) -> bytes:
        if not self.pending:
            _idle(min(self.timeout or 0, 0.005))
            return b""
        n = min(size, self.reply_chunk)
        data, self.pending = bytes(self.pending[:n]), self.pending[n:]
        return data

    def reset_input_buffer(self) -> None:
        self.pending.clear()

    def write(self, data: bytes) -> int:
        self.writes.append(bytes(data))
        for byte in data:
            if self.drop_first:
                self.drop_first -= 1
                continue
            if self.clip_left:
                self.clip_left -= 1
                if not self.clip_left:
                    self.print(RESULT)
                continue
            if byte in b"\r\n":
                if self.line:
                    self.command(self.line.decode())
                self.line.clear()
            else:
                self.line.append(byte)
        return len(data)

    def command(self, text: str) -> None:
        self.commands.append(text)
        if text in ("mode clip", "mode stream", "clip uart"):
            cmd, arg = text.split()
            self.print(f"ok cmd={cmd} arg={arg}")
            if text == "clip uart":
                self.clip_left = CLIP_BYTES
        elif text == "profile":
            for stage in ("pre", "inf", "post"):
                self.print(f"profile stage={stage} n=1 min=5 max=9 avg=7")
            self.print("profile stage=stack peak=900 reserve=2048")
        else:
            self.print("error reason=unknown-command")


def link(port: ScriptedFirmware, pace: bool = False, **options) -> FirmwareLink:
    return FirmwareLink(port, "scripted", 115200, pace, **options)


def test_lines_are_assembled_across_reads_and_stripped_of_cr() -> None:
    port = ScriptedFirmware(reply_chunk=3)
    port.print("boot variant=int8")
    port.print("heard label=yes score=201 t_ms=1000 dropped=0")
    client = link(port)
    assert client.next_line(1) == "boot variant=int8"
    assert client.wait_for(r"^heard ", 1) == "heard label=yes score=201 t_ms=1000 dropped=0"
    assert client.next_line(0.05) is None


def test_forget_drops_what_came_before() -> None:
    port = ScriptedFirmware()
    port.print("boot variant=old")
    client = link(port)
    client.forget()
    port.print("boot variant=new")
    assert client.wait_for("^boot", 1) == "boot variant=new"


def test_command_returns_the_ok_line() -> None:
    port = ScriptedFirmware()
    assert link(port).command("mode clip") == "ok cmd=mode arg=clip"
    assert port.commands == ["mode clip"]


def test_lost_bytes_make_an_idempotent_command_retry_slower(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(serial_link.time, "sleep", sleeps.append)
    port = ScriptedFirmware(drop_first=3)  # "\rmo" lost: the firmware hears "de clip", an unknown command
    client = link(port, pace=True, byte_gap_s=0.001)
    assert client.command("mode clip", timeout_s=0.5) == "ok cmd=mode arg=clip"
    assert port.commands == ["de clip", "mode clip"]
    assert set(sleeps) == {0.001, 0.001 * serial_link.RETRY_SLOWDOWN}
    assert all(len(w) == 1 for w in port.writes), "paced commands go out a byte at a time"


def test_a_rejected_command_names_the_firmware_reply() -> None:
    with pytest.raises(LinkTimeout, match=r"reply to 'clip usb' \(it said: error reason=unknown-command\)"):
        link(ScriptedFirmware()).command("clip usb", timeout_s=0.2)


def test_clip_uart_is_not_retried() -> None:
    port = ScriptedFirmware(drop_first=4)
    with pytest.raises(LinkTimeout):
        link(port).command("clip uart", timeout_s=0.2)
    assert port.commands == ["p uart"]


def test_classify_sends_the_clip_and_returns_the_result() -> None:
    port = ScriptedFirmware()
    assert link(port).classify(bytes(CLIP_BYTES)) == RESULT
    assert port.clip_left == 0


def test_paced_clip_goes_in_chunks_against_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(serial_link.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    monkeypatch.setattr(serial_link.time, "monotonic", lambda: clock[0])
    port = ScriptedFirmware()
    client = link(port, pace=True, byte_gap_s=0.0, chunk_gap_s=0.002)
    client.command("mode clip")
    port.writes.clear()
    start = clock[0]
    client.classify(bytes(CLIP_BYTES))
    command, audio = port.writes[: -CLIP_BYTES // CHUNK_BYTES], port.writes[-CLIP_BYTES // CHUNK_BYTES :]
    assert b"".join(command) == b"\rclip uart\r"
    assert all(len(chunk) == CHUNK_BYTES for chunk in audio)
    wire = CHUNK_BYTES * serial_link.BITS_PER_BYTE / 115200
    assert clock[0] - start == pytest.approx((CLIP_BYTES // CHUNK_BYTES) * (wire + 0.002))


def test_a_lost_clip_byte_times_out_with_a_hint() -> None:
    port = ScriptedFirmware()
    client = link(port)
    client.command("mode clip")
    with pytest.raises(LinkTimeout, match=r"no result line within 0.2 s .*KWS_BOARD_CHUNK_GAP_MS"):
        client.classify(bytes(CLIP_BYTES - 1), timeout_s=0.2)


def test_profile_reads_every_stage() -> None:
    stages = link(ScriptedFirmware()).profile()
    assert list(stages) == ["pre", "inf", "post", "stack"]
    assert stages["inf"]["max"] == "9" and stages["stack"]["reserve"] == "2048"


def test_timeout_names_the_port_the_last_lines_and_the_other_side() -> None:
    port = ScriptedFirmware()
    port.print("boot variant=int8")
    client = link(port, describe=lambda: "the emulated board stopped: invalid memory read")
    with pytest.raises(LinkTimeout) as error:
        client.wait_for("^result", 0.1, "result line")
    assert str(error.value) == (
        "scripted: no result line within 0.1 s (last lines: boot variant=int8); "
        "the emulated board stopped: invalid memory read"
    )
