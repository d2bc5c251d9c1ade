"""Event-locked features recover the responses the synthetic generator planted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmme.data.streams import SignalStream
from mmme.physio import (
    CHANNEL_KINDS,
    event_features,
    event_features_wide,
    hr_slope_at,
    hr_slope_filter,
    process_signal,
    sliding_features,
)
from mmme.synth.events import Response
from mmme.synth.physio import SubjectPhysiology, simulate_physio

SFREQ = 1000.0
EVENTS = pd.DataFrame({"event": [10, 11], "onset_s": [20.0, 50.0], "apex_s": [20.2, 50.2]})
PLANTED = [
    Response("hr_change", "ECG", 20.2, 23.2, 28.0, 10.0, "bpm", 0),
    Response("hr_change", "ECG", 50.2, 53.2, 58.0, -12.0, "bpm", 1),
    Response("scr", "EDA", 21.5, 23.0, 31.0, 0.5, "uS", 0),
    Response("skt_drop", "SKT A", 22.0, 30.0, 45.0, -0.3, "degC", 0),
    Response("emg_burst", "EMG A", 20.0, 20.2, 20.4, 0.05, "mV", 0),
]


@pytest.fixture(scope="module")
def truth():
    return simulate_physio(0.0, 75.0, PLANTED, SubjectPhysiology(), np.random.default_rng(3),
                           sfreq=SFREQ)


@pytest.fixture(scope="module")
def procs(truth):
    return [process_signal(truth.signals[c], SFREQ, CHANNEL_KINDS[c], channel=c)
            for c in truth.signals]


@pytest.fixture(scope="module")
def wide(procs):
    return event_features_wide(event_features(procs, EVENTS)).set_index("event")


def test_r_peaks_match_planted_beats(truth, procs):
    ecg = procs[0]
    assert ecg.channel == "ECG"
    found = ecg.event_times("peaks")
    d = np.abs(found[:, None] - truth.beats[None, :]).min(axis=1)
    assert abs(len(found) - len(truth.beats)) <= 1
    assert np.median(d) < 0.01


@pytest.mark.parametrize("ch", ["ECG", "PPG"])
def test_hr_change_sign(wide, ch):
    assert wide.loc[10, f"{ch}_response-baseline_hr_mean_bpm"] > 4.0
    assert wide.loc[11, f"{ch}_response-baseline_hr_mean_bpm"] < -2.0


def test_scr_latency_after_onset(wide):
    # planted SCR: onset 1.5 s, peak 3.0 s after the expression onset
    assert wide.loc[10, "EDA_response_n_scr"] == 1
    assert wide.loc[10, "EDA_response_scr_onset_latency_s"] == pytest.approx(1.5, abs=0.5)
    assert wide.loc[10, "EDA_response_scr_peak_latency_s"] == pytest.approx(3.0, abs=0.7)
    assert wide.loc[10, "EDA_response_scr_amplitude_max"] == pytest.approx(0.5, rel=0.3)
    assert wide.loc[10, "EDA_baseline_n_scr"] == 0
    assert wide.loc[11, "EDA_response_n_scr"] == 0  # nothing planted at the second event


def test_skt_drop_and_emg_burst(wide):
    assert wide.loc[10, "SKT A_response-baseline_slope_per_min"] < -0.5
    assert wide.loc[10, "SKT A_response-baseline_mean"] < -0.05
    assert wide.loc[10, "EMG A_response_onset_latency_s"] == pytest.approx(0.0, abs=0.15)
    assert wide.loc[11, "EMG A_response_n_onsets"] == 0
    assert wide.loc[10, "EMG B_response_n_onsets"] == 0


def test_tidy_table_and_apex_windows(procs):
    tidy = event_features(procs, EVENTS)
    assert set(tidy["window"]) == {"baseline", "response", "apex"}
    apex = tidy[(tidy["channel"] == "ECG") & (tidy["window"] == "apex")]
    # the ECG apex window is [-1, 2] s around apex_s
    assert np.allclose(apex["start_s"].unique(), [19.2, 49.2])
    assert set(tidy.columns) >= {"event", "channel", "kind", "feature", "value"}


def test_hr_slope_and_filter():
    # no respiratory sinus arrhythmia, so the slope shows the planted change alone
    resp = [Response("hr_change", "ECG", 20.0, 23.0, 28.0, 15.0, "bpm", 0)]
    tr = simulate_physio(0.0, 45.0, resp, SubjectPhysiology(rsa_bpm=0.0),
                         np.random.default_rng(1), sfreq=SFREQ)
    ecg = process_signal(tr.signals["ECG"], SFREQ, "ecg")
    rise, fall, flat = hr_slope_at(ecg, [21.5, 25.5, 12.0], smooth_s=2.0)
    assert rise > 2.0 and fall < -1.0 and abs(flat) < 1.0
    keep = hr_slope_filter(ecg, [21.5, 12.0, 35.0], 5.0, 40.0, factor=2.0, smooth_s=2.0)
    assert keep.tolist() == [True, False, False]


def test_sliding_windows_follow_the_response(procs):
    ecg = [p for p in procs if p.channel == "ECG"]
    sl = sliding_features(ecg, 10.0, 35.0, win_s=2.0, step_s=1.0)
    assert len(sl) == 24
    peak_t = sl.loc[sl["ECG_hr_mean_bpm"].idxmax(), "center_s"]
    assert 21.0 <= peak_t <= 26.0


def test_physio_epochs(truth):
    names = ["EDA", "SKT A"]
    data = np.vstack([truth.signals[c] for c in names])
    stream = SignalStream.from_array(data, SFREQ, names)
    ep = stream.epochs([20.0, 50.0, 74.0], -2.0, 8.0, metadata=EVENTS.iloc[[0, 1, 1]],
                       on_edge="drop")
    assert len(ep) == 2  # the last one runs off the recording
    assert ep.metadata["time_s"].tolist() == [20.0, 50.0]
    x = ep.get_data(picks="EDA")[:, 0]
    # SCR: conductance 4 s after the first onset well above its pre-onset level
    i0, i4 = int(1.9 * SFREQ), int(6.0 * SFREQ)
    assert x[0, i4] - x[0, i0] > 0.3
    assert abs(x[1, i4] - x[1, i0]) < 0.1
