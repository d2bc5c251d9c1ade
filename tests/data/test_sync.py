"""Clock synchronisation against a constructed session with known offsets and drifts."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from mmme.data.sync import (
    NOISE_MARKERS,
    ClockMap,
    clean_markers,
    fit_clock,
    match_markers,
    sync_report,
    synchronize,
)
from mmme.errors import InputError, SyncError

# device -> (offset s, drift ppm, sampling rate of its time stamps); common = offset + scale * dev
TRUTH = {
    "eeg": (0.0, 0.0, 1000.0),
    "physio": (-12.3, 37.0, 1000.0),
    "video": (4.56, -42.0, 150.0),
}
JITTER_SD = 0.2e-3
N = 96  # 48 clips + 48 rests


def _event_times(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Codes and common times of a ~73-minute session: clip 101..148, then rest 100."""
    codes, times, t = [], [], 20.0
    for clip in range(101, 149):
        codes += [clip, 100]
        rest = t + rng.uniform(58.0, 62.0)
        times += [t, rest]
        t = rest + rng.uniform(28.0, 35.0)
    return np.array(codes), np.array(times)


@pytest.fixture(scope="session")
def session() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(20230721)
    codes, common = _event_times(rng)
    assert 72 * 60 < common[-1] < 75 * 60
    out = {}
    for name, (offset, ppm, fs) in TRUTH.items():
        scale = 1.0 + ppm * 1e-6
        dev = (common - offset) / scale + rng.normal(0.0, JITTER_SD, len(common))
        dev = np.round(dev * fs) / fs  # sample / frame quantisation
        if name == "video":
            dev = np.round(dev, 3)  # the camera stamps file names in ms
        table = pd.DataFrame({"code": codes, "time": dev})
        if name != "video":  # line noise on the trigger cables of the 1 kHz devices
            noise_t = rng.uniform(dev[0], dev[-1], 3)
            noise = pd.DataFrame({"code": [77, 88, 77], "time": noise_t})
            table = pd.concat([table, noise]).sample(frac=1.0, random_state=1)  # unsorted
        out[name] = table.reset_index(drop=True)
    return out


def _assert_clock(clock: ClockMap, device: str, dev_times: np.ndarray) -> None:
    """Offset within 1 ms and drift within 0.5 ppm of the truth, or 4 standard errors.

    The camera's frame rounding (rms 1/(150 sqrt 12) = 1.9 ms) gives its offset, extrapolated to
    device time 0, a standard error of ~0.4 ms over a full session and more over part of one;
    the 1 kHz devices stay an order of magnitude inside 1 ms / 0.5 ppm.
    """
    offset, ppm, fs = TRUTH[device]
    var = 2 * JITTER_SD**2 + 1 / (12 * fs**2) + 1 / (12 * 1000.0**2)  # device + eeg
    if device == "video":
        var += 1 / (12 * 1000.0**2)  # ms file-name stamps
    x = np.asarray(dev_times, dtype=float)
    sxx = np.sum((x - x.mean()) ** 2)
    se_offset = np.sqrt(var * (1 / len(x) + x.mean() ** 2 / sxx))
    se_ppm = np.sqrt(var / sxx) * 1e6
    assert abs(clock.offset - offset) < max(1e-3, 4 * se_offset)
    assert abs(clock.drift_ppm - ppm) < max(0.5, 4 * se_ppm)


def _copy(session: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: clean_markers(v) for k, v in session.items()}


# --- recovery of the known clocks ----------------------------------------------------------


@pytest.fixture(scope="session")
def clocks(session: dict[str, pd.DataFrame]) -> dict[str, ClockMap]:
    return synchronize(session)


@pytest.mark.parametrize("device", ["physio", "video"])
def test_recovers_offset_and_drift(
    session: dict[str, pd.DataFrame], clocks: dict[str, ClockMap], device: str
) -> None:
    fs = TRUTH[device][2]
    clock = clocks[device]
    _assert_clock(clock, device, clean_markers(session[device])["time"].to_numpy())
    assert clock.n_markers == N
    if fs == 1000.0:
        assert clock.residual_rms_s <= 1e-3
    else:
        # frame rounding: uniform over one frame, rms 1/(150 sqrt 12) = 1.9 ms, max half a frame
        assert 1.5e-3 < clock.residual_rms_s < 2.5e-3
    assert clock.residual_max_s <= 0.5 / fs + 0.5e-3 + 4 * JITTER_SD * np.sqrt(2)


