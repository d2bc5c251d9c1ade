"""A held breath shows as one long inter-breath interval at the right time (RSP features)."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pytest

from mmme.physio import event_features, longest_breath_interval, process_signal

FS = 100
RATE_BPM = 15.0  # resting period 4 s


def _rsp_with_pause(pause_s: float, pause_dur: float, seed: int = 3) -> np.ndarray:
    """60 s of breathing whose waveform is frozen (breath held) for ``pause_dur`` s."""
    base = nk.rsp_simulate(duration=80, sampling_rate=FS, respiratory_rate=RATE_BPM, noise=0.0,
                           random_state=seed)
    t = np.arange(60 * FS) / FS
    phase = np.where(t < pause_s, t, np.where(t < pause_s + pause_dur, pause_s, t - pause_dur))
    x = np.interp(phase, np.arange(base.size) / FS, base)
    return x + np.random.default_rng(seed).normal(0, 0.01, t.size)


def _features(x: np.ndarray, onset_s: float) -> dict[tuple[str, str], float]:
    tidy = event_features(process_signal(x, FS, "rsp"), [onset_s])
    return {(w, f): v for w, f, v in tidy[["window", "feature", "value"]].itertuples(index=False)}


@pytest.mark.parametrize(("pause_s", "dur"), [(30.0, 3.0), (32.0, 1.5), (33.3, 2.5)])
def test_breath_pause_is_one_long_interval_at_the_pause(pause_s, dur):
    onset = pause_s - 0.5  # the synth holds the breath 0.2-0.8 s after an expression onset
    f = _features(_rsp_with_pause(pause_s, dur), onset)
    period = 60.0 / RATE_BPM
    base_max = f["baseline", "breath_interval_max_s"]
    resp_max = f["response", "breath_interval_max_s"]
    # the pause adds its length to one interval; breathmetrics breaths vary by ~+-0.7 s
    assert resp_max == pytest.approx(period + dur, abs=0.8)
    assert base_max < period + 0.8
    assert resp_max - base_max == pytest.approx(dur, abs=1.0)
    # timing: the long interval opens at the last breath before the pause and spans all of it
    opened = onset + f["response", "breath_interval_max_latency_s"]
    assert pause_s - period - 0.3 <= opened <= pause_s
    assert opened + resp_max >= pause_s + dur


def test_no_pause_no_long_interval():
    f = _features(_rsp_with_pause(30.0, 0.0), 29.5)
    assert f["response", "breath_interval_max_s"] < 60.0 / RATE_BPM + 0.8
    assert abs(f["response", "breath_interval_max_s"]
               - f["baseline", "breath_interval_max_s"]) < 0.8


def test_longest_breath_interval_skips_masked_breaths():
    peaks = np.array([0, 400, 800, 1600, 2000])  # a breath near 1200 was lost ...
    bad = np.zeros(2100, dtype=bool)
    assert longest_breath_interval(peaks, bad, 0, 2100) == (800, 800)
    assert longest_breath_interval(peaks, bad, 1700, 2100) == (400, 1600)  # ends in the window
    bad[1150:1250] = True  # ... to a masked stretch: not a pause
    assert longest_breath_interval(peaks, bad, 0, 2100) == (400, 0)
    assert longest_breath_interval(peaks[:1], bad, 0, 2100) == (0, -1)
    assert longest_breath_interval(peaks, np.zeros(0, bool), 0, 300) == (0, -1)
