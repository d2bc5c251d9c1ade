"""``mmme physio STORE``: event features of every trial, cached and resumable."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store, StoreWriter
from mmme.data.sync import ClockMap
from mmme.synth.events import Response
from mmme.synth.physio import SubjectPhysiology, simulate_physio

FS = 250.0


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    resp = [Response("hr_change", "ECG", 30.2, 33.2, 38.0, 12.0, "bpm", 0),
            Response("scr", "EDA", 31.5, 33.0, 41.0, 0.5, "uS", 0)]
    tr = simulate_physio(0.0, 70.0, resp, SubjectPhysiology(rsa_bpm=1.0),
                         np.random.default_rng(7), sfreq=FS)
    names = ["ECG", "EDA"]
    path = tmp_path_factory.mktemp("store") / "store"
    with StoreWriter(path, "test") as w:
        n = len(tr.signals["ECG"])
        mm = w.signal_file("S01", "1", "physio", n, 2)
        mm[:] = np.column_stack([tr.signals[c] for c in names])
        mm.flush()
        del mm
        w.add_session(
            "S01", "1", clocks={"physio": ClockMap(0.0)}, reference="physio",
            markers=pd.DataFrame({"device": ["physio"], "code": [101], "device_time_s": [10.0],
                                  "time_s": [10.0]}),
            streams={"physio": {"ch_names": names, "units": ["mV", "uS"], "sfreq": FS,
                                "device": "physio", "kind": "physio"}},
        )
        w.add_trials([{"subject": "S01", "session": "1", "trial": "101", "marker": 101,
                       "category": "1", "start_s": 10.0, "stop_s": 60.0, "n_frames": 0,
                       "video_start_s": 10.0}])
        w.add_annotations(pd.DataFrame({
            "subject": ["S01", "S01"], "session": ["1", "1"], "trial": ["101", "101"],
            "marker": [101, 101], "onset_s": [30.0, 48.0], "apex_s": [30.2, 48.2],
            "offset_s": [30.4, 48.4], "emotion": ["happy", "sad"]}))
    return path


def test_physio_command_recovers_responses_and_caches(store_path):
    env = {**os.environ, "COLUMNS": "200"}
    res = CliRunner().invoke(app, ["physio", str(store_path), "-j", "1"], env=env)
    assert res.exit_code == 0, res.output
    root = Store(store_path).cache_dir("physio")
    index = pd.read_parquet(root / "index.parquet")
    assert index["cached"].tolist() == [False] and index["n_events"].tolist() == [2]
    ev = pd.read_parquet(root / "events.parquet")
    assert set(ev["channel"]) == {"ECG", "EDA"}

    def val(event, ch, win, feat):
        m = (ev["event"] == event) & (ev["channel"] == ch) & (ev["window"] == win) & (
            ev["feature"] == feat)
        return float(ev.loc[m, "value"].iloc[0])

    first, second = sorted(ev["event"].unique())
    hr_up = val(first, "ECG", "response", "hr_mean_bpm") - val(first, "ECG", "baseline",
                                                                 "hr_mean_bpm")
    assert hr_up > 4.0
    assert val(first, "EDA", "response", "scr_onset_latency_s") == pytest.approx(1.5, abs=0.5)
    assert val(second, "EDA", "response", "n_scr") == 0
    sliding = pd.read_parquet(root / f"{index['key'].iloc[0]}.sliding.parquet")
    assert sliding["start_s"].iloc[0] == 10.0 and "EDA_n_scr" in sliding
    # second run: everything from the cache
    res = CliRunner().invoke(app, ["physio", str(store_path), "-j", "1"], env=env)
    assert res.exit_code == 0 and "1 from cache" in res.output
