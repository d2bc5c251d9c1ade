"""The front end on synthetic trials with planted AUs, and on a video that loses the face."""

from __future__ import annotations

import numpy as np
import pytest

from mmme.errors import InputError
from mmme.face.apex import apex_is_plausible, estimate_apex
from mmme.face.pipeline import FaceAnalysis, analyze_frames


def _col(res, name: str) -> int:
    return res.roi_names.index(name)


def test_brow_raise_points_up_and_peaks_at_apex(brow_trial, brow_analysis):
    res = brow_analysis
    apex = brow_trial["apex"]
    assert res.face.all() and (res.segment == 0).all()
    for side in ("brow_left", "brow_right"):
        k = _col(res, side)
        u, v = res.motion_uv[apex, k]
        assert v < -0.2 and abs(v) > 2 * abs(u)  # upwards (image y grows down)
        assert abs(int(np.nanargmax(res.motion[:, k])) - apex) <= 2
    # the mouth does not move: its motion at apex is small next to the brows'
    brow = res.motion[apex, _col(res, "brow_left")]
    mouth = res.motion[apex, _col(res, "mouth_left")]
    assert mouth < 0.3 * brow
    # before onset nothing moves
    assert np.nanmax(res.motion[:14]) < 0.15
    assert abs(estimate_apex(res.motion, onset=15, offset=50) - apex) <= 2


@pytest.mark.parametrize("flow", ["farneback", "tvl1_fast"])
def test_smile_moves_mouth_corners_outwards_and_up(smile_trial, flow):
    res = analyze_frames(smile_trial["frames"], smile_trial["fps"], flow=flow)
    apex = smile_trial["apex"]
    ul, vl = res.motion_uv[apex, _col(res, "mouth_left")]  # subject's left = image right
    ur, vr = res.motion_uv[apex, _col(res, "mouth_right")]
    assert ul > 0.1 and vl < -0.1
    assert ur < -0.1 and vr < -0.1
    k = [_col(res, "mouth_left"), _col(res, "mouth_right")]
    assert abs(estimate_apex(res.motion, onset=10, offset=45, rois=k) - apex) <= 2
    assert res.motion[apex, k].mean() > 3 * res.motion[apex, _col(res, "brow_left")]


def test_sliding_window_reference(brow_trial):
    res = analyze_frames(brow_trial["frames"][:40], 100, flow="dis", window=5)
    k = _col(res, "brow_left")
    # flow from 5 frames earlier: upward while the brows rise (frames ~18-30), downward after
    assert res.motion_uv[24, k, 1] < -0.05
    assert res.motion_uv[38, k, 1] > 0.05


def test_face_lost_frames_are_missing_not_zero(lost_video):
    frames, truth = lost_video
    res = analyze_frames(frames, 30.0, flow="dis")
    assert res.n_frames == len(frames)
    assert np.array_equal(res.face, truth)
    assert np.array_equal(res.lost_frames, np.flatnonzero(~truth))
    lost = ~truth
    assert np.isnan(res.motion[lost]).all() and np.isnan(res.skin_rgb[lost]).all()
    assert np.isnan(res.landmarks[lost]).all()
    assert np.isfinite(res.motion[truth]).all()
    # each return of the face starts a new segment (new alignment and flow reference)
    assert len(np.unique(res.segment[truth])) == 3
    ft = res.frames_table()
    assert (ft.loc[lost, "face"] == 0).all() and ft.loc[lost, "x0"].isna().all()
    mt = res.motion_table()
    assert mt.loc[lost, list(res.roi_names)].isna().all().all()
    # apex search over a range without a face fails clearly
    with pytest.raises(InputError, match="no face"):
        estimate_apex(res.motion, onset=21, offset=28)


def test_analysis_round_trips_through_arrays(brow_analysis):
    arrays = brow_analysis.to_arrays()
    assert all(np.asarray(a).dtype != object for a in arrays.values())
    back = FaceAnalysis.from_arrays(arrays)
    assert np.array_equal(back.status, brow_analysis.status)
    assert np.allclose(back.motion, brow_analysis.motion, equal_nan=True)
    assert back.crops.shape == (60, 128, 128)


def test_bad_parameters():
    with pytest.raises(InputError):
        analyze_frames([], 30.0)
    with pytest.raises(InputError):
        analyze_frames([np.zeros((10, 10), np.uint8)], 30.0, align="none")


def test_apex_helpers():
    m = np.zeros((40, 2))
    m[:, 0] = np.exp(-0.5 * ((np.arange(40) - 22) / 3.0) ** 2)
    m[5:9] = np.nan
    assert estimate_apex(m, 0, 39) == 22
    assert estimate_apex(m[:, 0], 10, 20) == 20
    assert apex_is_plausible(22, 10, 30, m)
    assert not apex_is_plausible(12, 10, 30, m)  # too little motion there
    assert not apex_is_plausible(None, 10, 30)
    assert not apex_is_plausible(10, 10, 30)
    with pytest.raises(InputError):
        estimate_apex(m, 30, 50)


def test_prefetch_reraises_reader_errors(brow_trial):
    from mmme.face.pipeline import prefetched

    def frames():
        yield from brow_trial["frames"][:3]
        raise InputError("frame image missing or unreadable", file="0003.tif")

    with pytest.raises(InputError, match="0003.tif"):
        analyze_frames(frames(), 100.0, flow="dis")
    it = prefetched(iter(range(100)), depth=2)
    assert next(it) == 0
    it.close()  # the reader thread stops instead of blocking on a full queue
