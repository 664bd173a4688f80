"""Atomic outputs: complete or absent, never half-written; usual permissions."""

from __future__ import annotations

import os

import pytest

from model.atomic import atomic_directory, atomic_write_bytes


def test_write_replaces_and_uses_umask_permissions(tmp_path):
    path = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(path, b"one")
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["f.bin"]


def test_directory_kept_when_block_fails(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out) as tmp:
        (tmp / "a").write_text("first")
    with pytest.raises(RuntimeError), atomic_directory(out) as tmp:
        (tmp / "a").write_text("second")
        raise RuntimeError("boom")
    assert (out / "a").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with atomic_directory(out) as tmp:
        (tmp / "b").write_text("third")
    assert sorted(p.name for p in out.iterdir()) == ["b"]
