"""LBP-TOP, HOOF and MDMO transformers against constructed inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmme.errors import InputError
from mmme.face.features import HOOF, LBPTOP, MDMO
from mmme.face.roi import Roi


def _clip(seed: int, t: int = 8, h: int = 24, w: int = 24) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (t, h, w)).astype(np.uint8)


def test_lbptop_histograms():
    clips = [_clip(0), _clip(1, t=10)]
    tf = LBPTOP(grid=(2, 2))
    x = tf.fit_transform(clips)
    assert x.shape == (2, 2 * 2 * 3 * 59)
    assert np.allclose(x.reshape(2, -1, 59).sum(-1), 1.0)
    assert len(tf.get_feature_names_out()) == x.shape[1]


def test_lbptop_planes_see_time_only_in_xt_yt():
    rng = np.random.default_rng(3)
    wide = rng.integers(0, 256, (24, 40)).astype(np.uint8)
    still = np.stack([wide[:, 8:32]] * 9)
    moving = np.stack([wide[:, 8 - k : 32 - k] for k in range(9)])  # texture slides right
    x = LBPTOP(grid=(1, 1)).fit([still]).transform([still, moving]).reshape(2, 3, 59)
    d_xy, d_xt, d_yt = np.abs(x[0] - x[1]).sum(axis=1)
    # same texture in every frame: XY nearly unchanged; motion changes the XT and YT codes
    assert d_xy < 0.2 and d_xt > 5 * d_xy and d_yt > 5 * d_xy


def _flow(u: float, v: float, h: int = 20, w: int = 20) -> np.ndarray:
    return np.dstack([np.full((h, w), u), np.full((h, w), v)]).astype(np.float32)


def test_hoof_direction_bins():
    tf = HOOF(n_bins=8, grid=(1, 1))
    x = tf.fit_transform([_flow(1, 0), _flow(0, 2), _flow(-1, -1)])
    assert np.argmax(x[0]) == 0  # right
    assert np.argmax(x[1]) == 2  # down (+y): a quarter turn
    assert np.argmax(x[2]) == 5  # up-left: 225 degrees
    assert np.allclose(x.sum(1), 1)
    raw = HOOF(n_bins=8, grid=(1, 1), normalize=False).fit_transform([_flow(0, 2)])
    assert raw[0, 2] == pytest.approx(2.0 * 400)


def test_mdmo_main_direction_ignores_minor_motion():
    f = _flow(0.0, -2.0)  # 70 % of pixels move up by 2
    f[14:, :, :] = [5.0, 0.0]  # 30 % move right by 5: larger but not the main direction
    rois = {"a": Roi("a", (0, 0, 20, 20)), "b": Roi("b", (0, 14, 20, 20))}
    tf = MDMO(n_bins=8, rois=rois)
    x = tf.fit_transform([np.stack([f, f])])
    assert x.shape == (1, 4)
    assert x[0, 0] == pytest.approx(2.0) and x[0, 1] == pytest.approx(-np.pi / 2)
    assert x[0, 2] == pytest.approx(5.0) and x[0, 3] == pytest.approx(0.0)
    assert list(tf.get_feature_names_out()) == ["mdmo_a_rho", "mdmo_a_theta", "mdmo_b_rho",
                                                "mdmo_b_theta"]


def test_missing_frames_give_nan_rows_not_zero():
    bad = np.stack([_flow(1, 0), _flow(np.nan, np.nan)])
    for tf in (HOOF(grid=(2, 2)), MDMO(grid=(2, 2))):
        x = tf.fit_transform([np.stack([_flow(1, 0)] * 2), bad])
        assert np.isfinite(x[0]).all() and np.isnan(x[1]).all()
    clip = _clip(5).astype(float)
    clip[3] = np.nan
    x = LBPTOP(grid=(1, 1)).fit_transform([_clip(6), clip])
    assert np.isfinite(x[0]).all() and np.isnan(x[1]).all()


def test_sklearn_conventions():
    for tf in (LBPTOP(), HOOF(), MDMO()):
        assert clone(tf).get_params() == tf.get_params()
        with pytest.raises(NotFittedError):
            tf.transform([_flow(1, 0)] if not isinstance(tf, LBPTOP) else [_clip(0)])
    pipe = make_pipeline(HOOF(grid=(2, 2)), StandardScaler())
    assert pipe.fit_transform([_flow(1, 0), _flow(0, 1), _flow(1, 1)]).shape == (3, 32)
    with pytest.raises(InputError, match="last axis"):
        HOOF().fit([np.zeros((4, 5, 3))])
    with pytest.raises(InputError, match="too small"):
        LBPTOP(grid=(8, 8)).fit_transform([_clip(0, h=8, w=8)])
