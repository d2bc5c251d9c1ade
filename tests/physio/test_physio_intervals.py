"""RR and breath-to-breath intervals that touch masked samples leave every statistic.

Known answers are computed by hand from constructed event series; the real 5-min ECG of
biosignalsnotebooks gets a 3-s NaN gap (issue 9: RMSSD went from 23 ms to 230 ms).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.physio import (
    event_features,
    hrv_features,
    iter_array_chunks,
    longest_breath_interval,
    process_signal,
    stream_features,
    summarize_signal,
    window_features,
)
from mmme.physio.intervals import (
    interval_rate,
    intervals_valid,
    nk_intervals,
    rmssd_ms,
    spans_clean,
)
from mmme.physio.peripheral import ProcessedSignal

FS = 1000.0


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# --- the helper, by hand -----------------------------------------------------------------------


def test_intervals_valid_known_answers():
    bad = np.zeros(30, dtype=bool)
    bad[12:14] = True
    ev = np.array([0, 5, 10, 15, 20, 25])
    # intervals 0-5, 5-10, 10-15 (holds 12, 13), 15-20, 20-25
    assert intervals_valid(ev, bad).tolist() == [True, True, False, True, True]
    # a guard of 2 samples: 5-10 reaches 12, 15-20 reaches 13
    assert intervals_valid(ev, bad, guard=2).tolist() == [True, False, False, False, True]
    # guard 1: 5-10 reaches 11 (clean), 15-20 reaches 14 (clean)
    assert intervals_valid(ev, bad, guard=1).tolist() == [True, True, False, True, True]
    # an event on a bad sample itself (both ends are included)
    assert intervals_valid(np.array([13, 20]), bad).tolist() == [False]
    assert intervals_valid(np.array([5, 12]), bad).tolist() == [False]
    assert intervals_valid(np.array([5, 11]), bad).tolist() == [True]
    # beyond the mask: not an interval of the signal; no mask: all clean
    assert intervals_valid(np.array([20, 30]), bad).tolist() == [False]
    assert intervals_valid(ev, np.zeros(0, bool)).tolist() == [True] * 5
    # the guard is clipped at the signal's edges, not counted as bad
    assert intervals_valid(np.array([0, 3]), bad, guard=5).tolist() == [True]
    assert spans_clean(np.array([1, 14]), np.array([11, 29]), bad).tolist() == [True, True]


# RR (ms) 800 820 790 810 | 2400 across the gap | 805 815 800 ...
RR_KNOWN = [800, 820, 790, 810, 2400, 805, 815, 800]
# successive differences between adjacent valid intervals only:
# +20 -30 +20 | (none across the gap) | +10 -15 -> squares 400 900 400 100 225 = 2025 over 5
RMSSD_KNOWN = math.sqrt(2025 / 5)  # 20.1246 ms


def _peaks(rr_ms, start=1000):
    return start + np.concatenate([[0], np.cumsum(rr_ms)]).astype(np.int64)


def test_rmssd_known_rr_series_with_a_gap():
    peaks = _peaks(RR_KNOWN)
    bad = np.zeros(peaks[-1] + 2000, dtype=bool)
    bad[peaks[4] + 500 : peaks[4] + 1500] = True  # 1 s masked inside the 2.4-s "interval"
    valid = intervals_valid(peaks, bad)
    assert valid.tolist() == [True, True, True, True, False, True, True, True]
    assert rmssd_ms(peaks, valid, FS) == pytest.approx(RMSSD_KNOWN, abs=1e-9)
    # no gap: every difference counts, (20^2 + 30^2 + 20^2 + 1590^2 + 1595^2 + 10^2 + 15^2) / 7
    allv = np.ones(len(RR_KNOWN), dtype=bool)
    expect = math.sqrt((400 + 900 + 400 + 1590**2 + 1595**2 + 100 + 225) / 7)
    assert rmssd_ms(peaks, allv, FS) == pytest.approx(expect, abs=1e-9)
    # no two adjacent valid intervals: no RMSSD
    assert math.isnan(rmssd_ms(peaks[:3], np.array([True, False]), FS))
    rri = nk_intervals(peaks, valid, FS)
    assert np.isnan(rri["RRI"][4]) and rri["RRI"][5] == 805.0
    assert rri["RRI_Time"][5] == pytest.approx(peaks[6] / FS)


def _constructed(rr_ms, gap, kind="ecg"):
    """A ProcessedSignal with R-peaks at the given intervals and a masked stretch."""
    peaks = _peaks(rr_ms)
    n = int(peaks[-1] + 1000)
    bad = np.zeros(n, dtype=bool)
    bad[gap[0] : gap[1]] = True
    rate = interval_rate(peaks, intervals_valid(peaks, bad, 1000), FS, n)
    df = pd.DataFrame({"ECG_Rate": rate})
    df.loc[bad, :] = np.nan
    return ProcessedSignal(kind=kind, channel="ECG", sfreq=FS, t0=0.0, signals=df,
                           events={"peaks": peaks}, bad=bad, usable=True)


def test_window_and_hrv_rmssd_on_a_known_rr_series():
    # 10 intervals, then a 4-s one with 1 s masked in its middle, then 10 more
    before = [800, 820, 790, 810, 830, 800, 780, 800, 820, 810]
    after = [790, 800, 815, 805, 800, 790, 810, 820, 800, 800]
    rr = [*before, 4000, *after]
    peaks = _peaks(rr)
    gap = (int(peaks[10] + 1500), int(peaks[10] + 2500))
    proc = _constructed(rr, gap)
    valid = intervals_valid(peaks, proc.bad, 1000)
    assert np.flatnonzero(~valid).tolist() == [10]
    # with a guard wider than the 1.5-s margins both neighbours go too
    wide = intervals_valid(peaks, proc.bad, 1600)
    assert np.flatnonzero(~wide).tolist() == [9, 10, 11]
    diffs = [b - a for a, b in zip(before[:-1], before[1:], strict=True)]
    diffs += [b - a for a, b in zip(after[:-1], after[1:], strict=True)]
    expect = math.sqrt(sum(d * d for d in diffs) / len(diffs))
    # by hand: squares 400 900 400 400 900 400 400 400 100 | 100 225 100 25 100 400 100 400 0
    assert expect == pytest.approx(math.sqrt((4300 + 1450) / 18), abs=1e-12)  # 17.873 ms
    feats = window_features(proc, 0.0, proc.stop_s, max_bad=0.5)
    assert feats["rmssd_ms"] == pytest.approx(expect, abs=1e-9)
    assert feats["n_beats"] == 22
    hrv = hrv_features(proc, domains=("time",))
    assert hrv["HRV_RMSSD"] == pytest.approx(expect, abs=1e-6)
    assert hrv["HRV_MeanNN"] == pytest.approx(np.mean(before + after), abs=1e-6)


def test_heart_rate_is_not_interpolated_across_a_gap():
    # 60 bpm exactly, a gap hiding three beats: the 4-s interval would read 15 bpm
    rr = [1000] * 20 + [4000] + [1000] * 20
    peaks = _peaks(rr)
    gap = (int(peaks[20] + 1200), int(peaks[20] + 2800))
    proc = _constructed(rr, gap)
    rate = proc.signals["ECG_Rate"].to_numpy()
    finite = np.isfinite(rate)
    assert np.allclose(rate[finite], 60.0, atol=1e-9)
    # unknown between the last beat before the gap and the first one after it
    assert not finite[peaks[20] + 1 : peaks[21]].any()
    assert finite[: peaks[20] + 1].all() and finite[peaks[21] :].all()
    feats = window_features(proc, 10.0, 40.0, max_bad=0.5)
    assert feats["hr_mean_bpm"] == pytest.approx(60.0, abs=1e-9)
    assert feats["hr_std_bpm"] == pytest.approx(0.0, abs=1e-9)


# --- breathing --------------------------------------------------------------------------------


def test_longest_breath_interval_skips_intervals_at_a_gap():
    peaks = np.array([100, 500, 900, 1700, 2100, 2500])  # 4, 4, 8 (a pause), 4, 4 (x100)
    bad = np.zeros(3000, dtype=bool)
    assert longest_breath_interval(peaks, bad, 0, 3000) == (800, 900)
    # a 10 (x100) "interval" whose middle is masked is not a pause
    peaks2 = np.array([100, 500, 900, 1700, 2100, 3100])
    bad2 = np.zeros(3500, dtype=bool)
    assert longest_breath_interval(peaks2, bad2, 0, 3500) == (1000, 2100)
    bad2[2200:2300] = True
    assert longest_breath_interval(peaks2, bad2, 0, 3500) == (800, 900)
    # the masked stretch 50 samples after the pause's closing breath: a guard of 60 drops it
    bad[:] = False
    bad[1750:1760] = True
    assert longest_breath_interval(peaks, bad, 0, 3000, guard=0) == (800, 900)
    assert longest_breath_interval(peaks, bad, 0, 3000, guard=60) == (400, 100)


def test_breathing_rate_across_a_gap():
    # 15 breaths per minute (4-s cycles) with a 3-s NaN gap
    t = np.arange(int(120 * FS)) / FS
    x = np.sin(2 * np.pi * 0.25 * t) + 0.3 * np.sin(2 * np.pi * 0.5 * t + 0.4)
    for start in (50.5, 61.0):
        y = x.copy()
        y[int(start * FS) : int((start + 3) * FS)] = np.nan
        proc = process_signal(y, FS, "rsp")
        rate = proc.signals["RSP_Rate"].to_numpy()
        mid = rate[int(20 * proc.sfreq) : int(100 * proc.sfreq)]
        # kept intervals are 4.00 or 4.01 s (100-Hz peaks); one across the gap is 7-8 s
        assert np.nanmin(mid) > 14.9 and np.nanmax(mid) < 15.1
        feats = window_features(proc, 30.0, 90.0, max_bad=0.3)
        assert feats["rate_mean_bpm"] == pytest.approx(15.0, abs=0.01)
        assert feats["breath_interval_max_s"] == pytest.approx(4.0, abs=0.011)
        amp = proc.signals["RSP_Amplitude"].to_numpy()
        clean_amp = process_signal(x, FS, "rsp").signals["RSP_Amplitude"].to_numpy()
        ok = np.isfinite(amp)
        # the filters settle within 3 % of the gap-free amplitude next to the gap
        assert np.allclose(amp[ok], clean_amp[ok], rtol=0.03)


# --- the real ECG -----------------------------------------------------------------------------


def _ecg() -> np.ndarray:
    spec = importlib.util.find_spec("biosignalsnotebooks")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("biosignalsnotebooks is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "notebook_files" / "osf_files" / "signal_samples" / "ecg_5_min.h5"
    if not path.exists():
        pytest.skip("ecg_5_min.h5 is not in this biosignalsnotebooks release")
    from mmme.physio.io import read_recording

    return read_recording(path).pick("ECG").astype(float)


@pytest.fixture(scope="module")
def real_ecg():
    x = _ecg()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = summarize_signal(x, FS, "ecg")
    return x, base


def _remaining_rmssd(x: np.ndarray, bad: np.ndarray) -> float:
    """RMSSD of the gap-free recording's beats, less the intervals at the masked stretch."""
    peaks = process_signal(x, FS, "ecg", warn=False).events["peaks"]
    return rmssd_ms(peaks, intervals_valid(peaks, bad, 1000), FS)