def test_reference_is_identity(clocks: dict[str, ClockMap]) -> None:
    assert list(clocks) == ["eeg", "physio", "video"]
    ref = clocks["eeg"]
    assert (ref.offset, ref.scale, ref.drift_ppm) == (0.0, 1.0, 0.0)
    assert ref.n_markers == N  # noise markers not counted


@pytest.mark.parametrize("device", ["physio", "video"])
def test_maps_device_markers_onto_reference(
    session: dict[str, pd.DataFrame], clocks: dict[str, ClockMap], device: str
) -> None:
    ref, dev = clean_markers(session["eeg"]), clean_markers(session[device])
    mapped = clocks[device].to_common(dev["time"].to_numpy())
    err = np.abs(mapped - ref["time"].to_numpy())
    assert err.max() == pytest.approx(clocks[device].residual_max_s, abs=1e-9)
    assert np.allclose(clocks[device].to_device(mapped), dev["time"], rtol=0, atol=1e-9)


def test_round_trip_and_scalars() -> None:
    clock = ClockMap(offset=-12.3, scale=1 + 37e-6)
    t = np.linspace(0.0, 4400.0, 11)
    assert np.allclose(clock.to_device(clock.to_common(t)), t, rtol=0, atol=1e-10)
    assert np.allclose(clock.to_common(clock.to_device(t)), t, rtol=0, atol=1e-10)
    c = clock.to_common(1000.0)
    assert isinstance(c, float)
    assert c == pytest.approx(-12.3 + 1000.0 * (1 + 37e-6), abs=1e-12)
    assert clock.to_device(c) == pytest.approx(1000.0, abs=1e-10)
    assert clock.drift_ppm == pytest.approx(37.0)


def test_dict_round_trip_through_json(clocks: dict[str, ClockMap]) -> None:
    d = json.loads(json.dumps(clocks["video"].to_dict()))
    assert d["drift_ppm"] == pytest.approx(clocks["video"].drift_ppm)
    assert ClockMap.from_dict(d) == clocks["video"]
    assert ClockMap.from_dict({"offset": 2.5}) == ClockMap(offset=2.5)
    with pytest.raises(InputError, match="offset"):
        ClockMap.from_dict({"scale": 1.0})
    with pytest.raises(ValueError, match="scale"):
        ClockMap(offset=0.0, scale=0.0)


def test_fit_clock_is_exact_on_noiseless_long_session() -> None:
    dev = np.linspace(3.0, 4400.0, 96)
    ref = 1234.5 + (1 + 49e-6) * dev
    clock = fit_clock(ref, dev)
    assert clock.offset == pytest.approx(1234.5, abs=1e-9)
    assert clock.drift_ppm == pytest.approx(49.0, abs=1e-6)
    assert clock.residual_max_s < 1e-9
    two = fit_clock([10.0, 20.0], [0.0, 10.0])
    assert (two.offset, two.scale, two.n_markers) == (10.0, 1.0, 2)
    with pytest.raises(SyncError, match="at least 2"):
        fit_clock([1.0], [2.0], device="physio")


def test_sync_report(clocks: dict[str, ClockMap]) -> None:
    rep = sync_report(clocks)
    assert list(rep.columns) == [
        "device",
        "offset_s",
        "drift_ppm",
        "residual_rms_ms",
        "residual_max_ms",
        "n_markers",
    ]
    row = rep.set_index("device").loc["physio"]
    assert row["offset_s"] == pytest.approx(-12.3, abs=1e-3)
    assert row["drift_ppm"] == pytest.approx(37.0, abs=0.5)
    assert row["residual_rms_ms"] == pytest.approx(clocks["physio"].residual_rms_s * 1e3)
    assert rep["n_markers"].tolist() == [N, N, N]


def test_logs_jitter_per_device(
    session: dict[str, pd.DataFrame], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="mmme"):
        synchronize(session)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "physio -> eeg" in text and "video -> eeg" in text and "jitter rms" in text


# --- reference choice and marker tables ----------------------------------------------------


def test_reference_choice(session: dict[str, pd.DataFrame]) -> None:
    no_eeg = {"video": session["video"], "physio": session["physio"]}
    clocks = synchronize(no_eeg)
    assert clocks["physio"] == ClockMap(offset=0.0, n_markers=N)
    # video on the physio clock: compose the two known maps
    (o_p, d_p, _), (o_v, d_v, _) = TRUTH["physio"], TRUTH["video"]
    s_p, s_v = 1 + d_p * 1e-6, 1 + d_v * 1e-6
    assert clocks["video"].offset == pytest.approx((o_v - o_p) / s_p, abs=1e-3)
    assert clocks["video"].scale == pytest.approx(s_v / s_p, abs=0.5e-6)
    assert synchronize(session, reference="video")["video"].offset == 0.0
    assert synchronize({"cam": session["video"], "x": session["eeg"]})["cam"].offset == 0.0
    with pytest.raises(SyncError, match="'ecg'"):
        synchronize(session, reference="ecg")


