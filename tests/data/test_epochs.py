"""The one epoch cutter: samples computed by hand from the clock map, late in a 73-min session.

Channel 0 of every stream is the device sample index, so each cut says exactly which samples it
holds. The physio device runs 538.3 ms ahead with 50 ppm drift (219 samples at 73 min), the EEG
-241.7 ms with -20 ppm: ignoring the offset, the drift or mixing device and common samples is off
by hundreds of samples.
"""

from __future__ import annotations

import logging

import mne
import numpy as np
import pandas as pd
import pytest
from store_builder import build_store

from mmme.data.streams import SignalStream
from mmme.data.sync import ClockMap
from mmme.errors import InputError

FS = 1000.0
CLOCKS = {
    "eeg": ClockMap(offset=-0.2417, scale=1 - 20e-6),
    "physio": ClockMap(offset=0.5383, scale=1 + 50e-6),
}
LATE = np.array([4290.0004, 4300.1234567, 4300.1234567, 4310.4996])  # a repeated onset too
TMIN, TMAX = -0.5, 1.0


@pytest.fixture(scope="module")
def long_store(tmp_path_factory):
    events = [{"trial": "101", "onset_s": 4300.1234567, "apex_s": 4300.2634567,
               "offset_s": 4300.5, "emotion": "disgust", "type": "ME"}]
    return build_store(tmp_path_factory.mktemp("long") / "store", minutes=73.0, clocks=CLOCKS,
                       eeg_names=["FZ", "OZ", "HEO"], events=events)


def by_hand(clock: ClockMap, t: np.ndarray) -> np.ndarray:
    """Device samples of common times on the stream's common-clock grid, from the clock map."""
    fs_c = FS / clock.scale
    return (np.rint(t * fs_c) - np.rint(clock.offset * fs_c)).astype(np.int64)


def expected_window(clock: ClockMap, t: np.ndarray) -> np.ndarray:
    fs_c = FS / clock.scale
    n0, n1 = round(TMIN * fs_c), round(TMAX * fs_c)
    return by_hand(clock, t)[:, None] + np.arange(n0, n1 + 1)[None, :]


@pytest.mark.parametrize("device", ["eeg", "physio"])
def test_session_epochs_match_hand_indices(long_store, device):
    ses = long_store.session("S01")
    clock = CLOCKS[device]
    exp = expected_window(clock, LATE)
    # the hand rule is within one sample of the exact device position ...
    exact = clock.to_device(LATE) * FS
    assert np.all(np.abs(by_hand(clock, LATE) - exact) <= 1.0)
    # ... and far from what ignoring drift or offset would give
    assert np.all(np.abs(by_hand(clock, LATE) - np.rint((LATE - clock.offset) * FS)) > 80)
    assert np.all(np.abs(by_hand(clock, LATE) - np.rint(LATE * FS)) > 80)
    name = ses.streams[device].ch_names[0]
    ep = ses.epochs(device, LATE, TMIN, TMAX, picks=name)
    got = ep.get_data(copy=True)[:, 0]
    np.testing.assert_array_equal(got, exp)
    assert len(ep) == len(LATE) and ep.metadata["time_s"].tolist() == LATE.tolist()
    assert ep.info["sfreq"] == pytest.approx(FS / clock.scale, abs=0)
    assert ep.times[0] == pytest.approx(round(TMIN * FS / clock.scale) / ep.info["sfreq"])


@pytest.mark.parametrize("device", ["eeg", "physio"])
def test_to_mne_on_common_clock_cuts_the_same_samples(long_store, device):
    s = long_store.session("S01").streams[device]
    clock = CLOCKS[device]
    raw = s.to_mne(4280.0, 4340.0)
    a = int(np.ceil(clock.to_device(4280.0) * FS))
    assert raw.get_data(picks=[0])[0, 0] == a  # the window's first device sample
    # first_time is the first sample's common-clock time, to half a sample
    assert abs(raw.first_time - clock.to_common(a / FS)) <= 0.5 / raw.info["sfreq"]
    assert raw.first_time >= 4280.0 - 0.5 / FS
    events = np.column_stack([np.rint(LATE * raw.info["sfreq"]), np.zeros(len(LATE)),
                              np.ones(len(LATE))]).astype(int)
    ep = mne.Epochs(raw, events, tmin=TMIN, tmax=TMAX, baseline=None, preload=True,
                    event_repeated="drop", verbose="error")
    kept = np.unique(LATE)
    np.testing.assert_array_equal(ep.get_data(picks=[0])[:, 0], expected_window(clock, kept))
    # and the same as the cutter's
    ours = s.epochs(kept, TMIN, TMAX).get_data(copy=True)
    np.testing.assert_array_equal(ep.get_data(), ours)