# 20 s and 209 s: a false beat right after the gap (detector re-adapting) gave +10 % / +15 %
# without the guard; 101 s: the plain case (+890 % when the spanning interval is kept)
@pytest.mark.parametrize("start", [20_000, 101_000, 209_000])
def test_real_ecg_rmssd_survives_a_3s_gap(real_ecg, start):
    x, base = real_ecg
    assert base["rmssd_ms"] == pytest.approx(23.22, abs=0.01)
    y = x.copy()
    y[start : start + 3000] = np.nan
    s = summarize_signal(y, FS, "ecg")
    assert s["rmssd_ms"] == pytest.approx(base["rmssd_ms"], rel=0.025)
    # the beats away from the gap are found as without it: the same RMSSD to rounding
    assert s["rmssd_ms"] == pytest.approx(_remaining_rmssd(x, np.isnan(y)), abs=1e-9)
    assert s["hrv"]["HRV_RMSSD"] == pytest.approx(base["hrv"]["HRV_RMSSD"], rel=0.025)
    assert s["hrv"]["HRV_MeanNN"] == pytest.approx(base["hrv"]["HRV_MeanNN"], rel=0.003)
    assert s["hrv"]["HRV_SDNN"] == pytest.approx(base["hrv"]["HRV_SDNN"], rel=0.03)
    assert s["hr_mean_bpm"] == pytest.approx(base["hr_mean_bpm"], abs=0.2)


