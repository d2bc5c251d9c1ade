"""Known answers for the MMME coding file and for event times taken from the frame stamps.

The coded ``*Time`` seconds are rounded (2 decimals in the real files); the frame stamps are the
truth. A coding file written here by hand gives every parsed value; an import of the constructed
raw session with the apex time shifted by a few ms must still time the apex by its stamp.
"""

from __future__ import annotations

import pandas as pd
import pytest
from raw_builder import FPS, VIDEO_PPM, VIDEO_START

from mmme.executor import Executor
from mmme.io.coding import read_coding_file, stamp_seconds
from mmme.io.mmme import import_mmme

INLINE = Executor(n_jobs=1, progress=False)


@pytest.mark.parametrize(
    ("stamp", "seconds"),
    [
        ("16-45-38-007-12", 16 * 3600 + 45 * 60 + 38.007),
        ("16-45-38-007", 60338.007),
        ("00-00-00-000-0", 0.0),
        ("23-59-59-999-1234", 86399.999),
        ("9-05-01-050-3", 9 * 3600 + 5 * 60 + 1.05),
        (" 10-00-00-100 ", 36000.1),
    ],
)
def test_stamp_seconds(stamp, seconds):
    assert stamp_seconds(stamp) == pytest.approx(seconds, abs=1e-9)


@pytest.mark.parametrize("bad", ["16-45-38", "16:45:38-007", "16-45-38-07", "x-45-38-007", ""])
def test_stamp_seconds_rejects(bad):
    with pytest.raises(ValueError, match="frame stamp"):
        stamp_seconds(bad)


HEADER = ["Subject", "Filename", "Marker", "OnsetTime", "ApexTime", "OffsetTime", "OnsetFrame",
          "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion", "Macro/Micro"]


def _write(path, rows):
    pd.DataFrame(rows, columns=HEADER).to_csv(path, index=False)
    return path


def test_coding_file_known_rows(tmp_path):
    rows = [
        # 12.09 -> 12.68 s coded, stamps 590 ms apart: MaE by the rule, Macro by the coders
        ["S01", "a.avi", "112", "12.09", "12.68", "12.68", "16-45-50-090-5", "16-45-50-680-64",
         "16-45-50-680-64", "AU4, AU7", "disgust", "Macro"],
        # exactly 500 ms at a non-zero onset; coders say Macro: disagreement flagged
        ["S01", "b.avi", "125", "10.123", "10.5", "10.623", "16-46-10-123-1", "16-46-10-500-76",
         "16-46-10-623-101", "L10+R10", "Angry", "Macro"],
        # apex time off its stamp by 60 ms (> 50 ms): time_frame_mismatch; frame code missing
        ["S01", "c.avi", "101", "1.00", "1.26", "1.40", "16-47-01-000", "16-47-01-200",
         "16-47-01-400", "AU12B", "happy", "Micro"],
        # off by 40 ms only: no flag; onset stamp = apex stamp
        ["S01", "d.avi", "103", "2.00", "2.04", "2.30", "16-47-02-000-1", "16-47-02-000-1",
         "16-47-02-300-16", "12", "tension", "micro - 1/2"],
        # a trial across midnight: 23:59:59.900 -> 00:00:00.300 is 400 ms
        ["S02", "e.avi", "104", "0.0", "0.1", "0.4", "23-59-59-900-1", "00-00-00-000-6",
         "00-00-00-300-21", "/", "fish", "Micro"],
    ]
    cf = read_coding_file(_write(tmp_path / "coding.csv", rows))
    a = cf.annotations
    assert cf.has_type_column
    assert a["source"].tolist() == [f"coding.csv:{r}" for r in (2, 3, 4, 5, 6)]
    assert a["trial"].tolist() == ["112", "125", "101", "103", "104"]
    assert a["marker"].tolist() == [112, 125, 101, 103, 104]
    assert a["onset_rel_s"].tolist() == [12.09, 10.123, 1.0, 2.0, 0.0]
    assert a["offset_rel_s"].tolist() == [12.68, 10.623, 1.4, 2.3, 0.4]
    assert a["type_coder"].tolist() == ["MaE", "MaE", "ME", "ME", "ME"]
    assert a["type_rule"].tolist() == ["MaE", "ME", "ME", "ME", "ME"]
    assert a["type"].tolist() == ["MaE", "MaE", "ME", "ME", "ME"]
    assert a["aus"].tolist() == ["AU4+AU7", "L-AU10+R-AU10", "AU12B", "AU12", ""]
    assert a["emotion"].tolist() == ["disgust", "anger", "happiness", "tense", "fish"]
    assert a["flags"].tolist() == [
        "apex_equals_offset",
        "type_disagrees_with_rule",
        "time_frame_mismatch",
        "apex_equals_onset",
        "unknown_emotion",
    ]
    assert a["onset_stamp"].iloc[2] == "16-47-01-000"
    assert [q["row"] for q in cf.quirks if "frame code" in q["quirk"]] == [4]


