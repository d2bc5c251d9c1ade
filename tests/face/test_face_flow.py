"""Optical flow methods, strain and STSTNet inputs against known motions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mmme.errors import InputError
from mmme.face.flow import (
    FLOW_METHODS,
    OpticalFlow,
    flow_to_image,
    optical_flow,
    optical_strain,
    roi_flow,
    ststnet_input,
)
from mmme.face.roi import Roi


@pytest.fixture(scope="module")
def texture(astronaut_bgr) -> np.ndarray:
    g = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(g[40:240, 120:320], (96, 96), interpolation=cv2.INTER_AREA)


def _shift(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[::-1], flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("method", FLOW_METHODS)
def test_flow_recovers_a_known_shift(texture, method):
    moved = _shift(texture, 1.2, -0.7)  # content moves right and up
    flow = optical_flow(texture, moved, method)
    assert flow.shape == (96, 96, 2) and flow.dtype == np.float32
    centre = flow[20:76, 20:76].reshape(-1, 2)
    u, v = np.median(centre, axis=0)
    assert abs(u - 1.2) < 0.2 and abs(v + 0.7) < 0.2


def test_strain_of_translation_and_stretch():
    yy, xx = np.mgrid[0:40, 0:50].astype(np.float32)
    translation = np.dstack([np.full_like(xx, 2.0), np.full_like(xx, -1.0)])
    assert np.allclose(optical_strain(translation), 0, atol=1e-6)
    a = 0.05
    stretch = np.dstack([a * xx, np.zeros_like(xx)])  # u = a x: strain e_xx = a everywhere
    assert np.allclose(optical_strain(stretch), a, atol=1e-5)
    shear = np.dstack([a * yy, np.zeros_like(xx)])  # u_y = a: sqrt(0.5) a
    assert np.allclose(optical_strain(shear), a * np.sqrt(0.5), atol=1e-5)
    with pytest.raises(InputError):
        optical_strain(np.zeros((5, 5)))


def test_ststnet_input_shape_and_direction(texture):
    apex = _shift(texture, 1.5, 0.0)
    x = ststnet_input(texture, apex, size=28, method="dis")
    assert x.shape == (28, 28, 3) and x.dtype == np.float32
    # u in output pixels: 1.5 px at 96 -> 1.5 * 28 / 96
    assert abs(np.median(x[6:22, 6:22, 0]) - 1.5 * 28 / 96) < 0.08
    assert abs(np.median(x[6:22, 6:22, 1])) < 0.08
    assert (x[..., 2] >= 0).all()


def test_roi_flow_means_and_mask():
    flow = np.zeros((20, 20, 2), np.float32)
    flow[:10, :, 1] = -2.0  # top half moves up
    mask = np.zeros((10, 10), bool)
    mask[:5] = True  # only the top half of the box counts
    rois = {"top": Roi("top", (0, 0, 10, 10)), "masked": Roi("masked", (5, 5, 15, 15), mask),
            "empty": Roi("empty", (3, 3, 3, 9))}
    uv, mag = roi_flow(flow, rois)
    assert np.allclose(uv[0], [0, -2]) and mag[0] == pytest.approx(2.0)
    assert np.allclose(uv[1], [0, -2])  # masked rows 5..9 of the image all move
    assert np.isnan(mag[2])


def test_flow_image_and_errors(texture):
    img = flow_to_image(np.dstack([np.ones((8, 8)), np.zeros((8, 8))]))
    assert img.shape == (8, 8, 3) and img.dtype == np.uint8
    with pytest.raises(InputError, match="unknown flow method"):
        OpticalFlow("horn-schunck")
    with pytest.raises(InputError, match="differ in shape"):
        optical_flow(texture, texture[:50])


def test_flow_object_pickles(texture):
    import pickle

    of = pickle.loads(pickle.dumps(OpticalFlow("tvl1_fast")))
    assert of(texture, texture).shape == (96, 96, 2)
