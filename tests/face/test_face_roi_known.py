"""Known answers for ROI flow statistics on non-uniform flow, ROI boxes and masks.

A uniform flow cannot tell the mean magnitude from the magnitude of the mean vector, a box from
its transpose, or a mask from its complement; the fields below can, and every expected number is
worked out by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmme.face.features import HOOF, MDMO
from mmme.face.flow import optical_strain, roi_flow
from mmme.face.roi import Roi, face_rois, grid_rois, roi_means


def test_roi_flow_mean_magnitude_is_not_the_magnitude_of_the_mean():
    flow = np.zeros((6, 8, 2), np.float32)
    # box x 2..3, y 1..2: vectors (3,4), (0,0) / (6,8), (0,1) -> |.| = 5, 0, 10, 1
    flow[1, 2], flow[1, 3], flow[2, 2], flow[2, 3] = (3, 4), (0, 0), (6, 8), (0, 1)
    uv, mag = roi_flow(flow, {"a": Roi("a", (2, 1, 4, 3))})
    assert uv[0] == pytest.approx([2.25, 3.25], abs=1e-6)  # (3+0+6+0)/4, (4+0+8+1)/4
    assert mag[0] == pytest.approx(4.0, abs=1e-6)  # (5+0+10+1)/4, not |(2.25, 3.25)| = 3.95


def test_roi_flow_on_a_linear_field_by_hand():
    h, w = 20, 30
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    flow = np.dstack([0.1 * x, -0.05 * y]).astype(np.float32)  # u grows right, v grows up
    # box x 10..19 (mean 14.5), y 4..7 (mean 5.5): mean u 1.45, mean v -0.275
    rois = {"box": Roi("box", (10, 4, 20, 8)), "col": Roi("col", (0, 0, 1, 20))}
    uv, mag = roi_flow(flow, rois)
    assert uv[0] == pytest.approx([1.45, -0.275], abs=1e-6)
    xs, ys = np.meshgrid(np.arange(10, 20), np.arange(4, 8))
    assert mag[0] == pytest.approx(np.mean(np.hypot(0.1 * xs, 0.05 * ys)), abs=1e-5)
    # column x = 0: u = 0, v = -0.05 y over y 0..19: mean -0.475, magnitude 0.475
    assert uv[1] == pytest.approx([0.0, -0.475], abs=1e-6)
    assert mag[1] == pytest.approx(0.475, abs=1e-6)


def test_roi_flow_rotation_has_zero_mean_and_a_known_magnitude():
    # rotation about the centre of a 4x4 box: u = -(y - 1.5), v = x - 1.5
    y, x = np.mgrid[0:4, 0:4].astype(np.float32)
    flow = np.dstack([-(y - 1.5), x - 1.5]).astype(np.float32)
    uv, mag = roi_flow(flow, {"r": Roi("r", (0, 0, 4, 4))})
    assert uv[0] == pytest.approx([0.0, 0.0], abs=1e-6)
    # radii: 4 x sqrt(0.5), 8 x sqrt(2.5), 4 x sqrt(4.5) over 16 pixels
    want = (4 * np.sqrt(0.5) + 8 * np.sqrt(2.5) + 4 * np.sqrt(4.5)) / 16
    assert mag[0] == pytest.approx(want, abs=1e-6)  # 1.6239


def test_masked_roi_counts_only_its_pixels():
    flow = np.zeros((10, 10, 2), np.float32)
    flow[..., 0] = np.arange(10, dtype=np.float32)[None, :]  # u = x
    mask = np.zeros((4, 4), bool)
    mask[:, 0] = True  # only column x = 3 of the box x 3..6
    mask[0, 3] = True  # and pixel x = 6 of the first row
    roi = Roi("m", (3, 2, 7, 6), mask)
    assert roi.n_pixels == 5
    uv, mag = roi_flow(flow, {"m": roi})
    assert uv[0] == pytest.approx([(4 * 3 + 6) / 5, 0.0], abs=1e-6)  # 3.6
    assert mag[0] == pytest.approx(3.6, abs=1e-6)
    assert roi.take(flow[..., 0]).tolist() == [3.0, 6.0, 3.0, 3.0, 3.0]
    assert roi.mean(flow[..., 0])[0] == pytest.approx(3.6, abs=1e-9)
    assert roi_means(flow[..., 0], {"m": roi})["m"] == pytest.approx(3.6, abs=1e-9)
    # mask of no pixel -> empty, NaN
    empty = Roi("e", (0, 0, 2, 2), np.zeros((2, 2), bool))
    _, mag = roi_flow(flow, {"e": empty})
    assert empty.empty and empty.n_pixels == 0 and np.isnan(mag[0])


def test_box_is_half_open_and_x_first():
    img = np.arange(50, dtype=np.float64).reshape(5, 10)  # value = 10 y + x
    r = Roi("r", (2, 1, 5, 3))  # x 2..4, y 1..2
    assert r.n_pixels == 6
    assert sorted(r.take(img).tolist()) == [12, 13, 14, 22, 23, 24]
    assert r.mean(img)[0] == pytest.approx(18.0)
    assert r.contains(np.array([[2, 1], [4.99, 2.99], [5, 1], [2, 3], [1.99, 2]])).tolist() == [
        True, True, False, False, False]


def test_grid_rois_tile_the_image_exactly():
    g = grid_rois((7, 10), (2, 3))
    # rows 0..3.5 -> rounded edges 0, 4 (3.5 rounds to even 4), 7; cols 0, 3, 7, 10
    assert g["r0c0"].box == (0, 0, 3, 4)
    assert g["r1c2"].box == (7, 4, 10, 7)
    assert sum(r.n_pixels for r in g.values()) == 70


def _landmarks() -> np.ndarray:
    """68 points with eyes 40 px apart (centres (40, 50) and (80, 50))."""
    p = np.zeros((68, 2))
    p[:, 0], p[:, 1] = 60.0, 80.0
    ang = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    p[36:42] = np.c_[40 + 8 * np.cos(ang), 50 + 3 * np.sin(ang)]
    p[42:48] = np.c_[80 + 8 * np.cos(ang), 50 + 3 * np.sin(ang)]
    p[17:22] = np.c_[np.linspace(30, 50, 5), np.full(5, 38.0)]  # subject's right brow
    p[22:27] = np.c_[np.linspace(70, 90, 5), np.full(5, 38.0)]
    p[48], p[54] = (48.0, 90.0), (72.0, 90.0)  # mouth corners
    return p


def test_face_roi_boxes_by_hand():
    rois = face_rois(_landmarks(), (120, 120))
    d = 40.0
    # brow_left = the subject's left (image right): x 70 - 3.2 .. 90 + 3.2, y 38 - 8.8 .. 38 + 4.8
    assert rois["brow_left"].box == (66, 29, 94, 43)
    assert rois["brow_right"].box == (26, 29, 54, 43)
    # mouth_left around point 54 (72, 90): +-0.22 d = 8.8 in x, +-0.2 d = 8 in y
    assert rois["mouth_left"].box == (63, 82, 81, 98)
    assert rois["mouth_right"].box == (39, 82, 57, 98)
    # eye boxes: x 72 - 6 .. 88 + 6, y 47 - 4.8 .. 53 + 8.8
    eye = rois["eye_left"]
    assert eye.box == (66, 42, 94, 62)
    assert eye.mask is not None and not eye.mask[50 - 42, 80 - 66]  # the eye itself is out
    assert eye.mask[0, 0]
    assert d == pytest.approx(np.linalg.norm([80 - 40, 0]))


def test_hoof_and_mdmo_on_a_known_field():
    # left half moves right by 2 px, right half moves down by 1 px, one 16 x 16 ROI
    flow = np.zeros((16, 16, 2), np.float32)
    flow[:, :8, 0] = 2.0
    flow[:, 8:, 1] = 1.0
    flow[:2, 8:10] = (-3.0, 0.0)  # 4 pixels to the left: a minority direction
    rois = {"all": Roi("all", (0, 0, 16, 16))}
    h = HOOF(n_bins=4, rois=rois, normalize=False).fit([flow]).transform([flow])[0]
    # bins of 90 deg from +x: right 128 px x 2, down 124 px x 1, left 4 px x 3
    assert h == pytest.approx([256.0, 124.0, 12.0, 0.0], abs=1e-6)
    hn = HOOF(n_bins=4, rois=rois).fit([flow]).transform([flow])[0]
    assert hn == pytest.approx(np.array([256.0, 124.0, 12.0, 0.0]) / 392.0, abs=1e-9)
    m = MDMO(n_bins=4, rois=rois).fit([flow]).transform([flow])[0]
    assert m == pytest.approx([2.0, 0.0], abs=1e-6)  # the fullest bin: 128 px moving right
    # the fullest bin is counted in pixels, not weighted by magnitude: 160 px down by 1 beat
    # 96 px right by 3 (magnitude 160 < 288)
    f2 = np.zeros((16, 16, 2), np.float32)
    f2[:10, :, 1] = 1.0
    f2[10:, :, 0] = 3.0
    m = MDMO(n_bins=4, rois=rois).fit([f2]).transform([f2])[0]
    assert m == pytest.approx([1.0, np.pi / 2], abs=1e-6)


def test_optical_strain_of_a_shear_by_hand():
    y, x = np.mgrid[0:10, 0:10].astype(np.float32)
    # u = 0.2 y (simple shear): u_y = 0.2, others 0 -> strain sqrt(0.5 * 0.04) = 0.1414
    s = optical_strain(np.dstack([0.2 * y, 0 * x]))
    assert s == pytest.approx(np.full((10, 10), np.sqrt(0.5 * 0.04)), abs=1e-6)
    # u = 0.3 x, v = -0.1 y: sqrt(0.09 + 0.01) = 0.3162
    s = optical_strain(np.dstack([0.3 * x, -0.1 * y]))
    assert s == pytest.approx(np.full((10, 10), np.sqrt(0.1)), abs=1e-6)
