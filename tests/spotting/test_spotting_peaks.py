"""Curve -> intervals: threshold, contrast, extents, NaN frames, merging; answers by hand."""

from __future__ import annotations

import numpy as np
import pytest

from mmme.errors import InputError
from mmme.spotting.peaks import adaptive_threshold, contrast, find_intervals


def bump(n: int, at: int, width: int, height: float = 1.0) -> np.ndarray:
    f = np.zeros(n)
    f[at - width // 2 : at + width // 2 + 1] = height * np.hanning(2 * (width // 2) + 1)
    return f


def test_threshold_formula():
    c = np.array([0.0, 1.0, 2.0, 5.0, np.nan])  # mean 2, max 5
    assert adaptive_threshold(c, 0.0) == 2.0
    assert adaptive_threshold(c, 0.5) == 3.5
    assert adaptive_threshold(c, 1.0) == 5.0
    with pytest.raises(InputError):
        adaptive_threshold(c, 1.5)


def test_contrast_is_clipped_difference_to_neighbours_k_away():
    f = np.array([0.0, 1.0, 4.0, 1.0, 0.0, 0.0])
    # t=2: 4 - (f[0] + f[4]) / 2 = 4; t=1: 1 - (f[0] + f[3])/2 = 0.5; t=3: 1 - (f[1] + f[5])/2
    assert contrast(f, 2).tolist() == [0.0, 0.5, 4.0, 0.5, 0.0, 0.0]
    assert np.isnan(contrast(np.array([0.0, np.nan, 0.0]), 1)[1])


def test_short_and_long_movements_get_their_extents():
    f = bump(400, 100, 11) + bump(400, 300, 61, height=2.0)
    out = find_intervals(f, k=5, p=0.2, max_len=80, use_contrast=False)
    assert out[["onset", "apex", "offset"]].values.tolist() == [[98, 100, 102], [285, 300, 315]]


def test_contrast_removes_slow_drift():
    drift = np.linspace(0, 3.0, 500)  # a head turning slowly
    f = drift + bump(500, 200, 11, height=0.8)
    raw = find_intervals(f, k=5, p=0.5, use_contrast=False)
    assert 200 not in raw["apex"].tolist()  # without contrast the drift's end wins
    out = find_intervals(f, k=5, p=0.5)
    assert out["apex"].tolist() == [200]


def test_nan_frames_never_peak_and_end_an_interval():
    f = bump(200, 100, 21)
    f[104] = np.nan
    out = find_intervals(f, k=5, p=0.3, use_contrast=False)
    assert out["apex"].tolist() == [100]
    assert out["offset"].tolist() == [103]
    assert find_intervals(np.full(50, np.nan), k=5).empty


def test_peaks_k_apart_and_overlaps_merged():
    f = np.zeros(100)
    f[50], f[52] = 1.0, 0.9  # two peaks 2 frames apart: one survives with k=5
    out = find_intervals(f, k=5, p=0.1, use_contrast=False)
    assert out["apex"].tolist() == [50]
    g = bump(200, 60, 31) + bump(200, 75, 31, height=1.2)  # overlapping extents
    out = find_intervals(g, k=5, p=0.1, use_contrast=False, max_len=60)
    assert len(out) == 1 and out["apex"].iloc[0] == 75


def test_bad_curves_are_errors():
    with pytest.raises(InputError, match="1-D"):
        find_intervals(np.zeros((5, 2)), k=2)
    with pytest.raises(InputError, match="k must be"):
        contrast(np.zeros(5), 0)
