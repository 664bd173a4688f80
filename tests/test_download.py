"""``kws data download`` against a loopback HTTP server serving a tiny Speech Commands tarball."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from wavs import tone

from model.data import download as dl
from model.data.audio import read_wav, wav_bytes
from model.errors import BadInput

CLIPS = {
    "yes/0a7c2a8d_nohash_0.wav": tone(0.5, 500),
    "no/0a7c2a8d_nohash_0.wav": tone(1.0, 300),
    "up/bb05582b_nohash_1.wav": tone(0.8, 700),
    "_background_noise_/white_noise.wav": tone(2.0, 900, 0.1),
}


def tarball(members: dict[str, bytes], *, dirs: bool = True) -> bytes:
    """A .tar.gz with ``./<word>/`` folders like the real archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        if dirs:
            for folder in sorted({name.split("/")[0] for name in members if "/" in name}):
                info = tarfile.TarInfo(f"./{folder}")
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name if name.startswith("/") else f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


ARCHIVE = tarball({name: wav_bytes(pcm) for name, pcm in CLIPS.items()})


class Server:
    """Serves one file at /<name>; behaviour switches let tests break it in specific ways."""

    def __init__(self) -> None:
        self.body = ARCHIVE
        self.ranges = True  # honour Range requests
        self.cut_after: int | None = None  # send only this many bytes of the first response
        self.extra_length = 0  # lie about Content-Length
        self.unavailable = 0  # answer this many requests after a cut with 503
        self.requests: list[str | None] = []  # the Range header of every request
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != "/speech_commands_v0.02.tar.gz":
                    self.send_error(404)
                    return
                requested = self.headers.get("Range")
                server.requests.append(requested)
                if server.unavailable and server.cut_after is None:
                    server.unavailable -= 1
                    self.send_error(503)
                    return
                body, start = server.body, 0
                if requested and server.ranges:
                    start = int(requested.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload) + server.extra_length))
                self.end_headers()
                if server.cut_after is not None:
                    payload, server.cut_after = payload[: server.cut_after], None
                    self.close_connection = True
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/speech_commands_v0.02.tar.gz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def get(server: Server, out: Path, **kwargs) -> dict:
    return dl.download(out, server.url, progress=False, timeout=10, **kwargs)


def assert_dataset(out: Path) -> None:
    for name, pcm in CLIPS.items():
        assert np.array_equal(read_wav(out / name), pcm), name
    marker = json.loads((out / dl.MARKER).read_text())
    assert marker["sha256"] == hashlib.sha256(ARCHIVE).hexdigest()
    assert marker["files"] == len(CLIPS)
    assert not (out / ".downloads").exists()
    assert [p.name for p in out.parent.iterdir()] == [out.name], "temporary directories left behind"


def test_download_and_extract(server, tmp_path):
    out = tmp_path / "sc"
    info = get(server, out, sha256=hashlib.sha256(ARCHIVE).hexdigest())
    assert not info["already_present"]
    assert_dataset(out)
    assert server.requests == [None]


def test_second_run_is_a_no_op_through_the_cli(server, tmp_path, capsys):
    out = tmp_path / "sc"
    parser = argparse.ArgumentParser()
    dl.register(parser.add_subparsers())
    args = parser.parse_args(["download", "--out", str(out), "--url", server.url])
    assert args.func(args) == 0
    assert args.func(args) == 0
    assert "already complete" in capsys.readouterr().out
    assert len(server.requests) == 1


def test_resume_after_connection_cut(server, tmp_path):
    out = tmp_path / "sc"
    cut = len(ARCHIVE) // 3
    server.cut_after = cut
    server.unavailable = 1
    # The connection drops and the server is then down: the run fails but keeps the partial file ...
    with pytest.raises(BadInput) as err:
        get(server, out)
    assert err.value.path == server.url and "503" in err.value.reason
    assert (out / ".downloads" / "speech_commands_v0.02.tar.gz.part").stat().st_size == cut
    # ... which the next run completes with a Range request from where it stopped.
    get(server, out)
    assert server.requests == [None, f"bytes={cut}-", f"bytes={cut}-"]
    assert_dataset(out)


def test_resume_within_one_run(server, tmp_path):
    server.cut_after = 100
    get(server, tmp_path / "sc")
    assert server.requests == [None, "bytes=100-"]
    assert_dataset(tmp_path / "sc")


