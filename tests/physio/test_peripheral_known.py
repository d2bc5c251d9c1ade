"""Known answers for peripheral window features, HR slope and RMSSD.

Most tests build a :class:`ProcessedSignal` by hand (events at chosen samples, a rate series of
chosen shape), so every feature has an exact expected value. One runs NeuroKit2 on a synthetic
ECG whose beats sit at known samples (RR alternating 780 / 820 ms): RMSSD is 40 ms and the mean
heart rate 75 bpm.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmme.physio.peripheral import (
    ProcessedSignal,
    hr_slope,
    hr_slope_at,
    hr_slope_filter,
    longest_breath_interval,
    process_signal,
    resample_mask,
    resample_signal,
    summarize_signal,
    window_features,
)

FS = 1000.0
T0 = 100.0


def _ecg_proc(rate: np.ndarray, peaks: np.ndarray, bad: np.ndarray | None = None):
    n = rate.size
    return ProcessedSignal(
        kind="ecg", channel="ECG", sfreq=FS, t0=T0,
        signals=pd.DataFrame({"ECG_Clean": np.zeros(n), "ECG_Rate": rate}),
        events={"peaks": np.asarray(peaks, dtype=np.int64)},
        bad=np.zeros(n, bool) if bad is None else bad,
    )


def test_ecg_window_features_by_hand():
    n = 20_000
    rate = np.where(np.arange(n) < 10_000, 75.0, 60.0)
    # RR (ms) 800, 820, 780, 810 between the peaks inside [105 s, 110 s) = samples 5000..9999
    # a beat exactly at the window's end (sample 10000 = 110 s) belongs to the next window
    peaks = np.array([4000, 5100, 5900, 6720, 7500, 8310, 10000, 10500])
    f = window_features(_ecg_proc(rate, peaks), 105.0, 110.0)
    assert f["bad_fraction"] == 0.0
    assert f["n_beats"] == 5  # 5100 .. 8310
    assert f["hr_mean_bpm"] == pytest.approx(75.0, abs=1e-12)
    assert f["hr_std_bpm"] == pytest.approx(0.0, abs=1e-12)
    # successive differences 20, -40, 30 ms: sqrt((400 + 1600 + 900) / 3)
    assert f["rmssd_ms"] == pytest.approx(np.sqrt(2900 / 3), abs=1e-9)  # 31.09 ms
    # across the step: half 75, half 60 -> mean 67.5, population sd 7.5
    g = window_features(_ecg_proc(rate, peaks), 108.0, 112.0)
    assert g["hr_mean_bpm"] == pytest.approx(67.5, abs=1e-12)
    assert g["hr_std_bpm"] == pytest.approx(7.5, abs=1e-12)
    assert g["n_beats"] == 3  # 8310, 10000, 10500
    assert g["rmssd_ms"] == pytest.approx(1690 - 500, abs=1e-9)  # RR 1690, 500 ms
    h = window_features(_ecg_proc(rate, peaks), 110.0, 111.0)
    assert h["n_beats"] == 2 and np.isnan(h["rmssd_ms"])  # 2 beats: no RMSSD


def test_hr_slope_of_a_linear_rate():
    n = 20_000
    t = np.arange(n) / FS
    proc = _ecg_proc(60.0 + 0.5 * t, np.array([0, 1000, 2000]))  # +0.5 bpm per second
    f = window_features(proc, 102.0, 112.0)
    assert f["hr_slope_bpm_per_s"] == pytest.approx(0.5, abs=1e-9)
    assert f["hr_mean_bpm"] == pytest.approx(60.0 + 0.5 * 6.9995, abs=1e-9)  # mean of t 2..11.999
    s = hr_slope(proc)
    assert s[500:-500] == pytest.approx(np.full(n - 1000, 0.5), abs=1e-9)
    at = hr_slope_at(proc, [T0 + 5.0, T0 - 0.001, T0 + 20.0])
    assert at[0] == pytest.approx(0.5, abs=1e-9) and np.isnan(at[1]) and np.isnan(at[2])


def test_hr_slope_filter_keeps_steep_candidates():
    n = 20_000
    t = np.arange(n) / FS
    # 70 bpm, a ramp of +4 bpm/s from 10 s to 12 s, one of -0.75 bpm/s from 14 s to 18 s
    rate = 70.0 + 4.0 * np.clip(t - 10.0, 0.0, 2.0) - 0.75 * np.clip(t - 14.0, 0.0, 4.0)
    proc = _ecg_proc(rate, np.array([0, 1000, 2000]))
    keep = hr_slope_filter(proc, [T0 + 5.0, T0 + 11.0, T0 + 16.0], T0, T0 + 20.0)
    # trial mean |slope| = (8 + 3) bpm / 20 s = 0.55 bpm/s: 4 > 2 x 0.55 is kept, and so is a
    # candidate whose slope is masked; 0.75 (> 0.55 but < 1.1) and 0 are not
    assert keep.tolist() == [False, True, False]
    assert hr_slope_filter(proc, [T0 + 11.0], T0, T0 + 20.0, factor=8.0).tolist() == [False]


def test_bad_fraction_limit_and_outside_the_recording():
    n = 20_000
    rate = np.full(n, 70.0)
    bad = np.zeros(n, bool)
    bad[5000:6000] = True  # 1000 of the 5000 samples of [105, 110): exactly 0.2
    f = window_features(_ecg_proc(rate, np.array([5100, 5900]), bad), 105.0, 110.0)
    assert f["bad_fraction"] == pytest.approx(0.2, abs=1e-12)
    assert f["hr_mean_bpm"] == pytest.approx(70.0)  # 0.2 is allowed
    bad[6000] = True
    f = window_features(_ecg_proc(rate, np.array([5100, 5900]), bad), 105.0, 110.0)
    assert f["bad_fraction"] == pytest.approx(0.2002, abs=1e-12)
    assert np.isnan(f["hr_mean_bpm"])
    # 1 s of a 4 s window lies before the recording (t0 = 100 s): 0.25 bad
    f = window_features(_ecg_proc(rate, np.array([])), 99.0, 103.0)
    assert f["bad_fraction"] == pytest.approx(0.25, abs=1e-12) and np.isnan(f["hr_mean_bpm"])
    assert window_features(_ecg_proc(rate, np.array([])), 103.0, 103.0)["bad_fraction"] == 1.0


def test_longest_breath_interval_by_hand():
    peaks = np.array([100, 500, 900, 2400, 2800, 3200])
    # intervals ending in [0, 5000): 400, 400, 1500 (900 -> 2400), 400, 400
    assert longest_breath_interval(peaks, np.zeros(0, bool), 0, 5000) == (1500, 900)
    # the pause ends at 2400: a window [2000, 3000) counts it, [0, 2400) does not
    assert longest_breath_interval(peaks, np.zeros(0, bool), 2000, 3000) == (1500, 900)
    assert longest_breath_interval(peaks, np.zeros(0, bool), 0, 2400) == (400, 100)
    bad = np.zeros(4000, bool)
    bad[1000] = True  # the pause holds a bad sample: skipped
    assert longest_breath_interval(peaks, bad, 0, 5000) == (400, 100)
    assert longest_breath_interval(np.array([5]), bad, 0, 10) == (0, -1)


def test_rsp_eda_emg_skt_window_features_by_hand():
    fs, n = 100.0, 3000  # 30 s at 100 Hz
    t = np.arange(n) / fs
    rsp = ProcessedSignal(
        kind="rsp", channel="RSP", sfreq=fs, t0=0.0,
        signals=pd.DataFrame({"RSP_Clean": np.zeros(n), "RSP_Rate": np.full(n, 15.0),
                              "RSP_Amplitude": np.linspace(1.0, 2.0, n),
                              "RSP_RVT": np.full(n, 0.3)}),
        events={"peaks": np.array([100, 500, 900, 1900, 2300]), "troughs": np.array([])},
        bad=np.zeros(n, bool),
    )
    f = window_features(rsp, 10.0, 25.0)  # samples 1000..2499
    assert f["n_breaths"] == 2 and f["rate_mean_bpm"] == 15.0
    assert f["rvt_mean"] == pytest.approx(0.3)
    assert f["breath_interval_max_s"] == pytest.approx(10.0)  # 900 -> 1900
    assert f["breath_interval_max_latency_s"] == pytest.approx(-1.0)  # 900 is 1 s before 10 s
    assert f["amplitude_mean"] == pytest.approx(np.mean(np.linspace(1, 2, n)[1000:2500]))
    # a window starting 1 s before the recording: latency from the window's start (-1 s)
    f = window_features(rsp, -1.0, 25.0)  # 100 of 2600 samples outside: bad 0.0385
    assert f["bad_fraction"] == pytest.approx(100 / 2600)
    assert f["breath_interval_max_s"] == pytest.approx(10.0)
    assert f["breath_interval_max_latency_s"] == pytest.approx(10.0)  # 900 is 10 s after -1 s
    eda = ProcessedSignal(
        kind="eda", channel="EDA", sfreq=fs, t0=0.0,
        signals=pd.DataFrame({"EDA_Clean": np.zeros(n), "EDA_Tonic": np.full(n, 2.0),
                              "EDA_Phasic": np.sin(2 * np.pi * t / 30.0)}),
        events={"scr_onsets": np.array([800, 1450, 1200]), "scr_peaks": np.array([950, 1600, 1400]),
                "scr_amplitude": np.array([0.5, 0.2, 0.3])},
        bad=np.zeros(n, bool),
    )
    f = window_features(eda, 10.0, 20.0)  # onsets 1450 and 1200 inside; first is 1200
    assert f["n_scr"] == 2 and f["scr_amplitude_max"] == pytest.approx(0.3)
    assert f["scr_onset_latency_s"] == pytest.approx(2.0)
    assert f["scr_peak_latency_s"] == pytest.approx(4.0)  # the first SCR's peak, 1400
    assert f["tonic_mean"] == pytest.approx(2.0)
    assert f["phasic_max"] == pytest.approx(np.sin(2 * np.pi * 10.0 / 30.0 + 0), abs=1e-3)
    assert window_features(eda, 25.0, 30.0)["scr_amplitude_max"] == 0.0
    emg = ProcessedSignal(
        kind="emg", channel="EMG A", sfreq=fs, t0=5.0,
        signals=pd.DataFrame({"EMG_Amplitude": np.where((t > 12) & (t < 13), 4.0, 1.0)}),
        events={"emg_onsets": np.array([1200, 2500]), "emg_offsets": np.array([1300, 2600])},
        bad=np.zeros(n, bool),
    )
    f = window_features(emg, 15.0, 25.0)  # samples 1000..1999 (t0 = 5 s)
    assert f["n_onsets"] == 1 and f["onset_latency_s"] == pytest.approx(2.0)
    assert f["amplitude_max"] == 4.0
    assert f["amplitude_mean"] == pytest.approx((900 * 1.0 + 99 * 4.0 + 1.0) / 1000, abs=1e-12)
    skt = ProcessedSignal(
        kind="skt", channel="SKT A", sfreq=fs, t0=0.0,
        signals=pd.DataFrame({"SKT_Clean": 33.0 + 0.01 * t}), bad=np.zeros(n, bool),
    )
    f = window_features(skt, 0.0, 30.0)
    assert f["slope_per_min"] == pytest.approx(0.6, abs=1e-9)  # 0.01 deg/s
    assert f["mean"] == pytest.approx(33.0 + 0.01 * 14.995, abs=1e-9)


def test_index_resample_mask_and_rate():
    proc = _ecg_proc(np.zeros(1000), np.array([]))
    assert proc.index(np.array([T0, T0 + 0.0004, T0 + 0.0006, T0 - 5, T0 + 99])).tolist() == [
        0, 0, 1, 0, 999]
    assert proc.stop_s == pytest.approx(T0 + 1.0)
    assert proc.event_times("peaks").size == 0
    bad = np.zeros(10, bool)
    bad[3] = True
    assert resample_mask(bad, 5).tolist() == [False, True, False, False, False]
    assert resample_mask(bad, 10).tolist() == bad.tolist()
    y, fs = resample_signal(np.ones(1000), 1000.0, 100.0)
    assert fs == 100.0 and y.size == 100 and y == pytest.approx(np.ones(100), abs=1e-9)
    y, fs = resample_signal(np.ones(100), 250.0, 1000.0)
    assert fs == 250.0 and y.size == 100


@pytest.fixture(scope="module")
def beats():
    rr = np.tile([780, 820], 40)  # ms at 1 kHz
    peaks = np.cumsum(rr) + 500
    n = int(peaks[-1] + 1000)
    t = np.arange(n)
    x = np.zeros(n)
    for p in peaks:  # R spike, S dip, T wave
        x += np.exp(-0.5 * ((t - p) / 8.0) ** 2) - 0.2 * np.exp(-0.5 * ((t - p - 25) / 10.0) ** 2)
        x += 0.25 * np.exp(-0.5 * ((t - p - 250) / 40.0) ** 2)
    x += 0.01 * np.random.default_rng(0).standard_normal(n)
    return x, peaks


def test_neurokit_on_beats_at_known_samples(beats):
    x, peaks = beats
    proc = process_signal(x, FS, "ecg", warn=False)
    found = proc.events["peaks"]
    assert found.size == peaks.size and np.abs(found - peaks).max() <= 2
    f = window_features(proc, 0.0, x.size / FS)
    assert f["n_beats"] == 80
    assert f["rmssd_ms"] == pytest.approx(40.0, abs=0.5)
    assert f["hr_mean_bpm"] == pytest.approx(75.0, abs=0.2)  # 60000 / 800
    s = summarize_signal(x, FS, "ecg")
    assert s["n_beats"] == 80 and s["hr_mean_bpm"] == pytest.approx(75.0, abs=0.2)
    assert s["hrv"]["HRV_RMSSD"] == pytest.approx(40.0, abs=0.5)
    assert s["hrv"]["HRV_MeanNN"] == pytest.approx(800.0, abs=0.5)
    assert s["duration_s"] == pytest.approx(x.size / FS)
