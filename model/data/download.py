"""``kws data download``: fetch and extract Speech Commands v0.02, resumably and atomically.

The archive (over 2 GB) streams to ``OUT/.downloads/<name>.part``. An interrupted transfer
resumes from the size of the ``.part`` with an HTTP Range request, both within a run (a few
retries while bytes keep arriving) and across runs; a server that ignores Range and answers
200 makes us start over. The byte count is checked against Content-Length / Content-Range.

Integrity: extraction decompresses the whole gzip stream, whose trailer carries a CRC-32 and
the length, so a damaged archive fails there; ``--sha256`` additionally pins the exact file.
Extraction goes to a temporary sibling of OUT that replaces OUT only when complete (the
``.downloads`` folder, and with it the archive, go away with the old OUT), so a failure never
leaves a half dataset and never touches an earlier one. Member paths that are absolute, climb
out with ``..``, or are links or devices are refused.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import http.client
import json
import re
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from model import config
from model.atomic import atomic_directory
from model.errors import BadInput

MARKER = ".kws-download.json"
CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


def archive_name(url: str) -> str:
    name = PurePosixPath(urlsplit(url).path).name
    return name or "archive.tar.gz"


def is_complete(out: Path, url: str, sha256: str | None = None) -> bool:
    """Whether OUT already holds a dataset extracted from ``url`` (with that SHA-256, if given)."""
    try:
        marker = json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker.get("url") == url and (sha256 is None or marker.get("sha256") == sha256.lower())


class _Body(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class _Restart(Exception):
    """The .part cannot be resumed (server changed or ignored the range): start from byte 0."""


def _open(url: str, offset: int, timeout: float) -> tuple[_Body, int, int | None]:
    """Request ``url`` from ``offset``: the response, the offset it really starts at, the total size."""
    headers = {"User-Agent": "kws-data-download/1", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        if exc.code == 416 and offset:
            # Our .part is at or past the end: complete if the server's size equals it, else stale.
            match = _UNSATISFIED_RANGE.match(exc.headers.get("Content-Range", ""))
            exc.close()
            if match and int(match.group(1)) == offset:
                return _EMPTY, offset, offset
            raise _Restart from None
        raise BadInput(url, f"HTTP {exc.code} {exc.reason}") from None
    except URLError as exc:
        raise BadInput(url, f"cannot connect: {getattr(exc.reason, 'strerror', None) or exc.reason}") from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise BadInput(url, f"cannot connect: {exc}") from None
    length = response.headers.get("Content-Length")
    if response.status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            response.close()
            raise _Restart
        total = None if match.group(3) == "*" else int(match.group(3))
        return response, offset, total
    return response, 0, int(length) if length is not None else None


class _Empty:
    """Stands in for a response with no body (the .part was already complete)."""

    def read(self, size: int = -1, /) -> bytes:
        return b""

    def close(self) -> None:
        pass


_EMPTY = _Empty()


def fetch(url: str, part: Path, *, attempts: int = 5, timeout: float = 60.0, progress: bool = True) -> int:
    """Bring ``part`` to the full size of ``url``, resuming from what it holds; returns the size.

    A transfer that ends early (connection closed or reset, timeout) is resumed in the same run
    as long as each attempt brings new bytes, up to ``attempts`` attempts without progress.
    """
    from tqdm import tqdm

    part.parent.mkdir(parents=True, exist_ok=True)
    failures = 0
    announced: int | None = None  # the size the server gave first in this run
    while True:
        have = part.stat().st_size if part.exists() else 0
        try:
            response, start, total = _open(url, have, timeout)
        except _Restart:
            part.unlink(missing_ok=True)
            failures += 1
            if failures >= attempts:
                raise BadInput(url, "server keeps refusing to resume the download") from None
            continue
        if total is not None:
            if announced is not None and total != announced:
                part.unlink(missing_ok=True)
                raise BadInput(url, f"size mismatch: server announced {announced} bytes, then {total}")
            announced = total
        got = start
        bar = tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=part.name.removesuffix(".part"), disable=not progress)  # fmt: skip
        error = "connection closed"
        try:
            with open(part, "ab" if start else "wb") as handle:
                while chunk := response.read(CHUNK):
                    handle.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
        except (http.client.IncompleteRead, ConnectionError, TimeoutError) as exc:
            error = exc.__class__.__name__
        else:
            if total is None or got == total:
                return got
            if got > total:
                part.unlink()
                raise BadInput(url, f"size mismatch: received {got} bytes, server announced {total}")
        finally:
            bar.close()
            response.close()
        # Short: keep what arrived and resume while the server keeps delivering bytes.
        failures = 0 if got > have else failures + 1
        if failures >= attempts:
            where = f"{got} of {total} bytes" if total is not None else f"{got} bytes"
            raise BadInput(url, f"download incomplete after {where}: {error}")


class _HashingReader:
    """A read-only file wrapper that feeds everything read through SHA-256."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.hash.update(data)
        return data