def test_coding_file_bad_rows_named(tmp_path):
    good = ["S01", "a.avi", "112", "1.0", "1.1", "1.2", "10-00-01-000-1", "10-00-01-100-2",
            "10-00-01-200-3", "AU4", "sad", "Micro"]
    swapped = ["S01", "a.avi", "112", "1.2", "1.1", "1.0", "10-00-01-200-1", "10-00-01-100-2",
               "10-00-01-000-3", "AU4", "sad", "Micro"]
    apex_out = ["S01", "a.avi", "112", "1.0", "1.3", "1.2", "10-00-01-000-1", "10-00-01-300-2",
                "10-00-01-200-3", "AU4", "sad", "Micro"]
    stamps_back = ["S01", "a.avi", "112", "1.0", "1.1", "1.2", "10-00-01-000-1",
                   "10-00-00-900-2", "10-00-01-200-3", "AU4", "sad", "Micro"]
    errors: list = []
    cf = read_coding_file(
        _write(tmp_path / "c.csv", [good, swapped, apex_out, stamps_back, good]), errors=errors
    )
    # the last row repeats the first: one event, the repeat listed
    assert len(cf.annotations) == 1
    assert cf.duplicates == [{"source": "c.csv:6", "duplicate_of": "c.csv:2", "identical": True}]
    assert [e["row"] for e in errors] == [3, 4, 5]
    assert "onset 1.2 s after offset 1.0 s" in errors[0]["error"]
    assert "apex 1.3 s outside" in errors[1]["error"]
    assert "out of order" in errors[2]["error"]


def _wall_ms(true_s: float) -> int:
    """Frame stamp (ms of wall clock after the camera's first frame) as the builder writes it."""
    return int(round((true_s - VIDEO_START) * (1 + VIDEO_PPM * 1e-6) * 1000))


@pytest.mark.parametrize("shift_s", [0.004, 0.04, 0.06])
def test_import_times_events_by_their_frame_stamps_not_the_coded_seconds(
    make_raw, tmp_path, shift_s
):
    raw = make_raw(shift_time_s=shift_s)  # coded ApexTime off its stamp by shift_s
    st = import_mmme(raw["root"], tmp_path / "store", executor=INLINE)
    ses = st.session("S01")
    frames = ses.frames.table
    video = ses.clocks["video"]
    ann = st.annotations.sort_values("trial").reset_index(drop=True)
    fr = raw["frames"]
    for (_, row), ev in zip(ann.iterrows(), raw["events"], strict=True):
        f = fr[fr["marker"] == ev["marker"]].reset_index(drop=True)
        ms0 = _wall_ms(f["true_s"].iloc[0])
        tf = frames[frames["trial"] == str(ev["marker"])].sort_values("frame")
        for p, k in zip(("onset", "apex", "offset"), ev["frames"], strict=True):
            assert row[f"{p}_frame"] == k
            # relative time: the stamps' ms difference exactly, whatever the coded seconds
            want_rel = (_wall_ms(f["true_s"].iloc[k]) - ms0) / 1000
            assert row[f"{p}_rel_s"] == pytest.approx(want_rel, abs=1e-9)
            # common time: the video clock at the frame's device time
            dev_t = float(tf["device_time_s"].iloc[k])
            assert row[f"{p}_s"] == pytest.approx(video.to_common(dev_t), abs=1e-9)
            assert row[f"{p}_s"] == pytest.approx(float(tf["time_s"].iloc[k]), abs=1e-9)
        # 50 fps frames: k / FPS after the trial's first frame, to the stamp's 1 ms
        assert row["apex_rel_s"] == pytest.approx(ev["frames"][1] / FPS, abs=1.5e-3)
        flagged = "time_frame_mismatch" in str(row["flags"]).split(";")
        assert flagged == (shift_s > 0.05)