def test_server_without_range_support_restarts(server, tmp_path):
    server.ranges = False
    server.cut_after = len(ARCHIVE) // 2
    get(server, tmp_path / "sc")
    # The second request asked for a range, got the whole file with 200 and started over.
    assert server.requests == [None, f"bytes={len(ARCHIVE) // 2}-"]
    assert_dataset(tmp_path / "sc")


def test_stale_part_larger_than_file_restarts(server, tmp_path):
    part = tmp_path / "sc" / ".downloads" / "speech_commands_v0.02.tar.gz.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * (len(ARCHIVE) + 10))
    get(server, tmp_path / "sc")
    assert server.requests == [f"bytes={len(ARCHIVE) + 10}-", None]
    assert_dataset(tmp_path / "sc")


def test_size_mismatch(server, tmp_path):
    server.extra_length = 1000  # announces 1000 bytes more than it has
    with pytest.raises(BadInput) as err:
        get(server, tmp_path / "sc")
    # The resume request learns the real size (416, bytes */N): the file is not what was announced.
    assert server.url in str(err.value)
    assert err.value.reason == f"size mismatch: server announced {len(ARCHIVE) + 1000} bytes, then {len(ARCHIVE)}"
    assert not (tmp_path / "sc" / ".downloads" / "speech_commands_v0.02.tar.gz.part").exists()
    assert not (tmp_path / "sc" / "yes").exists()


def test_short_body_without_range_support(server, tmp_path):
    server.ranges = False
    server.extra_length = 1000  # every response stops 1000 bytes short
    with pytest.raises(BadInput) as err:
        get(server, tmp_path / "sc", attempts=2)
    assert (
        err.value.reason
        == f"download incomplete after {len(ARCHIVE)} of {len(ARCHIVE) + 1000} bytes: connection closed"
    )
    assert len(server.requests) == 3  # the first response, then two without progress


def test_sha256_mismatch(server, tmp_path):
    with pytest.raises(BadInput, match="SHA-256 mismatch"):
        get(server, tmp_path / "sc", sha256="0" * 64)
    assert not (tmp_path / "sc").exists()


def test_http_error_names_url(server, tmp_path):
    with pytest.raises(BadInput) as err:
        dl.download(tmp_path / "sc", server.url + ".missing", progress=False)
    assert err.value.path == server.url + ".missing" and "404" in err.value.reason
    assert not (tmp_path / "sc").exists()


def corrupt(archive: bytes) -> bytes:
    """Flip bytes in the middle of the deflate stream (the gzip CRC no longer matches)."""
    middle = len(archive) // 2
    return archive[:middle] + bytes(b ^ 0xFF for b in archive[middle : middle + 16]) + archive[middle + 16 :]


@pytest.mark.parametrize(
    "body",
    [corrupt(ARCHIVE), ARCHIVE[:-6], b"this is not gzip at all" * 10, gzip.compress(b"not a tar file" * 100)],
    ids=["flipped", "truncated", "not-gzip", "not-tar"],
)
def test_corrupt_archive_leaves_nothing(server, tmp_path, body):
    server.body = body
    out = tmp_path / "sc"
    with pytest.raises(BadInput) as err:
        get(server, out)
    assert "corrupt archive" in err.value.reason
    assert err.value.path.endswith("speech_commands_v0.02.tar.gz")
    assert list(tmp_path.iterdir()) == [], "output or temporary directories left behind"


def test_failure_keeps_earlier_results(server, tmp_path):
    out = tmp_path / "sc"
    (out / "yes").mkdir(parents=True)
    (out / "yes" / "mine.wav").write_bytes(b"earlier result")
    server.body = corrupt(ARCHIVE)
    with pytest.raises(BadInput):
        get(server, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["yes", "yes/mine.wav"]
    assert (out / "yes" / "mine.wav").read_bytes() == b"earlier result"
    assert [p.name for p in tmp_path.iterdir()] == ["sc"]


@pytest.mark.parametrize("name", ["/etc/evil.wav", "../evil.wav", "yes/../../evil.wav"])
def test_unsafe_member_path_refused(server, tmp_path, name):
    server.body = tarball({"yes/a_nohash_0.wav": wav_bytes(tone()), name: b"boom"}, dirs=False)
    with pytest.raises(BadInput, match="unsafe path"):
        get(server, tmp_path / "data" / "sc")
    assert not (tmp_path / "evil.wav").exists() and not (tmp_path / "data" / "evil.wav").exists()
    assert list((tmp_path / "data").iterdir()) == []


def test_links_refused(server, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("yes/link.wav")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    server.body = buffer.getvalue()
    with pytest.raises(BadInput, match="link or device"):
        get(server, tmp_path / "sc")