def test_to_mne_window_and_channel_types(long_store):
    s = long_store.session("S01").streams["eeg"]
    raw = s.to_mne(100.0, 160.0, picks=["FZ", "HEO"])
    assert raw.n_times in (59999, 60000, 60001)
    assert raw.get_channel_types() == ["eeg", "eog"]
    assert raw.get_montage() is not None and "FZ" in raw.get_montage().ch_names


def test_edges_nan_or_drop_with_metadata(long_store, caplog):
    ses = long_store.session("S01")
    s = ses.streams["physio"]
    t = np.array([s.start_s + 0.2, 100.0, s.stop_s - 0.3, s.stop_s + 5.0])
    meta = pd.DataFrame({"sample_id": ["a", "b", "c", "d"]})
    with caplog.at_level(logging.INFO, logger="mmme"):
        ep = ses.epochs("physio", t, TMIN, TMAX, picks="INDEX", metadata=meta)
    assert "cut by the end" in caplog.text and "lies outside" in caplog.text
    x = ep.get_data(copy=True)[:, 0]
    assert len(ep) == 4 and ep.metadata["sample_id"].tolist() == ["a", "b", "c", "d"]
    # first window: samples before device sample 0 are NaN, then 0, 1, 2, ...
    n_nan = -(int(by_hand(CLOCKS["physio"], t[:1])[0]) + round(TMIN * s.sfreq_common))
    assert n_nan > 0 and np.isnan(x[0, :n_nan]).all()
    first_valid = np.flatnonzero(np.isfinite(x[0]))[0]
    assert first_valid == n_nan and x[0, first_valid] == 0.0
    assert np.all(np.diff(x[0, first_valid:]) == 1.0)
    assert np.isfinite(x[1]).all() and np.isnan(x[3]).all()
    last = x[2][np.isfinite(x[2])]
    assert last[-1] == s.n_samples - 1 and np.isnan(x[2, -1])
    dropped = ses.epochs("physio", t, TMIN, TMAX, picks="INDEX", metadata=meta, on_edge="drop")
    assert dropped.metadata["sample_id"].tolist() == ["b"]
    np.testing.assert_array_equal(dropped.get_data(copy=True)[0, 0], x[1])
    with pytest.raises(InputError, match="on_edge"):
        ses.epochs("physio", t, TMIN, TMAX, on_edge="clip")
    with pytest.raises(InputError, match="metadata has 1 rows for 4 events"):
        ses.epochs("physio", t, TMIN, TMAX, metadata=meta.iloc[:1])
    with pytest.raises(InputError, match="channel 'ECG'"):
        ses.epochs("physio", t, TMIN, TMAX, picks="ECG")


def test_verbose_reaches_the_logger(long_store, caplog):
    ses = long_store.session("S01")
    t = [ses.streams["eeg"].stop_s + 1.0]
    with caplog.at_level(logging.DEBUG, logger="mmme"):
        ses.epochs("eeg", t, TMIN, TMAX, verbose=False)
        assert "lies outside" not in caplog.text
        ses.epochs("eeg", t, TMIN, TMAX, verbose=True)
        assert "lies outside" in caplog.text
    assert logging.getLogger("mmme").level == logging.WARNING  # restored after the call


def test_from_array_grid_and_first_time():
    x = np.arange(1000, dtype=float)[None]
    s = SignalStream.from_array(x, 100.0, ["I"], first_time=2.004)
    assert s.first_samp == 200 and s.grid_shift_s == pytest.approx(-0.004)
    ep = s.epochs([5.0], -0.1, 0.1)
    # 5.0 s on the grid is sample 500 - 200 = 300
    np.testing.assert_array_equal(ep.get_data(copy=True)[0, 0], np.arange(290, 311))
    assert ep.events[0, 0] == 500
    raw = s.to_mne(3.0, 4.0)
    assert raw.first_samp == 300 and raw.get_data()[0, 0] == 100.0
    with pytest.raises(InputError, match=r"does not match 2 channel names"):
        SignalStream.from_array(x, 100.0, ["a", "b"])


@pytest.mark.parametrize("at", ["onset", "apex", "offset"])
def test_samples_epochs_match_session_epochs_and_hand(long_store, at):
    from mmme.data import Samples

    samples = Samples.from_store(long_store, types=None, label="emotion")
    assert len(samples) == 1
    t = np.array([long_store.annotations[f"{at}_s"].iloc[0]])
    for device, clock in CLOCKS.items():
        pick = long_store.session("S01").streams[device].ch_names[0]
        ep = samples.epochs(device, TMIN, TMAX, picks=pick, at=at)
        np.testing.assert_array_equal(ep.get_data(copy=True)[:, 0], expected_window(clock, t))
        ses_ep = long_store.session("S01").epochs(device, t, TMIN, TMAX, picks=pick)
        np.testing.assert_array_equal(ep.get_data(), ses_ep.get_data())
        assert ep.metadata["sample_id"].tolist() == ["test/S01/1/101/0"]
        assert ep.metadata["available"].tolist() == [True]
