"""Known answers for clock synchronisation, with tolerances matched to the truth.

A 73-minute session (4380 s) with a 50 ppm drift puts the last marker 219 ms away from where an
undrifted clock puts it; the fits below must recover the drift within 1 ppm (44 µs at the end of
the session) and the offset within 0.1 ms, 15 standard errors for 1 ms trigger jitter.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mmme.data.sync import ClockMap, clean_markers, fit_clock, match_markers, synchronize
from mmme.errors import SyncError

SESSION_S = 73 * 60.0  # 4380 s


def test_clock_map_by_hand():
    c = ClockMap(offset=-12.3, scale=1 + 50e-6)
    # -12.3 + 4380 * 1.00005 = -12.3 + 4380.219
    assert c.to_common(4380.0) == pytest.approx(4367.919, abs=1e-9)
    assert c.to_common(0.0) == pytest.approx(-12.3, abs=1e-12)
    # (100 + 12.3) / 1.00005 = 112.29438528...
    assert c.to_device(100.0) == pytest.approx(112.294385280736, abs=1e-9)
    assert c.to_device(4367.919) == pytest.approx(4380.0, abs=1e-9)
    assert c.drift_ppm == pytest.approx(50.0, abs=1e-6)
    assert ClockMap(offset=0.0, scale=1 - 20e-6).drift_ppm == pytest.approx(-20.0, abs=1e-6)
    t = np.array([0.0, 1000.0, 4380.0])
    assert np.allclose(c.to_common(t), [-12.3, 987.75, 4367.919], rtol=0, atol=1e-9)
    assert isinstance(c.to_common(1.0), float) and isinstance(c.to_device(1.0), float)


def test_clock_map_round_trips_at_the_end_of_a_long_session():
    c = ClockMap(offset=3.217, scale=1 - 37e-6)
    t = np.linspace(0.0, SESSION_S, 10001)
    assert np.abs(c.to_device(c.to_common(t)) - t).max() < 1e-10
    assert np.abs(c.to_common(c.to_device(t)) - t).max() < 1e-10


def test_clock_map_dict_is_plain_json_with_the_drift():
    c = ClockMap(offset=1.5, scale=1 + 25e-6, residual_rms_s=2e-4, residual_max_s=5e-4,
                 n_markers=96)
    d = json.loads(json.dumps(c.to_dict()))
    assert d["offset"] == 1.5 and d["scale"] == 1 + 25e-6 and d["n_markers"] == 96
    assert d["drift_ppm"] == pytest.approx(25.0, abs=1e-6)
    assert ClockMap.from_dict(d) == c
    assert ClockMap.from_dict({"offset": 2.0}) == ClockMap(offset=2.0, scale=1.0)
    with pytest.raises(ValueError):
        ClockMap(offset=0.0, scale=0.0)
    with pytest.raises(ValueError):
        ClockMap(offset=float("nan"))


def _markers(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Codes and reference times of a session: a clip marker every ~30 s over 73 minutes."""
    t = np.sort(rng.uniform(5.0, SESSION_S - 5.0, n))
    t[0], t[-1] = 5.0, SESSION_S - 5.0
    codes = rng.integers(1, 60, n)
    return codes, t


def test_fit_clock_recovers_50_ppm_within_1_ppm_on_73_minutes():
    rng = np.random.default_rng(7)
    _, ref = _markers(146, rng)
    offset, ppm = -2.5, 50.0
    scale = 1 + ppm * 1e-6
    dev = (ref - offset) / scale + rng.uniform(-1e-3, 1e-3, ref.size)  # 1 ms trigger jitter
    c = fit_clock(ref, dev)
    assert abs(c.drift_ppm - ppm) < 1.0
    assert abs(c.offset - offset) < 1e-4
    assert c.n_markers == 146
    # jitter uniform in +-1 ms: rms 0.577 ms, max just under 1 ms
    assert 0.45e-3 < c.residual_rms_s < 0.7e-3
    assert 0.8e-3 < c.residual_max_s < 1.1e-3
    # the map puts the last marker within 0.1 ms + jitter of the truth
    assert abs(c.to_common(dev[-1]) - ref[-1]) < 1.2e-3


def test_fit_clock_is_exact_without_jitter():
    ref = np.array([10.0, 1470.0, 2930.0, 4390.0])
    dev = (ref - 0.125) / (1 - 80e-6)
    c = fit_clock(ref, dev)
    assert c.drift_ppm == pytest.approx(-80.0, abs=1e-6)
    assert c.offset == pytest.approx(0.125, abs=1e-9)
    assert c.residual_rms_s < 1e-9 and c.residual_max_s < 1e-9


def test_fit_clock_residuals_known_by_construction():
    # residuals (+d, -d, -d, +d) at equally spaced times are orthogonal to 1 and to t: the fit
    # keeps the true line and reports rms = max = d
    d = 0.004
    dev = np.array([0.0, 1460.0, 2920.0, 4380.0])
    ref = 1.0 + (1 + 10e-6) * dev + np.array([d, -d, -d, d])
    c = fit_clock(ref, dev)
    assert c.drift_ppm == pytest.approx(10.0, abs=1e-6)
    assert c.offset == pytest.approx(1.0, abs=1e-9)
    assert c.residual_rms_s == pytest.approx(d, abs=1e-9)
    assert c.residual_max_s == pytest.approx(d, abs=1e-9)


