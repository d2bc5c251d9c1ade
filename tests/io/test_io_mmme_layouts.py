"""The raw MMME importer on layouts the real data has: padded frame codes, stamps without code,
no Macro/Micro column, midnight, several sessions of a subject, EEGLAB + TIFF, CLI on raw folders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import raw_builder
from raw_builder import EEG_START
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store
from mmme.errors import InputError
from mmme.executor import Executor
from mmme.io.mmme import import_mmme

INLINE = Executor(n_jobs=1, progress=False)
STAMP_COLS = ("OnsetFrame", "ApexFrame", "OffsetFrame")


def common(true_s: float) -> float:
    return true_s - EEG_START  # the EEG clock is the common clock


def _coding(root: Path) -> pd.DataFrame:
    return pd.read_excel(root / "coding_file.xlsx", dtype=str)


def _pad(stamp: str) -> str:
    f = stamp.split("-")
    f[4] = f"{int(f[4]):03d}"
    return "-".join(f)


def _coded_row(raw: dict[str, Any], marker: int, frames: tuple[int, int, int], **kw: str) -> dict:
    """A coding-file row for frames of a trial of a raw_builder folder."""
    t = raw["frames"][raw["frames"]["marker"] == marker].reset_index(drop=True)
    row = {
        "Subject": "S01",
        "Filename": f"sad_1_{marker}_S01_20230721.avi",
        "Marker": str(marker),
        "Action Units": "AU1",
        "Estimated Emotion": "sad",
        "Macro/Micro": "Micro",
        "Date": "2024年06月30日-14时31分",
        "dif": str(frames[1] - frames[0]),
    }
    for col, tcol, k in zip(
        STAMP_COLS, ("OnsetTime", "ApexTime", "OffsetTime"), frames, strict=True
    ):
        row[col] = t["stamp"].iloc[k]
        row[tcol] = str(round(t["true_s"].iloc[k] - t["true_s"].iloc[0], 2))
    row.update(kw)
    return row


def _move_session(src_root: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for d in ("video", "eeg", "physio"):
        shutil.move(str(src_root / "S01" / d), str(dst / d))


def test_zero_padded_frame_codes(make_raw, tmp_path):
    """The real coding sample pads frame codes to 3 digits (``...-070``); so may the camera."""
    raw = make_raw()
    root = raw["root"]
    for p in (root / "S01" / "video").iterdir():
        f = p.stem.split("-")
        f[7] = f"{int(f[7]):03d}"
        p.rename(p.with_name("-".join(f) + p.suffix))
    # trial 101 comes first: frame k has code k, so these codes need padding
    row = _coded_row(raw, 101, (5, 8, 12))
    row.update({c: _pad(row[c]) for c in STAMP_COLS})
    assert row["OnsetFrame"].endswith("-005")
    pd.concat([_coding(root), pd.DataFrame([row])]).to_excel(root / "coding_file.xlsx", index=False)
    st = import_mmme(root, tmp_path / "store", executor=INLINE)
    a = st.annotations.set_index("trial")
    assert tuple(a.loc["101", [f"{p}_frame" for p in ("onset", "apex", "offset")]]) == (5, 8, 12)
    t = raw["frames"][raw["frames"]["marker"] == 101].reset_index(drop=True)
    assert a.loc["101", "onset_s"] == pytest.approx(common(t["true_s"].iloc[5]), abs=5e-3)
    # the other rows keep resolving, and the store keeps the stamp as the file name writes it
    assert a.loc["112", "onset_frame"] == 20
    assert st.trial("S01", "1", "101").frames["stamp"].iloc[5] == row["OnsetFrame"]


def test_stamps_without_code_and_no_type_column(make_raw, tmp_path):
    """269 rows of the real sample lack the frame code; some releases lack ``Macro/Micro``."""
    raw = make_raw()
    root = raw["root"]
    cf = _coding(root).drop(columns=["Macro/Micro"])
    for c in STAMP_COLS:
        cf[c] = cf[c].str.rsplit("-", n=1).str[0]
    assert cf["OnsetFrame"].str.count("-").eq(3).all()
    cf.to_excel(root / "coding_file.xlsx", index=False)
    st = import_mmme(root, tmp_path / "store", executor=INLINE)
    ann = st.annotations.sort_values("trial").reset_index(drop=True)
    for (_, r), ev in zip(ann.iterrows(), raw["events"], strict=True):
        assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == ev["frames"]
    assert ann["type_coder"].isna().all()
    # 112: 300 ms -> ME; 125: 200 ms -> ME by the rule (the coders' column said MaE)
    assert ann["type"].tolist() == ["ME", "ME"]
    assert st.report["coding_file"]["has_type_column"] is False
    rows = [q["row"] for q in st.report["quirks"] if q["quirk"] == "frame stamp without frame code"]
    assert rows == [2, 3]


def test_session_crossing_midnight(make_raw, tmp_path, monkeypatch):
    # midnight falls between onset (frame 20) and offset (frame 35) of the event of trial 112
    monkeypatch.setattr(raw_builder, "WALL0", dt.datetime(2023, 7, 21, 23, 59, 50, 750000))
    raw = make_raw()
    cf = _coding(raw["root"])
    assert cf["OnsetFrame"].iloc[0].startswith("23-59-59")
    assert cf["OffsetFrame"].iloc[0].startswith("00-00-00")
    st = import_mmme(raw["root"], tmp_path / "store", executor=INLINE)
    assert st.trials["n_frames"].tolist() == [200, 200, 200]
    assert (st.trials["stop_s"] - st.trials["start_s"]).round(3).tolist() == [4.0, 4.0, 4.0]
    ann = st.annotations.sort_values("trial").reset_index(drop=True)
    for (_, r), ev in zip(ann.iterrows(), raw["events"], strict=True):
        assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == ev["frames"]
        for p, t in zip(("onset", "apex", "offset"), ev["true_s"], strict=True):
            assert r[f"{p}_s"] == pytest.approx(common(t), abs=5e-3)
    assert "time_frame_mismatch" not in ";".join(ann["flags"].fillna(""))
    frames = st.session("S01").frames.table
    assert np.all(np.diff(frames.sort_values("time_s")["device_time_s"]) > 0)


@pytest.fixture
def two_sessions(make_raw, monkeypatch):
    """S01 (session 1 in S01/, session 2 in S01/2/ a week later) and S09 coded, not recorded."""
    raw1 = make_raw()
    monkeypatch.setattr(raw_builder, "WALL0", dt.datetime(2023, 7, 28, 10, 0, 0))
    raw2 = make_raw()
    root = raw1["root"]
    _move_session(raw2["root"], root / "S01" / "2")
    s09 = _coding(root).iloc[:1].assign(Subject="S09")
    cf = pd.concat([_coding(root), _coding(raw2["root"]), s09])
    cf.to_excel(root / "coding_file.xlsx", index=False)
    return raw1, raw2


def test_two_sessions_of_a_subject(two_sessions, tmp_path):
    raw1, raw2 = two_sessions
    root = raw1["root"]
    st = import_mmme(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("S01", "1"), ("S01", "2")]
    assert st.trials.groupby("session").size().to_dict() == {"1": 3, "2": 3}
    ann = st.annotations.sort_values(["subject", "session", "trial"]).reset_index(drop=True)
    assert list(zip(ann["subject"], ann["session"], ann["trial"], strict=True)) == [
        ("S01", "1", "112"),
        ("S01", "1", "125"),
        ("S01", "2", "112"),
        ("S01", "2", "125"),
        ("S09", "1", "112"),
    ]
    for k, ev in enumerate(raw1["events"] + raw2["events"]):
        r = ann.iloc[k]
        assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == ev["frames"]
        assert r["onset_s"] == pytest.approx(common(ev["true_s"][0]), abs=5e-3)
    # the subject without recordings keeps trial-relative times, and only it is reported
    assert np.isnan(ann["onset_s"].iloc[4]) and np.isfinite(ann["onset_rel_s"].iloc[4])
    assert [s["subject"] for s in st.report["skipped"]] == ["S09"]
    assert st.trial("S01", "2", "112").annotations["onset_frame"].tolist() == [20]

    # session 2 without video: it can only say it has the trials; frames decide for session 1
    shutil.move(str(root / "S01" / "2" / "video"), str(tmp_path / "video2"))
    st = import_mmme(root, tmp_path / "store1", executor=INLINE)
    ann = st.annotations.sort_values(["subject", "session", "trial"]).reset_index(drop=True)
    assert ann["session"].tolist() == ["1", "1", "2", "2", "1"]
    assert ann["onset_frame"].iloc[:2].tolist() == [20, 50]
    assert ann["onset_frame"].iloc[2:4].isna().all() and np.isfinite(ann["onset_s"].iloc[2:4]).all()

    # only the numbered session folder: its rows still find it
    shutil.move(str(tmp_path / "video2"), str(root / "S01" / "2" / "video"))
    for d in ("video", "eeg", "physio"):
        shutil.rmtree(root / "S01" / d)
    cf = _coding(root)
    cf[cf["OnsetFrame"].str.startswith("10-")].to_excel(root / "coding_file.xlsx", index=False)
    st = import_mmme(root, tmp_path / "store2", executor=INLINE)
    assert st.sessions == [("S01", "2")]
    assert st.annotations["session"].tolist() == ["2", "2"]
    assert st.annotations["onset_frame"].tolist() == [20, 50]
    assert st.report["skipped"] == []


def test_sessions_that_cannot_be_told_apart(make_raw, tmp_path, monkeypatch):
    raw = make_raw()
    root = raw["root"]
    twin = make_raw()  # the same wall clock: every row matches both sessions
    _move_session(twin["root"], root / "S01" / "2")
    with pytest.raises(InputError, match=r"coding_file\.xlsx.*row 2.*sessions 1 and 2 of S01"):
        import_mmme(root, tmp_path / "a", executor=INLINE)
    shutil.rmtree(root / "S01" / "2")
    _move_session(make_raw()["root"], root / "S01" / "1")
    with pytest.raises(InputError, match=r"two folders hold session 1 of S01"):
        import_mmme(root, tmp_path / "b", executor=INLINE)
    shutil.rmtree(root / "S01" / "1")
    # a row that matches no session names itself
    monkeypatch.setattr(raw_builder, "WALL0", dt.datetime(2023, 7, 28, 10, 0, 0))
    other = make_raw()
    _move_session(other["root"], root / "S01" / "3")
    cf = _coding(root)
    cf.loc[1, "OffsetFrame"] = "16-45-55-000-999"
    cf.to_excel(root / "coding_file.xlsx", index=False)
    with pytest.raises(InputError, match=r"row 3.*matches no session of S01 \(sessions 1, 3\)"):
        import_mmme(root, tmp_path / "c", executor=INLINE)
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_cli_info_validate_and_failed_parallel_import_on_raw_folder(two_sessions, tmp_path):
    raw1, _ = two_sessions
    root = raw1["root"]
    runner = CliRunner()
    r = runner.invoke(app, ["info", str(root), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["subjects"] == 2 and info["trials"] == 6
    assert info["events"] == {"ME": 3, "MaE": 2}  # 112 coded Micro, 125 Macro, per session
    assert info["modalities"]["video"] == pytest.approx(
        {"fps": 50.0, "sessions": 2, "frames": 1200, "duration_s": 6 * 199 / 50}, rel=1e-3
    )
    r = runner.invoke(app, ["validate", str(root)])
    assert r.exit_code == 0, r.output

    # a session that fails in a parallel import (-j 2) leaves the previous store as it was
    store = tmp_path / "out" / "store"
    r = runner.invoke(app, ["import", "mmme", str(root), str(store), "-j", "2"])
    assert r.exit_code == 0, r.output
    before = {p.relative_to(store): p.stat().st_mtime_ns for p in store.rglob("*")}
    bad = raw_builder.build_raw(tmp_path / "bad", nan_channel="EDA, X, PPGED-R", coding=False)
    shutil.rmtree(root / "S01" / "2" / "physio")
    shutil.move(str(bad["root"] / "S01" / "physio"), str(root / "S01" / "2" / "physio"))
    r = runner.invoke(app, ["import", "mmme", str(root), str(store), "-j", "2"])
    assert r.exit_code == 2 and "NaN" in r.output and "EDA" in r.output
    assert {p.relative_to(store): p.stat().st_mtime_ns for p in store.rglob("*")} == before
    assert sorted(p.name for p in store.parent.iterdir()) == ["store"]
    assert len(Store(store).annotations) == 5

    # validate on a raw folder lists every bad coding row, not just the first
    cf = _coding(root)
    for k in (0, 2):
        cf.loc[k, ["OnsetTime", "OffsetTime"]] = cf.loc[k, ["OffsetTime", "OnsetTime"]].to_numpy()
    cf.loc[3, "Marker"] = None
    cf.to_excel(root / "coding_file.xlsx", index=False)
    r = runner.invoke(app, ["validate", str(root), "--json"])
    assert r.exit_code == 1
    probs = json.loads(r.output)
    assert [(p["kind"], p["where"]) for p in probs] == [
        ("bad_row", "coding_file.xlsx:2"),
        ("bad_row", "coding_file.xlsx:4"),
        ("bad_row", "coding_file.xlsx:5"),
    ]
    assert "after offset" in probs[0]["detail"] and "empty cell" in probs[2]["detail"]
    assert "Marker" in probs[2]["detail"]


def test_eeglab_set_and_tif_frames_round_trip_exactly(tmp_path):
    """``mmme synth --eeg-format set --frame-format tif`` imports as exactly as EDF + jpg."""
    import mne

    from mmme.synth.generate import SynthConfig, generate

    cfg = dataclasses.replace(
        SynthConfig.tiny(seed=3), subjects=1, eeg_format="set", frame_format="tif"
    )
    raw = generate(tmp_path / "raw", cfg, n_jobs=1, progress=False)
    assert next((raw / "S01" / "video").rglob("*.tif"))
    st = import_mmme(raw, tmp_path / "store", executor=INLINE)
    gt = pd.read_csv(raw / "ground_truth.csv", dtype={"trial": str})
    ann = st.annotations.sort_values(["trial", "onset_frame"]).reset_index(drop=True)
    gt = gt.sort_values(["trial", "onset_frame"]).reset_index(drop=True)
    assert len(ann) == len(gt) == 4
    for p in ("onset", "apex", "offset"):
        assert ann[f"{p}_frame"].astype(int).tolist() == gt[f"{p}_frame"].tolist()
        np.testing.assert_allclose(ann[f"{p}_rel_s"], gt[f"{p}_s"], atol=1e-9)
    planted = json.loads((raw / "ground_truth_devices.json").read_text())["subjects"]["S01"]
    ses = st.session("S01")
    for name in ("physio", "video"):
        assert ses.clocks[name].offset == pytest.approx(planted[name]["offset_s"], abs=0.012)
    eeg = mne.io.read_raw_eeglab(raw / "S01" / "eeg" / "S01.set", verbose="error")
    data, _ = ses.streams["eeg"].get_data()
    assert ses.streams["eeg"].ch_names == eeg.ch_names
    np.testing.assert_allclose(data, eeg.get_data(), rtol=1e-6, atol=1e-12)  # float32 store
    img = st.trial("S01", "1", ann["trial"].iloc[0]).read_frame(0)
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
