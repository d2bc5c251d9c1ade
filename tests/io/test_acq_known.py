"""Real AcqKnowledge files through bioread, instead of a mocked file object.

The two files in ``tests/io/fixtures`` come from bioread's own test data (its sdist,
``test/data/misc/r42_test.acq`` and ``test/data/physio/physio-5.0.1-c.acq``; MIT licence, copied
as ``LICENSE.bioread``):

- ``r42_test.acq``: 4 channels at 1 kHz, 7901 samples, an ECG with 9 beats. The R-peaks were
  found once by a plain threshold + 300 ms refractory peak search and checked by eye; their
  samples are written below, and the heart rate and RMSSD follow from them by hand.
- ``physio-5.0.1-c.acq`` (compressed, AcqKnowledge 5): a 2 kHz file whose EKG runs at a frequency
  divider of 2 and RESP at 512, the layout the reader must bring to the base rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmme.data.quality import check_signal
from mmme.io.acq import read_biopac_acq
from mmme.physio.peripheral import process_signal, summarize_signal, window_features

pytest.importorskip("bioread")

FIX = Path(__file__).parent / "fixtures"
R42 = FIX / "bioread_r42_test.acq"
PHYSIO5 = FIX / "bioread_physio-5.0.1-c.acq"
R42_PEAKS = np.array([369, 1389, 2423, 3366, 4104, 4946, 5802, 6667, 7594])


def test_r42_layout_and_values():
    bp = read_biopac_acq(R42)
    assert bp["sfreq"] == 1000.0
    assert bp["data"].shape == (7901, 4)
    assert bp["labels"] == ["ECG (.05 - 150 Hz)", "EMG (30 - 500 Hz)", "EDA (0 - 35 Hz)",
                            "CH4 Input"]
    assert bp["units"] == ["mV", "mV", "microsiemen", "mV"]
    # first and last samples as stored (16-bit codes times the channel scale: exact floats)
    assert bp["data"][0].tolist() == [0.22735595703125, -0.023193359375, -0.93231201171875,
                                      17.7734375]
    assert bp["data"][-1].tolist() == [0.465087890625, -0.00518798828125, -0.9613037109375,
                                       17.67578125]


def test_r42_ecg_heart_rate_and_rmssd_from_known_beats():
    bp = read_biopac_acq(R42)
    ecg, fs = bp["data"][:, 0], bp["sfreq"]
    proc = process_signal(ecg, fs, "ecg", warn=False)
    found = proc.events["peaks"]
    assert found.size == R42_PEAKS.size and np.abs(found - R42_PEAKS).max() <= 3
    # by hand: RR 1020 1034 943 738 842 856 865 927 ms; successive differences
    # 14 -91 -205 104 14 9 62 -> RMSSD sqrt(65439 / 7) = 96.69 ms; mean RR 903.1 ms -> 66.44 bpm
    f = window_features(proc, 0.0, ecg.size / fs)
    assert f["n_beats"] == 9
    assert f["rmssd_ms"] == pytest.approx(np.sqrt(65439 / 7), abs=1.0)
    assert f["hr_mean_bpm"] == pytest.approx(60000 / 903.125, abs=0.5)
    s = summarize_signal(ecg, fs, "ecg", hrv=False)
    assert s["n_beats"] == 9 and s["duration_s"] == pytest.approx(7.901)


def test_physio5_divided_channels_brought_to_the_base_rate():
    bp = read_biopac_acq(PHYSIO5)
    assert bp["sfreq"] == 2000.0
    # RESP has 241 samples at divider 512: 241 * 512 = 123392 base samples, the shortest channel
    assert bp["data"].shape == (123392, 4)
    assert bp["names"] == ["EDA filtered", "EKG - ERS100C", "RESP - RSP100C", "EDA - GSR100C"]
    assert bp["units"] == ["microsiemens", "mV", "Volts", "microsiemens"]
    ekg, resp = bp["data"][:, 1], bp["data"][:, 2]
    # EKG at 1 kHz: each stored sample held for 2 base samples
    assert ekg[:6].tolist() == [0.349365234375, 0.349365234375, 0.33831787109375,
                                0.33831787109375, 0.3245849609375, 0.3245849609375]
    assert np.array_equal(ekg[0::2], ekg[1::2])
    # RESP: blocks of 512 equal samples, first values 0.0824, 0.1138
    assert np.all(resp[:512] == resp[0]) and resp[512] != resp[511]
    assert resp[0] == pytest.approx(0.0823974609375, abs=1e-12)
    assert resp[512] == pytest.approx(0.11383056640625, abs=1e-12)


def test_sample_and_hold_channel_is_not_flat():
    # a 1 kHz EKG held to 2 kHz repeats every sample once: no run of equal samples is longer
    # than 2, so nothing is a flat (dead-lead) segment
    bp = read_biopac_acq(PHYSIO5)
    rep = check_signal(bp["data"][:, 1], 2000.0, channel="EKG", kind="ecg", warn=False)
    assert rep.flat_fraction == 0.0 and rep.usable
    proc = process_signal(bp["data"][:, 1], 2000.0, "ecg", warn=False)
    assert proc.usable and proc.events["peaks"].size > 50  # 62 s of ECG