def test_fit_clock_rms_and_max_of_unequal_residuals():
    # residuals (1, -2, 0, 2, -1) x d sum to 0 and are orthogonal to t: rms sqrt(2) d, max 2 d
    d = 0.003
    dev = np.arange(5) * 1095.0
    ref = -4.0 + (1 - 25e-6) * dev + d * np.array([1.0, -2.0, 0.0, 2.0, -1.0])
    c = fit_clock(ref, dev)
    assert c.drift_ppm == pytest.approx(-25.0, abs=1e-6)
    assert c.offset == pytest.approx(-4.0, abs=1e-9)
    assert c.residual_rms_s == pytest.approx(np.sqrt(2) * d, abs=1e-9)
    assert c.residual_max_s == pytest.approx(2 * d, abs=1e-9)


def test_fit_clock_residual_limit_and_names_the_marker():
    dev = np.array([0.0, 1460.0, 2920.0, 4380.0])
    ok = 1.0 + dev + np.array([0.024, -0.024, -0.024, 0.024])  # 24 ms: inside 25 ms
    assert fit_clock(ok, dev, max_residual_s=0.025).residual_max_s == pytest.approx(0.024)
    bad = 1.0 + dev + np.array([0.026, -0.026, -0.026, 0.026])
    with pytest.raises(SyncError, match=r"marker 42 \(#1\)"):
        fit_clock(bad, dev, max_residual_s=0.025, codes=[42, 43, 44, 45], device="physio")
    with pytest.raises(SyncError, match="against"):
        fit_clock([0.0, 1.0, 2.0], [2.0, 1.0, 0.0])
    with pytest.raises(SyncError, match="at least 2"):
        fit_clock([1.0], [1.0])


def test_synchronize_three_devices_of_a_drifting_73_minute_session():
    rng = np.random.default_rng(11)
    codes, ref = _markers(146, rng)
    truth = {"physio": (3.2, -20.0), "video": (-41.75, 50.0)}
    tables = {"eeg": pd.DataFrame({"code": codes, "time": ref})}
    for name, (off, ppm) in truth.items():
        dev = (ref - off) / (1 + ppm * 1e-6) + rng.uniform(-5e-4, 5e-4, ref.size)
        # line-noise markers 77/88 sprinkled in: ignored by the matching
        noise_t = rng.uniform(0, SESSION_S, 9)
        tables[name] = pd.DataFrame(
            {"code": np.r_[codes, [77, 88, 77, 88, 77, 88, 77, 88, 77]],
             "time": np.r_[dev, noise_t]}
        ).sample(frac=1.0, random_state=3)  # any row order
    clocks = synchronize(tables)
    assert clocks["eeg"] == ClockMap(offset=0.0, scale=1.0, n_markers=146)
    for name, (off, ppm) in truth.items():
        c = clocks[name]
        assert abs(c.drift_ppm - ppm) < 1.0, name
        assert abs(c.offset - off) < 1e-4, name
        assert c.n_markers == 146
    # an event at EEG time 4000 s lies at these device times (hand: (4000 - off) / scale)
    assert clocks["physio"].to_device(4000.0) == pytest.approx(
        (4000 - 3.2) / (1 - 20e-6), abs=2e-4
    )
    assert clocks["video"].to_device(4000.0) == pytest.approx(
        (4000 + 41.75) / (1 + 50e-6), abs=2e-4
    )


def test_synchronize_with_another_reference_composes_the_maps():
    ref = np.array([10.0, 1000.0, 2500.0, 4370.0])
    codes = np.array([101, 102, 103, 104])
    eeg = ref
    phys = (ref - 2.0) / (1 + 30e-6)  # common = 2 + (1 + 30e-6) * phys
    clocks = synchronize(
        {"eeg": pd.DataFrame({"code": codes, "time": eeg}),
         "physio": pd.DataFrame({"code": codes, "time": phys})},
        reference="physio",
    )
    # eeg onto physio: phys = (eeg - 2) / s  ->  offset -2 / s, scale 1 / s
    s = 1 + 30e-6
    assert clocks["eeg"].scale == pytest.approx(1 / s, abs=1e-12)
    assert clocks["eeg"].offset == pytest.approx(-2.0 / s, abs=1e-9)
    assert clocks["eeg"].drift_ppm == pytest.approx(-29.9991, abs=1e-3)
    assert clocks["physio"].scale == 1.0


def test_clean_markers_and_positions_by_hand():
    t = pd.DataFrame(
        {"code": [5, 77, 3, 88, 4], "time": [3.0, 0.5, 1.0, 9.0, 2.0], "x": list("abcde")}
    )
    c = clean_markers(t)
    assert c["code"].tolist() == [3, 4, 5] and c["time"].tolist() == [1.0, 2.0, 3.0]
    assert c["x"].tolist() == ["c", "e", "a"]
    ref = pd.DataFrame({"code": [1, 2, 3, 4, 5, 6], "time": [0.0, 1, 2, 3, 4, 5]})
    dev = pd.DataFrame({"code": [88, 3, 4, 5], "time": [0.0, 12.0, 13.0, 14.0]})
    ri, di = match_markers(ref, dev, device="video", allow_truncated=True)
    assert ri.tolist() == [2, 3, 4] and di.tolist() == [1, 2, 3]