def test_clean_markers(session: dict[str, pd.DataFrame]) -> None:
    raw = session["physio"]
    assert raw["code"].isin(NOISE_MARKERS).sum() == 3
    clean = clean_markers(raw)
    assert len(clean) == N
    assert not clean["code"].isin(NOISE_MARKERS).any()
    assert clean["time"].is_monotonic_increasing
    assert clean["code"].dtype == np.int64 and clean["time"].dtype == np.float64
    assert clean["code"].tolist()[:4] == [101, 100, 102, 100]
    assert len(clean_markers(raw, ignore=())) == N + 3


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (pd.DataFrame({"code": [101, 100], "t": [1.0, 2.0]}), "lacks column"),
        (pd.DataFrame({"code": [101, 100, 102, 100], "time": [1.0, 2, np.nan, 4]}), "row 2"),
        (pd.DataFrame({"code": [101, "x", 102], "time": [1.0, 2, 3]}), "row 1"),
        (pd.DataFrame({"code": [101, 100.5], "time": [1.0, 2]}), "row 1"),
    ],
)
def test_clean_markers_rejects_bad_tables(table: pd.DataFrame, match: str) -> None:
    with pytest.raises(InputError, match=match):
        clean_markers(table)


def test_match_returns_positions_in_raw_tables(session: dict[str, pd.DataFrame]) -> None:
    ref, dev = session["eeg"], session["physio"]  # shuffled, with noise
    ri, di = match_markers(ref, dev, device="physio", reference_name="eeg")
    assert len(ri) == len(di) == N
    assert (ref["code"].to_numpy()[ri] == dev["code"].to_numpy()[di]).all()
    assert np.all(np.diff(ref["time"].to_numpy()[ri]) > 0)


# --- discrepancies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "k"),
    [("physio", 0), ("physio", 33), ("video", 50), ("video", 64), ("physio", 95)],
)
def test_missing_marker_is_named(session: dict[str, pd.DataFrame], device: str, k: int) -> None:
    markers = _copy(session)
    code = int(markers["eeg"]["code"][k])
    markers[device] = markers[device].drop(index=k)
    with pytest.raises(SyncError) as info:
        synchronize(markers)
    msg = str(info.value)
    assert info.value.device == device and info.value.marker == code
    assert f"'{device}'" in msg and f"lacks marker {code} (#{k + 1} of {N} in 'eeg'" in msg
    assert f"{markers['eeg']['time'][k]:.3f} s" in msg
    # a missing first or last marker looks like a truncated recording: say so
    assert ("allow_truncated" in msg) == (k in (0, N - 1))


@pytest.mark.parametrize(
    ("device", "code", "after"),
    [("physio", 100, 10), ("video", 130, 40), ("physio", 99, 70), ("video", 148, 95)],
)
def test_extra_marker_is_named(
    session: dict[str, pd.DataFrame], device: str, code: int, after: int
) -> None:
    markers = _copy(session)
    dev = markers[device]
    t = dev["time"][after] + 5.0
    markers[device] = clean_markers(pd.concat([dev, pd.DataFrame({"code": [code], "time": [t]})]))
    with pytest.raises(SyncError) as info:
        synchronize(markers)
    assert info.value.device == device and info.value.marker == code
    assert f"'{device}'" in str(info.value) and f"extra marker {code}" in str(info.value)


@pytest.mark.parametrize(("i", "j"), [(20, 22), (30, 31)])
@pytest.mark.parametrize("device", ["physio", "video"])
def test_swapped_pair_is_named(
    session: dict[str, pd.DataFrame], device: str, i: int, j: int
) -> None:
    markers = _copy(session)
    codes = markers[device]["code"].to_numpy().copy()
    codes[[i, j]] = codes[[j, i]]
    markers[device] = markers[device].assign(code=codes)
    with pytest.raises(SyncError) as info:
        synchronize(markers)
    msg = str(info.value)
    assert info.value.device == device
    assert info.value.marker == codes[i]  # the first misplaced one
    assert f"has marker {codes[i]} (#{i + 1} of {N} in '{device}'" in msg
    assert f"'eeg' has marker {codes[j]}" in msg and "different order" in msg


