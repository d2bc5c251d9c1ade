"""`mmme validate` names every problem of a raw folder or store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mmme.cli import app
from mmme.io.validate import validate_path


def kinds(problems):
    return {(p.level, p.kind) for p in problems}


def test_clean_raw_folder_has_no_errors(make_raw):
    problems = validate_path(make_raw()["root"])
    assert not [p for p in problems if p.level == "error"]


def test_missing_and_duplicate_frames_are_named(make_raw):
    raw = make_raw(drop_frame=250, duplicate_frame=300)
    problems = validate_path(raw["root"])
    missing = [p for p in problems if p.kind == "missing_frames"]
    dup = [p for p in problems if p.kind == "duplicate_frame"]
    assert len(missing) == 1 and "1 frame(s) missing" in missing[0].detail
    assert missing[0].where.endswith(raw["frames"]["path"].iloc[251].name)
    assert len(dup) == 1 and dup[0].level == "error"
    assert raw["frames"]["path"].iloc[300].name in dup[0].where


def test_time_disagreeing_with_stamp_is_flagged(make_raw):
    problems = validate_path(make_raw(shift_time_s=0.08)["root"])
    flagged = [p for p in problems if p.kind == "time_frame_mismatch"]
    assert {p.where for p in flagged} == {"coding_file.xlsx:2", "coding_file.xlsx:3"}


def test_marker_mismatch_and_nan_are_errors(make_raw):
    r = CliRunner().invoke(app, ["validate", str(make_raw(drop_physio_marker=4)["root"]), "--json"])
    assert r.exit_code == 1
    (p,) = json.loads(r.output)
    assert "physio" in p["detail"] and "125" in p["detail"]


def test_nan_and_flat_channels_in_a_store(tmp_path):
    import numpy as np
    import pandas as pd

    from mmme.data.store import StoreWriter
    from mmme.data.sync import ClockMap

    with StoreWriter(tmp_path / "st", dataset="test") as w:
        mm = w.signal_file("S01", "1", "physio", 1000, 3)
        mm[:] = np.random.default_rng(0).standard_normal((1000, 3))
        mm[:, 1] = 2.5
        mm[700, 2] = np.nan
        mm.flush()
        w.add_session(
            "S01",
            "1",
            clocks={"physio": ClockMap.identity()},
            reference="physio",
            markers=pd.DataFrame(columns=["device", "code", "device_time_s", "time_s"]),
            streams={
                "physio": {
                    "ch_names": ["ECG", "EDA", "RSP"],
                    "units": ["mV"] * 3,
                    "sfreq": 100.0,
                    "device": "physio",
                    "kind": "physio",
                }
            },
        )
    problems = validate_path(tmp_path / "st")
    assert kinds(problems) == {("warning", "flat_channel"), ("error", "nan_channel")}
    assert {p.where.split("channel ")[1] for p in problems} == {"'EDA'", "'RSP'"}
    r = CliRunner().invoke(app, ["validate", str(tmp_path / "st")])
    assert r.exit_code == 1
