"""A damaged store: every read names the file and what is wrong; validate lists every problem."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmme.data.store import Store, check_npy
from mmme.data.validate import store_file_problems
from mmme.errors import StoreError, StoreFileError
from mmme.executor import Executor
from mmme.io.mmme import import_mmme
from mmme.io.validate import validate_path


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    from raw_builder import build_raw

    base = tmp_path_factory.mktemp("damaged")
    raw = build_raw(base / "raw")["root"]
    return import_mmme(raw, base / "store", executor=Executor(n_jobs=1, progress=False)).path


@pytest.fixture
def store(pristine, tmp_path) -> Path:
    shutil.copytree(pristine, tmp_path / "store")
    return tmp_path / "store"


def ses(store: Path) -> Path:
    return store / "sessions" / "S01" / "1"


def cut(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_intact_store_has_no_file_problems(store):
    assert store_file_problems(store) == []
    assert not [p for p in validate_path(store) if p.kind == "damaged_file"]


@pytest.mark.parametrize(
    ("damage", "file", "what", "read"),
    [
        (lambda s: (s / "store.json").write_text("{x"), "store.json", "not valid JSON",
         lambda s: Store(s)),
        (lambda s: (s / "store.json").write_text("[1, 2]"), "store.json",
         "not a JSON object but list", lambda s: Store(s)),
        (lambda s: (ses(s) / "session.json").write_bytes(b"\xff\x00"), "session.json",
         "not valid JSON", lambda s: Store(s).session("S01")),
        (lambda s: (ses(s) / "session.json").write_text('{"session": "1"}'), "session.json",
         "no 'subject' entry", lambda s: Store(s).session("S01", "1")),
        (lambda s: cut(s / "annotations.parquet"), "annotations.parquet",
         "damaged Parquet file", lambda s: Store(s).annotations),
        (lambda s: cut(s / "trials.parquet"), "trials.parquet", "damaged Parquet file",
         lambda s: Store(s).trials),
        (lambda s: cut(ses(s) / "markers.parquet"), "markers.parquet", "damaged Parquet file",
         lambda s: Store(s).session("S01").markers),
        (lambda s: cut(ses(s) / "video" / "frames.parquet", 0.9), "frames.parquet",
         "damaged Parquet file", lambda s: Store(s).session("S01").frames),
        (lambda s: (ses(s) / "signals" / "eeg.npy").unlink(), "eeg.npy", "missing",
         lambda s: Store(s).session("S01").streams),
        # one sample short: the header says more than the file holds
        (lambda s: cut(ses(s) / "signals" / "physio.npy", 0.9999), "physio.npy", "truncated",
         lambda s: Store(s).session("S01").streams),
        (lambda s: (ses(s) / "signals" / "eeg.npy").write_bytes(b"NUMPY?"), "eeg.npy",
         "not a .npy array file", lambda s: Store(s).session("S01").streams),
    ],
    ids=["store-json", "store-json-list", "session-json-binary", "session-json-no-subject",
         "annotations", "trials", "markers", "frames", "npy-deleted", "npy-short", "npy-garbage"],
)
def test_damaged_file_is_named_on_read_and_by_validate(store, damage, file, what, read):
    damage(store)
    with pytest.raises(StoreFileError) as info:
        read(store)
    assert Path(info.value.file).name == file and what in info.value.what
    assert str(info.value).startswith(str(store))
    problems = store_file_problems(store)
    assert [(Path(p.where).name, p.kind) for p in problems] == [(file, "damaged_file")]
    assert what in problems[0].detail


def test_validate_lists_every_damaged_file(store):
    cut(store / "trials.parquet")
    cut(ses(store) / "markers.parquet")
    (ses(store) / "signals" / "eeg.npy").unlink()
    cut(ses(store) / "signals" / "physio.npy", 0.5)
    problems = validate_path(store)
    assert sorted(Path(p.where).name for p in problems) == [
        "eeg.npy", "markers.parquet", "physio.npy", "trials.parquet"]
    assert {p.level for p in problems} == {"error"}


def test_npy_channel_count_and_object_dtype(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((10, 3), np.float32))
    assert check_npy(tmp_path / "a.npy", 3) == (10, 3)
    with pytest.raises(StoreFileError, match="3 channel column.*lists 4"):
        check_npy(tmp_path / "a.npy", 4)
    np.save(tmp_path / "o.npy", np.array([[None]], dtype=object), allow_pickle=True)
    with pytest.raises(StoreFileError, match="Python objects"):
        check_npy(tmp_path / "o.npy")
    np.save(tmp_path / "v.npy", np.zeros(5, np.float32))
    with pytest.raises(StoreFileError, match=r"shape \(5,\)"):
        check_npy(tmp_path / "v.npy")


def test_missing_frame_files_are_counted(store, tmp_path):
    frames = Store(store).session("S01").frames
    table = frames.table
    victims = table["path"].iloc[[0, 5]].tolist()
    moved = tmp_path / "moved"
    shutil.copytree(frames.root, moved)
    for v in victims:
        (moved / v).unlink()
    import json

    meta = json.loads((ses(store) / "session.json").read_text())
    meta["video"]["frames_root"] = str(moved)
    (ses(store) / "session.json").write_text(json.dumps(meta))
    (p,) = store_file_problems(store)
    assert p.kind == "missing_frames"
    assert f"2 of {len(table)} frame files missing, first {moved / victims[0]}" == p.detail


def test_store_file_error_pickles():
    e = pickle.loads(pickle.dumps(StoreFileError("/s/x.npy", "truncated")))
    assert isinstance(e, StoreError) and (e.file, e.what) == ("/s/x.npy", "truncated")
    assert str(e) == "/s/x.npy: truncated"
