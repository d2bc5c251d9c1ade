"""StoreWriter when things go wrong: a failed final write or swap keeps the previous store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import mmme.data.store as store_mod
from mmme.data.store import Store, StoreWriter
from mmme.errors import DiskFullError, StoreError


def _write(path: Path, trial: str) -> Store:
    with StoreWriter(path, dataset="test") as w:
        w.add_trials([{"subject": "S01", "session": "1", "trial": trial, "start_s": 1.0}])
    return Store(path)


def _listing(path: Path) -> dict[Path, int]:
    return {p.relative_to(path): p.stat().st_mtime_ns for p in path.rglob("*")}


def test_failed_final_write_keeps_previous_store_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "store"
    _write(path, "101")
    before = _listing(path)
    real = store_mod.write_parquet

    def disk_full(p, *a, **kw):
        if Path(p).name == "trials.parquet":
            raise OSError(28, "No space left on device")
        return real(p, *a, **kw)

    monkeypatch.setattr(store_mod, "write_parquet", disk_full)
    with pytest.raises(DiskFullError, match="no space left.*previous store is unchanged"):
        _write(path, "102")
    assert _listing(path) == before
    assert Store(path).trials["trial"].tolist() == ["101"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_failed_swap_puts_previous_store_back(tmp_path, monkeypatch):
    path = tmp_path / "store"
    _write(path, "101")
    real = os.replace

    def swap_fails(src, dst):
        if Path(src).name.startswith(".store.tmp-"):  # the swap, not the atomic file writes
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", swap_fails)
    with pytest.raises(PermissionError):
        _write(path, "102")
    monkeypatch.undo()
    assert Store(path).trials["trial"].tolist() == ["101"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert _write(path, "103").trials["trial"].tolist() == ["103"]


def test_writer_refuses_a_file_or_a_foreign_folder(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("keep")
    with pytest.raises(StoreError, match=r"notes\.txt is a file"):
        StoreWriter(f, dataset="test")
    d = tmp_path / "photos"
    d.mkdir()
    (d / "a.jpg").write_bytes(b"x")
    with pytest.raises(StoreError, match="not an mmme store"):
        StoreWriter(d, dataset="test")
    assert f.read_text() == "keep" and (d / "a.jpg").exists()
