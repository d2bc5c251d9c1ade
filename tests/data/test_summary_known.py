"""Known answers for the paper-style statistics on a hand-made annotation table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmme.data.annotations import make_annotations
from mmme.data.summary import duration_ms, rise_ms, summarize


@pytest.fixture
def table():
    rows = [
        # ME: 300 ms total, 100 ms rise by the frame stamps (relative times); the common clock
        # (a drifting camera mapped onto the EEG) says 301 / 101 ms: the stamps win
        {"subject": "S01", "session": "1", "trial": "101", "onset_rel_s": 1.0,
         "apex_rel_s": 1.1, "offset_rel_s": 1.3, "onset_s": 201.0, "apex_s": 201.101,
         "offset_s": 201.301, "emotion": "happy", "aus": "AU6+AU12"},
        # ME: 450 ms total, 200 ms rise
        {"subject": "S01", "session": "1", "trial": "101", "onset_rel_s": 2.0,
         "apex_rel_s": 2.2, "offset_rel_s": 2.45, "emotion": "angry", "aus": "AU4+L-AU10"},
        # MaE: 1200 ms total, 500 ms rise; bilateral AU10 is one AU10 event
        {"subject": "S02", "session": "1", "trial": "102", "onset_rel_s": 5.0,
         "apex_rel_s": 5.5, "offset_rel_s": 6.2, "emotion": "happiness",
         "aus": "L-AU10+R-AU10+AU12", "flags": "apex_equals_offset"},
        # MaE from common-clock times only: 1000 ms total, 300 ms rise
        {"subject": "S02", "session": "1", "trial": "103", "onset_s": 100.0, "apex_s": 100.3,
         "offset_s": 101.0, "emotion": "disgust", "aus": "AU9",
         "flags": "apex_equals_offset;time_frame_mismatch"},
        # coder says ME though the rule says MaE (800 ms total, 400 ms rise)
        {"subject": "S03", "session": "1", "trial": "101", "onset_rel_s": 0.5,
         "apex_rel_s": 0.9, "offset_rel_s": 1.3, "emotion": "sad", "type_coder": "ME",
         "aus": "AU15"},
    ]
    return make_annotations(rows)


def test_durations_by_hand(table):
    assert duration_ms(table).tolist() == pytest.approx([300, 450, 1200, 1000, 800], abs=1e-9)
    assert rise_ms(table).tolist() == pytest.approx([100, 200, 500, 300, 400], abs=1e-9)


def test_summary_by_hand(table):
    s = summarize(table)
    assert s["subjects"] == 3
    assert s["trials"] == 4  # (S01, 101), (S02, 102), (S02, 103), (S03, 101)
    assert s["events"] == {"ME": 3, "MaE": 2}
    assert s["per_emotion"] == {
        "anger": {"ME": 1, "MaE": 0},
        "disgust": {"ME": 0, "MaE": 1},
        "happiness": {"ME": 1, "MaE": 1},
        "sadness": {"ME": 1, "MaE": 0},
    }
    me, mae = s["duration_ms"]["ME"], s["duration_ms"]["MaE"]
    # ME: 300, 450, 800: mean 516.67, sd sqrt((216.67^2 + 66.67^2 + 283.33^2) / 2)
    assert me["mean"] == pytest.approx(1550 / 3, abs=1e-9)
    assert me["sd"] == pytest.approx(math.sqrt(131666.6666667 / 2), abs=1e-6)  # 256.58
    # MaE: 1200, 1000 -> 1100 +- 141.421
    assert mae["mean"] == pytest.approx(1100.0, abs=1e-9)
    assert mae["sd"] == pytest.approx(math.sqrt(20000.0), abs=1e-9)
    rme, rmae = s["onset_apex_ms"]["ME"], s["onset_apex_ms"]["MaE"]
    assert rme["mean"] == pytest.approx(700 / 3, abs=1e-9)  # 100, 200, 400
    assert rme["sd"] == pytest.approx(math.sqrt(46666.6666667 / 2), abs=1e-6)
    assert rmae["mean"] == pytest.approx(400.0, abs=1e-9)  # 500, 300
    assert rmae["sd"] == pytest.approx(math.sqrt(20000.0), abs=1e-9)
    # events per AU, most frequent first, ties by name
    assert s["au_counts"] == {"AU10": 2, "AU12": 2, "AU15": 1, "AU4": 1, "AU6": 1, "AU9": 1}
    assert list(s["au_counts"]) == ["AU10", "AU12", "AU15", "AU4", "AU6", "AU9"]
    assert s["flags"] == {"apex_equals_offset": 2, "time_frame_mismatch": 1,
                          "type_disagrees_with_rule": 1}
    assert s["modalities"] == {}


def test_summary_single_event_and_empty_type():
    one = make_annotations([{"subject": "A", "trial": "1", "onset_rel_s": 0.0,
                             "apex_rel_s": 0.1, "offset_rel_s": 0.2}])
    s = summarize(one)
    assert s["duration_ms"]["ME"] == {"mean": pytest.approx(200.0), "sd": 0.0}
    assert s["duration_ms"]["MaE"] == {"mean": None, "sd": None}
    assert s["events"] == {"ME": 1, "MaE": 0}
    assert np.isfinite(duration_ms(one)).all()
