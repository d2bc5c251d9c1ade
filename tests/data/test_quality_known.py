"""Known answers for the flat-segment check: run lengths counted in samples by hand."""

from __future__ import annotations

import numpy as np
import pytest

from mmme.data.quality import check_signal

FS = 1000.0


def _signal() -> np.ndarray:
    return np.sin(2 * np.pi * 1.3 * np.arange(10_000) / FS) + 0.01 * np.arange(10_000) % 0.7


def test_run_of_exactly_one_second_is_flat_and_one_sample_less_is_not():
    x = _signal()
    x[2000:3000] = 0.25  # 1000 equal samples = 1.0 s at 1 kHz: flat
    rep = check_signal(x, FS, channel="ECG", kind="ecg", warn=False)
    assert rep.flat_fraction == pytest.approx(0.1, abs=1e-12)
    assert "flat_segments" in rep.problems and rep.usable
    y = _signal()
    y[2000:2999] = 0.25  # 999 samples: not flat
    rep = check_signal(y, FS, channel="ECG", kind="ecg", warn=False)
    assert rep.flat_fraction == 0.0 and rep.problems == []


def test_sample_and_hold_pairs_are_not_one_long_run():
    x = np.repeat(_signal()[::2], 2)  # every value twice: runs of 2 samples only
    rep = check_signal(x, FS, channel="ECG", kind="ecg", warn=False)
    assert rep.flat_fraction == 0.0 and rep.usable
    x[4000:5200] = 1.5  # one real flat stretch of 1.2 s inside
    rep = check_signal(x, FS, channel="ECG", kind="ecg", warn=False)
    assert rep.flat_fraction == pytest.approx(0.12, abs=1e-12)