def test_different_code_is_named(session: dict[str, pd.DataFrame]) -> None:
    markers = _copy(session)
    markers["physio"].loc[44, "code"] = 132  # a flipped trigger bit on 123
    with pytest.raises(SyncError, match=r"has marker 132 \(#45 of 96 in 'physio'.*marker 123"):
        synchronize(markers)


# --- truncated devices --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "keep"),
    [("physio", slice(6, None)), ("video", slice(6, None)), ("video", slice(0, N - 5))],
)
def test_truncated_device_is_accepted_when_allowed(
    session: dict[str, pd.DataFrame], device: str, keep: slice
) -> None:
    markers = _copy(session)
    markers[device] = markers[device].iloc[keep]  # started 3 clips late / stopped early
    with pytest.raises(SyncError, match="allow_truncated"):
        synchronize(markers)
    clock = synchronize(markers, allow_truncated=True)[device]
    n = len(range(N)[keep])
    assert clock.n_markers == n
    ri, di = match_markers(markers["eeg"], markers[device], device=device, allow_truncated=True)
    assert ri.tolist() == list(range(N)[keep]) and di.tolist() == list(range(n))
    _assert_clock(clock, device, markers[device]["time"].to_numpy())


def test_truncated_device_with_a_hole_is_rejected(session: dict[str, pd.DataFrame]) -> None:
    markers = _copy(session)
    late = markers["physio"].iloc[6:]
    markers["physio"] = late.drop(index=40)  # clip 121
    with pytest.raises(SyncError) as info:
        synchronize(markers, allow_truncated=True)
    assert info.value.device == "physio" and info.value.marker == 121
    assert "lacks marker 121 (#41 of 96 in 'eeg'" in str(info.value)
    assert "allow_truncated" not in str(info.value)


def test_truncated_device_needs_three_markers(session: dict[str, pd.DataFrame]) -> None:
    markers = _copy(session)
    markers["video"] = markers["video"].iloc[10:12]
    with pytest.raises(SyncError, match="at least 3"):
        synchronize(markers, allow_truncated=True)
    markers["video"] = _copy(session)["video"].iloc[10:13]
    assert synchronize(markers, allow_truncated=True)["video"].n_markers == 3


def test_ambiguous_truncated_run_is_rejected() -> None:
    ref = pd.DataFrame({"code": [101, 100, 100, 100, 102, 100], "time": np.arange(6.0)})
    dev = pd.DataFrame({"code": [100, 100, 100], "time": np.arange(3.0)})
    dev2 = pd.DataFrame({"code": [100, 100], "time": np.arange(2.0)})
    ri, _ = match_markers(ref, dev, device="d", allow_truncated=True)
    assert ri.tolist() == [1, 2, 3]
    with pytest.raises(SyncError, match="at least 3"):
        match_markers(ref, dev2, device="d", allow_truncated=True)
    dev3 = pd.DataFrame({"code": [100, 100, 100], "time": np.arange(3.0)})
    ref3 = pd.DataFrame({"code": [100, 100, 100, 100], "time": np.arange(4.0)})
    with pytest.raises(SyncError, match="fit 2 places"):
        match_markers(ref3, dev3, device="d", allow_truncated=True)


# --- wrong pairing and clips-only cameras ----------------------------------------------------


def test_large_residual_names_the_marker(session: dict[str, pd.DataFrame]) -> None:
    markers = _copy(session)
    markers["physio"].loc[57, "time"] += 0.08  # a trigger glitch on clip 129's rest
    with pytest.raises(SyncError) as info:
        synchronize(markers)
    assert info.value.device == "physio" and info.value.marker == 100
    assert "marker 100 (#58)" in str(info.value)
    markers["physio"].loc[57, "time"] -= 0.075  # 5 ms: plausible by default, not below 3 ms
    assert synchronize(markers)["physio"].residual_max_s > 4e-3
    with pytest.raises(SyncError, match=r"marker 100 \(#58\)"):
        synchronize(markers, max_residual_s=0.003)


def test_clips_only_camera(session: dict[str, pd.DataFrame]) -> None:
    markers = _copy(session)
    markers["video"] = markers["video"][markers["video"]["code"] != 100]
    with pytest.raises(SyncError, match="lacks marker 100"):
        synchronize(markers)
    clocks = synchronize(markers, match_codes={"video": range(101, 149)})
    assert clocks["video"].n_markers == 48
    _assert_clock(clocks["video"], "video", markers["video"]["time"].to_numpy())
