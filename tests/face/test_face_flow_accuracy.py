"""The fast TV-L1 path (ROI box, warm start) against the synthetic trials' known displacement."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mmme.errors import InputError
from mmme.face.align import similarity_transform, transform_points
from mmme.face.apex import estimate_apex
from mmme.face.flow import OpticalFlow, roi_flow
from mmme.face.pipeline import analyze_frames
from mmme.face.roi import MOTION_ROIS, face_rois
from mmme.synth.face import face_model


def _true_roi_uv(res, frame: np.ndarray, aus: str, amplitude_px: float) -> np.ndarray:
    """Mean true displacement (crop pixels) per motion ROI at the apex, ``(n_rois, 2)``.

    The renderer's field (frame pixels) is carried into the segment's crop by the same
    similarity transform the front end used (the first frame's landmarks).
    """
    m = similarity_transform(res.landmarks[0], 128)
    h, w = frame.shape[:2]
    field = face_model((w, h)).expression_field(aus, amplitude_px)
    crop = np.dstack([cv2.warpAffine(np.ascontiguousarray(field[..., c]), m, (128, 128))
                      for c in range(2)])
    crop = crop @ m[:, :2].T.astype(np.float32)  # vectors rotate and scale with the crop
    rois = face_rois(transform_points(res.landmarks[0], m), (128, 128), MOTION_ROIS)
    uv, _ = roi_flow(crop, rois)
    return uv


def _check(res, truth_uv: np.ndarray, moving: list[str], still: list[str], apex: int,
           onset: int, offset: int) -> None:
    k = [MOTION_ROIS.index(n) for n in moving]
    for i in k:
        est, tru = res.motion_uv[apex, i], truth_uv[i]
        cos = est @ tru / (np.linalg.norm(est) * np.linalg.norm(tru))
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))) < 25, (MOTION_ROIS[i], est, tru)
        assert 0.6 < np.linalg.norm(est) / np.linalg.norm(tru) < 1.3, (MOTION_ROIS[i], est, tru)
    assert abs(estimate_apex(res.motion, onset=onset, offset=offset, rois=k) - apex) <= 2
    s = [MOTION_ROIS.index(n) for n in still]
    # the noise floor: still ROIs and frames before the onset move little
    assert res.motion[apex, s].mean() < 0.35 * res.motion[apex, k].mean()
    assert np.nanmax(res.motion[1:onset, k]) < 0.35 * res.motion[apex, k].mean()


def test_fast_tvl1_brow_raise_matches_the_true_field(brow_trial, brow_analysis):
    res = brow_analysis  # flow="tvl1_fast", flow_region="rois"
    assert res.params["flow"] == "tvl1_fast" and res.params["flow_region"] == "rois"
    truth = _true_roi_uv(res, brow_trial["frames"][0], "AU1+AU2", 1.5)
    _check(res, truth, ["brow_left", "brow_right"], ["nose", "mouth_left", "chin"],
           brow_trial["apex"], onset=15, offset=50)


def test_fast_tvl1_smile_matches_the_true_field(smile_trial):
    res = analyze_frames(smile_trial["frames"], smile_trial["fps"], flow="tvl1_fast")
    truth = _true_roi_uv(res, smile_trial["frames"][0], "AU12", 1.5)
    _check(res, truth, ["mouth_left", "mouth_right"], ["brow_left", "brow_right", "nose"],
           smile_trial["apex"], onset=10, offset=45)
    # the ROI box gives the motion of the whole crop (the ROIs are far from its border)
    whole = analyze_frames(smile_trial["frames"], smile_trial["fps"], flow="tvl1_fast",
                           flow_region="crop")
    np.testing.assert_allclose(res.motion_uv, whole.motion_uv, atol=0.03)


@pytest.fixture(scope="module")
def texture(astronaut_bgr) -> np.ndarray:
    g = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(g[40:240, 120:320], (96, 96), interpolation=cv2.INTER_AREA)


def _shift(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[::-1], flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT)


def test_warm_start_follows_a_growing_motion(texture):
    of = OpticalFlow("tvl1_fast")
    assert of.warm_start
    flow = np.zeros((96, 96, 2), np.float32)
    for step in np.linspace(0.1, 1.0, 10):  # the content drifts right and up, frame by frame
        flow = of(texture, _shift(texture, 1.2 * step, -0.7 * step), init=flow)
    u, v = np.median(flow[20:76, 20:76].reshape(-1, 2), axis=0)
    assert abs(u - 1.2) < 0.15 and abs(v + 0.7) < 0.15
    # the refinement is a cheaper TV-L1 than the cold preset, not a copy of its input
    again = of(texture, _shift(texture, 1.2, -0.7), init=np.zeros_like(flow))
    assert np.median(np.abs(again[20:76, 20:76, 0] - flow[20:76, 20:76, 0])) > 0.2


def test_initial_flow_errors(texture):
    with pytest.raises(InputError, match="only used by TV-L1"):
        OpticalFlow("dis")(texture, texture, init=np.zeros((96, 96, 2), np.float32))
    with pytest.raises(InputError, match="initial flow has shape"):
        OpticalFlow("tvl1_fast")(texture, texture, init=np.zeros((50, 96, 2), np.float32))
    assert not OpticalFlow("dis").warm_start and not OpticalFlow("tvl1").warm_start
    with pytest.raises(InputError, match="flow_region"):
        analyze_frames([texture], 30.0, flow_region="face")
