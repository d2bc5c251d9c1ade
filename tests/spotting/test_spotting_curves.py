"""Spotting curves on planted ROI flow: head motion removed, segments bridged, MDMD shape."""

import numpy as np
import pytest

from mmme.errors import InputError
from mmme.spotting.curves import (
    bridge_segment_starts,
    frame_features,
    mdmd_curve,
    motion_curve,
    residual_flow,
)

ROIS = ["brow_left", "eye_left", "nose", "mouth_left"]


def planted(n=200, head=(0.0, 0.0)):
    uv = np.zeros((n, len(ROIS), 2))
    uv[:, :, 0] += head[0]  # the same translation everywhere: the head
    uv[:, :, 1] += head[1]
    uv[100:106, 0, 1] += np.array([0.2, 0.6, 1.0, 1.0, 0.6, 0.2])  # brow raise (AU1/2)
    return uv


def test_nose_reference_removes_global_head_translation():
    still = motion_curve(planted(), ROIS)
    moving = motion_curve(planted(head=(2.5, -1.5)), ROIS)
    np.testing.assert_allclose(moving, still, atol=1e-12)
    assert int(np.argmax(moving)) == 102 and moving.max() == pytest.approx(1.0)
    assert moving[:100].max() == pytest.approx(0.0)
    # without the reference, the head motion is all one sees
    raw = motion_curve(planted(head=(2.5, -1.5)), ROIS, reference=None)
    assert raw[:100].min() == pytest.approx(np.hypot(2.5, 1.5))


def test_residual_flow_names_and_bad_shapes():
    res, names = residual_flow(planted(), ROIS)
    assert names == ["brow_left", "eye_left", "mouth_left"] and res.shape == (200, 3, 2)
    with pytest.raises(InputError, match="nose"):
        residual_flow(planted(), ["a", "b", "c", "d"])
    with pytest.raises(InputError, match="motion_uv"):
        residual_flow(np.zeros((10, 3)), ROIS)


def test_realignment_boundary_is_bridged_not_a_sawtooth():
    # a slow expression ramp; the face pipeline starts a new segment at frame 60, whose first
    # k frames have a too-short flow (zero at the reference frame itself)
    k = 4
    x = np.linspace(0.0, 1.0, 120)
    seg = np.where(np.arange(120) < 60, 0, 1)
    broken = x.copy()
    broken[60:64] = [0.0, 0.1, 0.2, 0.3]
    fixed = bridge_segment_starts(broken, seg, k)
    np.testing.assert_allclose(fixed, x, atol=1e-12)  # linear ramp restored exactly
    assert np.max(np.abs(np.diff(fixed))) < 0.01
    # frames without a face stay missing, the first segment is left alone
    seg2 = seg.copy()
    seg2[:5] = -1
    out = bridge_segment_starts(np.where(seg2 < 0, np.nan, broken), seg2, k)
    assert np.isnan(out[:5]).all() and out[5] == pytest.approx(broken[5])


def test_mdmd_fires_on_a_movement_that_returns_not_on_one_that_stays():
    k = 5
    uv = np.zeros((100, len(ROIS), 2))
    # window-k flow (t-k -> t) of a brief movement that is gone by t+k: ~ +1 then ~ -1
    uv[40:45, 0, 1] = 1.0
    uv[45:50, 0, 1] = -1.0
    # a lasting shift of the mouth: +1 for k frames, then nothing (it stays where it went)
    uv[70:75, 3, 0] = 1.0
    d = mdmd_curve(uv, ROIS, k, top=1 / 3)
    assert d[40:45].min() == pytest.approx(1.0)  # a(t)=1, b(t)=a(t)+a(t+k)=0: all of it
    assert np.nanmax(d[65:80]) == pytest.approx(0.0)  # b(t) = a(t): nothing returned
    assert np.isnan(d[-k:]).all()  # no tail frame


def test_frame_features_columns():
    X, names = frame_features(planted(), ROIS, 3)
    assert X.shape == (200, 9) and names[0] == "mag:brow_left" and names[-1] == "mdmd:mouth_left"
    assert np.nanmax(X[:, 0]) == pytest.approx(1.0)