def test_real_ecg_event_windows_with_a_gap(real_ecg):
    """``mmme physio``'s event windows: RMSSD of a 60-s window holding a 3-s gap."""
    x, _ = real_ecg
    y = x.copy()
    y[209_000:212_000] = np.nan
    clean = process_signal(x, FS, "ecg", warn=False)
    gapped = process_signal(y, FS, "ecg", warn=False)
    wins = {"ecg": {"w": ("onset", -30.0, 30.0)}}
    a = event_features(clean, [210.0], windows=wins, max_bad=0.2)
    b = event_features(gapped, [210.0], windows=wins, max_bad=0.2)
    va = a.set_index("feature")["value"]
    vb = b.set_index("feature")["value"]
    assert vb["bad_fraction"] == pytest.approx(0.05, abs=1e-9)
    assert vb["rmssd_ms"] == pytest.approx(va["rmssd_ms"], rel=0.05)
    assert vb["hr_mean_bpm"] == pytest.approx(va["hr_mean_bpm"], abs=0.5)


def test_cli_signals_csv_with_a_gap(real_ecg, tmp_path):
    """``mmme signals`` on a CSV whose gap is empty cells."""
    x, base = real_ecg
    y = x[:120_000].copy()
    y[50_000:53_000] = np.nan
    path = tmp_path / "ecg_gap.csv"
    pd.DataFrame({"ECG": y}).to_csv(path, index=False)
    ref = summarize_signal(x[:120_000], FS, "ecg", hrv=False)
    assert ref["rmssd_ms"] == pytest.approx(24.50, abs=0.01)
    res = CliRunner().invoke(app, ["signals", str(path), "--kind", "ecg", "--sfreq", "1000",
                                   "--json"], env={**os.environ, "COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    # 2 minutes: the 5 intervals left out move RMSSD by 3.3 %; the rest is exact
    assert out["rmssd_ms"] == pytest.approx(ref["rmssd_ms"], rel=0.04)
    assert out["rmssd_ms"] == pytest.approx(_remaining_rmssd(x[:120_000], np.isnan(y)), abs=1e-9)
    assert out["sfreq"] == FS
    assert out["quality"]["nan_fraction"] == pytest.approx(0.025, abs=1e-9)


def test_real_ecg_streamed_windows_with_a_gap(real_ecg):
    """Session windows (``stream_features``): only the window holding the gap changes, and its
    RMSSD is that of the beats left in it (it was 1397 ms with the spanning interval kept)."""
    x, _ = real_ecg
    y = x.copy()
    y[101_000:104_000] = np.nan

    def windows(d):
        chunks = iter_array_chunks(d[:, None], FS, chunk_s=60.0, overlap_s=10.0)
        return stream_features(chunks, FS, ["ECG"], {"ECG": "ecg"}, win_s=10.0, margin_s=5.0,
                               max_bad=0.31).windows.set_index("start_s")

    clean, gapped = windows(x), windows(y)
    # windows of other chunks, and after the gap, are untouched
    far = (clean.index < 50) | (clean.index > 110)
    pd.testing.assert_frame_equal(clean[far], gapped[far], rtol=1e-12)
    # 50-60 s sits at the start of the chunk holding the gap: NeuroKit2 extrapolates the rate
    # before a chunk's first beat with the mean period of its run of beats, which the gap
    # shortens (0.009 bpm)
    assert gapped.loc[50.0, "ECG_hr_mean_bpm"] == pytest.approx(
        clean.loc[50.0, "ECG_hr_mean_bpm"], abs=0.02)
    assert (clean.loc[50:90, "ECG_rmssd_ms"] == gapped.loc[50:90, "ECG_rmssd_ms"]).all()
    assert gapped.loc[100.0, "ECG_bad_fraction"] == pytest.approx(0.3, abs=1e-9)
    peaks = process_signal(x, FS, "ecg", warn=False).events["peaks"]
    inw = peaks[(peaks >= 100_000) & (peaks < 110_000)]
    expect = rmssd_ms(inw, intervals_valid(inw, np.isnan(y), 1000), FS)
    assert gapped.loc[100.0, "ECG_rmssd_ms"] == pytest.approx(expect, abs=1e-9)
    assert clean.loc[100.0, "ECG_rmssd_ms"] == pytest.approx(28.36, abs=0.01)
