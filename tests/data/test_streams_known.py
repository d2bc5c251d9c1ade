"""Known answers for lazy streams: a drifting 1 kHz device late in a 73-minute session.

The stream's data is its own sample index (``x[k] = k``, exact in float32 below 2**24), so every
read says which samples it took. The clock is ``common = 3.2 + (1 - 20e-6) * device``: at common
time 4000 s the device is at ``3996.8 / 0.99998 = 3996.879937...`` s, sample 3996880 — 80
samples from where an undrifted clock would put it.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmme.data.streams import SignalStream
from mmme.data.sync import ClockMap

SFREQ = 1000.0
N = 73 * 60 * 1000  # 4,380,000 samples
CLOCK = ClockMap(offset=3.2, scale=1 - 20e-6)


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> SignalStream:
    path = tmp_path_factory.mktemp("streams") / "physio.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(N, 2))
    mm[:, 0] = np.arange(N, dtype=np.float32)
    mm[:, 1] = -np.arange(N, dtype=np.float32)
    mm.flush()
    del mm
    return SignalStream(path, ["ECG", "RSP"], ["mV", "V"], SFREQ, CLOCK, "physio")


def test_extent_and_rate_on_the_common_clock(stream):
    assert stream.n_samples == N
    assert stream.duration_s == 4380.0
    assert stream.start_s == pytest.approx(3.2, abs=1e-12)
    # 3.2 + 4380 * 0.99998 = 3.2 + 4379.9124
    assert stream.stop_s == pytest.approx(4383.1124, abs=1e-9)
    assert stream.sfreq_common == pytest.approx(1000.0 / 0.99998, abs=1e-9)  # 1000.02 Hz
    assert stream.times(0, 1)[0] == pytest.approx(3.2, abs=1e-12)
    # sample 4,000,000 at 3.2 + 4000 * 0.99998 = 3.2 + 3999.92
    assert stream.times(4_000_000, 4_000_001)[0] == pytest.approx(4003.12, abs=1e-9)


def test_sample_index_late_in_the_session_by_hand(stream):
    assert int(stream.sample_index(4000.0)) == 3996880
    assert int(stream.sample_index(3.2)) == 0
    assert stream.sample_index(np.array([3.2, 1003.2, 4000.0])).tolist() == [0, 1000020, 3996880]
    # 1003.2 s: (1000 / 0.99998) s = 1000.0200004 s -> sample 1000020


def test_get_data_takes_the_samples_at_or_after_start_and_before_stop(stream):
    data, times = stream.get_data(4000.0, 4000.01, picks="ECG")
    # device 3996.879937.. s -> first sample 3996880; 4000.01 s -> 3996.889937.. -> ceil 3996890
    assert data.shape == (1, 10)
    assert data[0].tolist() == list(map(float, range(3996880, 3996890)))
    assert times[0] == pytest.approx(3.2 + 3996.880 * 0.99998, abs=1e-9)
    data, _ = stream.get_data(4000.0, 4000.01, picks=["RSP"])
    assert data[0, 0] == -3996880.0
    head, _ = stream.get_data(None, 3.2 + 0.0049, picks="ECG")
    assert head[0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_epochs_late_in_the_session_against_hand_indices(stream):
    events = [4000.0, 1003.2]
    ep = stream.epochs(events, -0.2, 0.5, picks="ECG")
    data, rel = ep.get_data(), ep.times
    assert data.shape == (2, 1, 701)
    # the epoch axis is on the drift-corrected common rate: 200 samples = 0.199996 s
    assert rel[0] == pytest.approx(-0.2, abs=1e-5) and rel[200] == 0.0
    assert rel[-1] == pytest.approx(500 / 1000.02, abs=1e-9)
    assert data[0, 0, 0] == 3996680.0 and data[0, 0, 200] == 3996880.0
    assert data[0, 0, -1] == 3997380.0
    assert data[1, 0, 200] == 1000020.0
    assert np.array_equal(np.diff(data[0, 0]), np.ones(700))


def test_epochs_running_past_the_recording_are_nan_there_not_shifted(stream):
    # the last sample 4379999 is at 3.2 + 4379.999 * 0.99998 = 4383.11140002 s
    last = 3.2 + 4379.999 * 0.99998
    data = stream.epochs([last, 3.2], -0.003, 0.003, picks="ECG").get_data()
    assert data[0, 0, :4].tolist() == [4379996.0, 4379997.0, 4379998.0, 4379999.0]
    assert np.isnan(data[0, 0, 4:]).all()
    assert np.isnan(data[1, 0, :3]).all() and data[1, 0, 3:].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_iter_chunks_cover_the_window_once(stream):
    start = 4000.0
    chunks = list(stream.iter_chunks(chunk_s=0.004, start_s=start, stop_s=start + 0.01,
                                     picks="ECG"))
    got = np.concatenate([d[0] for d, _ in chunks])
    assert got.tolist() == list(map(float, range(3996880, 3996890)))