def _safe_member(archive: Path, member: tarfile.TarInfo) -> PurePosixPath:
    """The member's relative path; BadInput for anything that could write outside the target."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise BadInput(archive, f"unsafe path in archive: {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise BadInput(archive, f"unsupported member in archive (link or device): {member.name!r}")
    return path


def extract(archive: Path, target: Path) -> tuple[int, str]:
    """Extract a .tar.gz into ``target``; returns (files written, SHA-256 of the archive).

    Streams once through the archive: hashing, decompressing (the gzip trailer's CRC and length
    are checked at the end of the stream) and writing files.
    """
    files = 0
    with open(archive, "rb") as raw:
        hashing = _HashingReader(raw)
        try:
            with (
                gzip.GzipFile(fileobj=hashing, mode="rb") as unzipped,
                tarfile.open(fileobj=unzipped, mode="r|") as tar,
            ):
                for member in tar:
                    relative = _safe_member(archive, member)
                    dest = target.joinpath(*relative.parts) if relative.parts else target
                    if member.isdir():
                        dest.mkdir(parents=True, exist_ok=True)
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    with source, open(dest, "wb") as handle:
                        shutil.copyfileobj(source, handle, CHUNK)
                    files += 1
                # The tar end marker comes before the gzip trailer: read on to verify CRC and length.
                while unzipped.read(CHUNK):
                    pass
        except (gzip.BadGzipFile, EOFError, zlib.error, tarfile.TarError) as exc:
            raise BadInput(archive, f"corrupt archive: {str(exc) or exc.__class__.__name__}") from None
        while hashing.read(CHUNK):
            pass
    return files, hashing.hash.hexdigest()


def download(
    out: Path,
    url: str = config.SPEECH_COMMANDS_URL,
    sha256: str | None = None,
    *,
    attempts: int = 5,
    timeout: float = 60.0,
    progress: bool = True,
) -> dict:
    """Download and extract ``url`` into ``out``; a no-op if already there. Returns the marker info."""
    out = Path(out)
    if is_complete(out, url, sha256):
        return {**json.loads((out / MARKER).read_text()), "already_present": True}
    existed = out.exists()
    downloads = out / ".downloads"
    archive = downloads / archive_name(url)
    part = archive.with_name(archive.name + ".part")
    try:
        if not archive.exists():
            fetch(url, part, attempts=attempts, timeout=timeout, progress=progress)
            part.replace(archive)
        with atomic_directory(out) as tmp:
            files, digest = extract(archive, tmp)
            if sha256 is not None and digest != sha256.lower():
                raise BadInput(url, f"SHA-256 mismatch: expected {sha256.lower()}, got {digest}")
            if not any(tmp.glob("*/*.wav")):
                raise BadInput(archive, "no <word>/*.wav clips: not a Speech Commands archive")
            info = {"url": url, "archive": archive.name, "sha256": digest, "files": files}
            (tmp / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    except BadInput:
        # A complete but bad archive is useless for a retry; a partial .part is kept to resume.
        archive.unlink(missing_ok=True)
        for folder in (downloads, out if not existed else None):
            if folder is not None:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty
        raise
    return {**info, "already_present": False}


def run(args: argparse.Namespace) -> int:
    info = download(Path(args.out), args.url, args.sha256)
    if info["already_present"]:
        print(f"{args.out}: dataset already complete ({info['files']} files from {info['url']})")
    else:
        print(f"{args.out}: extracted {info['files']} files, sha256 {info['sha256']}")
    return 0


def _sha256_hex(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise argparse.ArgumentTypeError("expected 64 hex digits")
    return text.lower()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download",
        help="download and extract Speech Commands v0.02",
        description="Download Speech Commands v0.02 (resumable) and extract it atomically into OUT.",
    )
    parser.add_argument("--out", required=True, help="dataset directory (the archive is kept in OUT/.downloads)")
    parser.add_argument(
        "--url", default=config.SPEECH_COMMANDS_URL, help="archive URL (default: Speech Commands v0.02)"
    )
    parser.add_argument("--sha256", type=_sha256_hex, help="expected SHA-256 of the archive")
    parser.set_defaults(func=run)
