"""The analysis recovers a planted response and finds nothing where nothing was planted.

A store is written by hand: per subject, EDA and SKT at 100 Hz over 120-s trials holding three
MEs each. Every ME onset is followed, ``LATENCY`` s later, by a skin-conductance response of
known shape and a slow skin-temperature dip; nothing happens anywhere else. The analysis must
give a positive EDA response at the ME locks (significant after Holm, peak latency in the
planted range), a negative SKT response, and no significant response at the random times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmme.analysis import analyze_store
from mmme.data.store import StoreWriter
from mmme.data.sync import ClockMap

SFREQ = 100.0
TRIAL_S = 120.0
ONSETS = (10.0, 60.0, 110.0)  # within the trial: room for random times 15 s clear of them
LATENCY = 1.5                 # SCR onset after the ME onset (s)
SCR_US = 0.4                  # SCR amplitude (µS)
SKT_DIP = 0.05                # °C


def _scr(t: np.ndarray, onset: float) -> np.ndarray:
    """Bateman-shaped SCR rising at ``onset`` (peak ~1.3 s later), unit peak height."""
    x = np.clip(t - onset, 0, None)
    k = np.exp(-x / 2.5) - np.exp(-x / 0.75)
    return k / k.max() if k.max() > 0 else k


def build(path, n_subjects: int = 6, trials: int = 3, planted: bool = True, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_trial = int(TRIAL_S * SFREQ)
    with StoreWriter(path, dataset="planted") as w:
        rows, anns, ev_id = [], [], 0
        for si in range(n_subjects):
            subject = f"S{si + 1:02d}"
            n = n_trial * trials
            t = np.arange(n) / SFREQ
            # slow drifts, each subject its own phase (a drift shared by all would be a signal)
            ph = rng.uniform(0, 2 * np.pi, 2)
            eda = 2.0 + 0.05 * np.sin(2 * np.pi * t / 200 + ph[0]) + rng.normal(0, 0.004, n)
            skt = 33.0 + 0.02 * np.sin(2 * np.pi * t / 300 + ph[1]) + rng.normal(0, 0.002, n)
            for k in range(trials):
                start = k * TRIAL_S
                marker = 101 + k
                rows.append({"subject": subject, "session": "1", "trial": str(marker),
                             "marker": marker, "category": "clip", "start_s": start,
                             "stop_s": start + TRIAL_S})
                for j, on in enumerate(ONSETS):
                    on_s = start + on + rng.uniform(-0.5, 0.5)
                    if planted:
                        eda += SCR_US * rng.uniform(0.8, 1.2) * _scr(t, on_s + LATENCY)
                        skt -= SKT_DIP * _scr(t / 1.5, (on_s + LATENCY) / 1.5)
                    anns.append({"subject": subject, "session": "1", "trial": str(marker),
                                 "marker": marker, "event": ev_id, "onset_s": on_s,
                                 "apex_s": on_s + 0.12, "offset_s": on_s + 0.35,
                                 "emotion": ("disgust", "happiness", "surprise")[j],
                                 "type": "ME"})
                    ev_id += 1
            mm = w.signal_file(subject, "1", "physio", n, 2)
            mm[:, 0] = eda
            mm[:, 1] = skt
            mm.flush()
            del mm
            streams = {"physio": {"ch_names": ["EDA", "SKT A"], "units": ["uS", "degC"],
                                  "sfreq": SFREQ, "device": "physio", "kind": "physio"}}
            markers = pd.DataFrame({"device": ["physio"], "code": [101], "device_time_s": [0.0],
                                    "time_s": [0.0]})
            w.add_session(subject, "1", clocks={"physio": ClockMap.identity()},
                          reference="physio", markers=markers, streams=streams)
        w.add_trials(rows)
        w.add_annotations(pd.DataFrame(anns))
    return path


def _test(doc, measure, lock):
    return next(r for r in doc["tests"] if r["measure"] == measure and r["lock"] == lock)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    build(root / "store")
    return analyze_store(root / "store", root / "out", {"eeg": False, "pad_s": 5.0})


def test_planted_scr_recovered_with_sign_and_latency(planted):
    assert planted["unit"] == "subject" and planted["n_subjects"] == 6
    eda = _test(planted, "EDA phasic", "ME onset")
    assert eda["mean"] > 0 and eda["p_holm"] < 0.01
    peak = planted["averages"]["EDA phasic"]["ME onset"]["peak"]
    # planted: SCR onset 1.5 s after the lock, kernel peak ~1.3 s later (2.8 s)
    assert 2.0 <= peak["latency_s"] <= 6.0
    assert peak["value"] > 0
    skt = _test(planted, "SKT", "ME onset")
    assert skt["mean"] < 0


def test_random_times_carry_nothing(planted):
    for r in planted["tests"]:
        if r["lock"] == "random" and r["n"]:  # HR etc.: no such channel, n = 0
            assert r["p_holm"] > 0.05, r


def test_no_plant_no_finding(tmp_path):
    build(tmp_path / "store", planted=False, seed=1)
    doc = analyze_store(tmp_path / "store", tmp_path / "out", {"eeg": False, "pad_s": 5.0})
    tested = [r for r in doc["tests"] if r["n"]]
    assert len(tested) == 6  # EDA, SKT x (ME onset, ME apex - random; random - baseline)
    assert all(r["p_holm"] > 0.05 for r in tested), tested


def test_random_times_keep_clear_of_expressions():
    from mmme.analysis.erp import DEFAULT_PARAMS, random_times

    ann = pd.DataFrame({"onset_s": [10.0, 60.0], "apex_s": [10.2, 60.3]})
    rng = np.random.default_rng(0)
    clear = DEFAULT_PARAMS["random_clear_s"]
    assert clear >= DEFAULT_PARAMS["tmax"]  # a control must not hold a response in its window
    t = random_times(ann, 0.0, 100.0, 200, clear, rng)
    d = np.min(np.abs(t[:, None] - np.array([10.0, 10.2, 60.0, 60.3])[None, :]), axis=1)
    assert d.min() >= clear - 1e-9
    assert t.min() >= 25.2 - 1e-9 and t.max() < 100.0  # nothing before 10.2 + 15
    # no room: missing, not placed too close
    assert np.isnan(random_times(ann, 0.0, 70.0, 3, 40.0, rng)).all()
