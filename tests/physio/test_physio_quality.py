"""Flat, NaN-filled and clipped channels give a named warning and masked features."""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pytest

from mmme.errors import InputError
from mmme.physio import (
    SignalQualityWarning,
    check_signal,
    event_features,
    process_signal,
    summarize_signal,
    window_features,
)

FS = 250.0


@pytest.fixture(scope="module")
def ecg():
    return nk.ecg_simulate(duration=40, sampling_rate=int(FS), heart_rate=72, random_state=2)


def test_flat_channel_warns_and_masks(ecg):
    with pytest.warns(SignalQualityWarning, match="'ECG'.*flat"):
        proc = process_signal(np.full(10_000, 0.3), FS, "ecg", channel="ECG")
    assert not proc.usable
    feats = window_features(proc, 0.0, 20.0)
    assert all(np.isnan(feats[k]) for k in ("hr_mean_bpm", "n_beats", "rmssd_ms"))


def test_nan_filled_channel_warns_and_masks():
    with pytest.warns(SignalQualityWarning, match="'EDA B'.*all_nan"):
        proc = process_signal(np.full(4000, np.nan), 100.0, "eda", channel="EDA B")
    tidy = event_features(proc, [10.0])
    assert tidy["value"].drop(tidy.index[tidy["feature"] == "bad_fraction"]).isna().all()


def test_nan_segment_masks_only_its_windows(ecg):
    x = ecg.copy()
    x[int(10 * FS) : int(14 * FS)] = np.nan
    with pytest.warns(SignalQualityWarning, match="'ECG'.*nan_samples"):
        proc = process_signal(x, FS, "ecg", channel="ECG")
    assert proc.usable
    hit = window_features(proc, 9.0, 15.0)
    clean = window_features(proc, 20.0, 26.0)
    assert np.isnan(hit["hr_mean_bpm"]) and hit["bad_fraction"] > 0.5
    assert clean["hr_mean_bpm"] == pytest.approx(72, abs=4)
    # no R-peak is invented inside the gap
    t = proc.event_times("peaks")
    assert not ((t > 10.0) & (t < 14.0)).any()


def test_clipped_channel_is_named(ecg):
    x = np.clip(ecg, None, np.quantile(ecg, 0.97))
    rep = check_signal(x, FS, channel="ECG", kind="ecg", warn=False)
    assert "clipped" in rep.problems and rep.clipped_fraction > 0.01
    with pytest.warns(SignalQualityWarning, match="'ECG'.*clipped"):
        process_signal(x, FS, "ecg", channel="ECG")


def test_clean_signal_gives_no_warning(ecg):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SignalQualityWarning)
        out = summarize_signal(ecg, FS, "ecg", hrv=False)
    assert out["hr_mean_bpm"] == pytest.approx(72, abs=3)
    assert out["quality"]["problems"] == []


def test_dead_lead_segment_is_flat_segments(ecg):
    x = ecg.copy()
    x[int(5 * FS) : int(8 * FS)] = 0.0
    rep = check_signal(x, FS, channel="ECG", kind="ecg", warn=False)
    assert "flat_segments" in rep.problems
    assert rep.bad[int(6 * FS)] and not rep.bad[int(20 * FS)]


def test_bad_arguments_raise_named_errors(ecg):
    with pytest.raises(InputError, match="unknown signal kind"):
        process_signal(ecg, FS, "ecgg", channel="X")
    with pytest.raises(InputError, match="channel 'EMG A'.*at least 250"):
        process_signal(ecg, 100.0, "emg", channel="EMG A")
    with pytest.raises(InputError, match="1-D"):
        process_signal(np.zeros((2, 100)), FS, "ecg")
