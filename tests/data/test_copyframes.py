"""``mmme import --copy-frames``: a store that keeps working when the raw folder is gone."""

from __future__ import annotations

import errno
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import mmme.data.copyframes as cf
import mmme.data.store as store_mod
from mmme.cli import app
from mmme.data.copyframes import copy_frames_store
from mmme.data.store import Store
from mmme.errors import DiskFullError, StoreError
from mmme.executor import Executor
from mmme.io.mmme import import_mmme


@pytest.fixture
def plain(make_raw, tmp_path):
    raw = make_raw()
    st = import_mmme(raw["root"], tmp_path / "plain", executor=Executor(n_jobs=1, progress=False))
    return raw, st


def _frame_bytes(st: Store) -> list[bytes]:
    ft = st.session("S01").frames
    return [ft.path(p).read_bytes() for p in ft.table["path"]]


@pytest.mark.parametrize("sub", ["mmme", "casme-ii", "generic"])
def test_every_import_command_takes_copy_frames(sub):
    r = CliRunner().invoke(app, ["import", sub, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "--copy-frames" in r.output


def test_cli_copy_frames_store_survives_the_raw_folder(plain, tmp_path):
    raw, ref = plain
    out = tmp_path / "self"
    r = CliRunner().invoke(app, ["import", "mmme", str(raw["root"]), str(out), "--copy-frames",
                                 "-j", "1"])
    assert r.exit_code == 0, r.output
    expected = _frame_bytes(ref)
    st = Store(out)
    ses = st.session("S01")
    assert ses.meta["video"]["frames_root"] == "video/frames"
    assert ses.frames.root == out / "sessions" / "S01" / "1" / "video" / "frames"
    first = ses.frames.path(ses.frames.table["path"].iloc[0])
    assert first.stat().st_nlink == 2  # hard-linked with the raw file, no second copy
    shutil.rmtree(raw["root"])  # the raw folder goes away
    st = Store(out)
    assert _frame_bytes(st) == expected
    assert st.trial("S01", "1", "101").read_frame(0).shape == (24, 24, 3)
    rep = st.report["frames_copied"]
    assert rep == {"frames": len(expected), "linked": len(expected), "copied": 0,
                   "bytes_copied": 0}
    # everything else is the plain import's
    pd.testing.assert_frame_equal(st.trials, ref.trials)
    pd.testing.assert_frame_equal(st.annotations, ref.annotations)
    for name in ("eeg", "physio"):
        np.testing.assert_array_equal(
            np.load(ses.path / "signals" / f"{name}.npy"),
            np.load(ref.session("S01").path / "signals" / f"{name}.npy"),
        )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_copies_when_links_fail_and_checks_space_first(plain, tmp_path, monkeypatch):
    _, ref = plain
    expected = _frame_bytes(ref)
    real_link = os.link

    def no_frame_links(src, dst):  # noqa: ANN001, ANN202 - as across file systems
        if "video" in str(dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_link(src, dst)

    monkeypatch.setattr(cf.os, "link", no_frame_links)
    st = copy_frames_store(ref.path, tmp_path / "copied")
    rep = st.report["frames_copied"]
    assert rep["copied"] == len(expected) and rep["linked"] == 0
    assert rep["bytes_copied"] == sum(len(b) for b in expected)
    assert _frame_bytes(st) == expected
    ft = st.session("S01").frames
    assert ft.path(ft.table["path"].iloc[0]).stat().st_nlink == 1

    usage = shutil.disk_usage(tmp_path)
    free = rep["bytes_copied"] + store_mod.SPACE_MARGIN - 1  # one byte short
    monkeypatch.setattr(store_mod.shutil, "disk_usage", lambda p: usage._replace(free=free))
    with pytest.raises(DiskFullError, match=rf"copying {len(expected)} frame files"):
        copy_frames_store(ref.path, tmp_path / "full")
    assert not (tmp_path / "full").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_frame_path_leaving_frames_root_is_refused(plain, tmp_path):
    _, ref = plain
    table = ref.session("S01").path / "video" / "frames.parquet"
    df = pd.read_parquet(table)
    df.loc[0, "path"] = "../../etc/passwd"
    df.to_parquet(table, index=False)
    with pytest.raises(StoreError, match=r"frame path '\.\./\.\./etc/passwd' is not relative"):
        copy_frames_store(ref.path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_copy_frames_with_pseudonyms(plain, tmp_path):
    raw, _ = plain
    out = tmp_path / "pz"
    r = CliRunner().invoke(app, ["import", "mmme", str(raw["root"]), str(out), "--copy-frames",
                                 "--pseudonymize", "--salt", "s", "-j", "1"])
    assert r.exit_code == 0, r.output
    st = Store(out)
    (subject, _), = st.sessions
    assert subject.startswith("P") and subject != "S01"
    assert st.session(subject).meta["video"]["frames_root"] == "video/frames"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
