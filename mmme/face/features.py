"""Handcrafted micro-expression features as scikit-learn transformers.

* :class:`LBPTOP` - local binary patterns on three orthogonal planes (Zhao & Pietikainen 2007),
  block grid, histograms from :func:`skimage.feature.local_binary_pattern`.
* :class:`HOOF` - histograms of oriented optical flow (Chaudhry et al. 2009), per ROI.
* :class:`MDMO` - main directional mean optical flow (Liu et al. 2016), per ROI.

Inputs are aligned clips: ``X`` is a sequence of samples, each a gray clip ``(T, H, W)``
(LBP-TOP) or a flow sequence ``(T, H, W, 2)`` / single flow ``(H, W, 2)`` (HOOF, MDMO); samples
may differ in length. A sample with any NaN (a frame without a face) gives a NaN feature row:
missing, never zero. Nothing is learned from data; ``fit`` fixes the ROIs / bins from the
parameters and the first sample's frame shape, as scikit-learn expects: ``n_features_in_`` is
the number of values per frame (``H * W``, or ``H * W * 2`` for flow), and ``transform`` refuses
frames of another shape. The scikit-learn tags declare 3-D, ragged input (not a 2-D table).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mmme.errors import InputError
from mmme.face.roi import Roi, grid_rois


def _samples(X: Any, ndim: tuple[int, ...], what: str) -> list[np.ndarray]:
    if isinstance(X, np.ndarray):
        items = list(X)
    elif isinstance(X, Sequence):
        items = list(X)
    else:
        raise InputError(f"{what}: X must be a sequence of samples, got {type(X).__name__}")
    out = []
    for i, x in enumerate(items):
        try:
            a = np.asarray(x)
        except ValueError as exc:
            raise InputError(f"{what}: sample {i} is not an array ({exc})") from None
        if a.ndim not in ndim:
            raise InputError(f"{what}: sample {i} has shape {a.shape}, expected {ndim}-D")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise InputError(f"{what}: sample {i} has dtype {a.dtype}, expected numbers")
        out.append(a)
    if not out:
        raise InputError(f"{what}: no samples")
    return out


class _FrameFeatures(TransformerMixin, BaseEstimator):
    """Shared contract: ragged 3-D input, frame shape fixed at fit, names of the output."""

    def __sklearn_tags__(self) -> Any:
        from mmme._sklearn import non_tabular_tags

        return non_tabular_tags(super().__sklearn_tags__(), ragged=True)

    def _set_frame_shape(self, shape: tuple[int, ...]) -> None:
        self.frame_shape_ = tuple(int(v) for v in shape)
        self.n_features_in_ = int(np.prod(self.frame_shape_))

    def _check_frame_shape(self, items: list[np.ndarray], what: str) -> None:
        for i, a in enumerate(items):
            if tuple(a.shape[1:]) != self.frame_shape_:
                raise InputError(
                    f"{what}: sample {i} has frames of shape {tuple(a.shape[1:])}, fitted on "
                    f"{self.frame_shape_}"
                )


def _lbp_bins(n_points: int, method: str) -> int:
    if method == "nri_uniform":
        return n_points * (n_points - 1) + 3
    if method == "uniform":
        return n_points + 2
    if method == "default":
        return 2**n_points
    raise InputError(f"LBP method must be 'nri_uniform', 'uniform' or 'default', got {method!r}")


class LBPTOP(_FrameFeatures):
    """LBP on three orthogonal planes (XY, XT, YT) over a block grid.

    Parameters
    ----------
    grid : tuple of int
        ``(rows, cols)`` spatial blocks; each block gives one histogram per plane.
    radius : float
        LBP radius (pixels / frames), the same on all planes.
    n_points : int
        LBP neighbours.
    method : str
        :func:`skimage.feature.local_binary_pattern` method (``"nri_uniform"``: 59 bins for P=8).

    Notes
    -----
    Output length ``rows * cols * 3 * n_bins``, ordered block-major, then plane (XY, XT, YT);
    each histogram sums to 1.
    """

    def __init__(self, grid: tuple[int, int] = (4, 4), radius: float = 1, n_points: int = 8,
                 method: str = "nri_uniform") -> None:
        self.grid = grid
        self.radius = radius
        self.n_points = n_points
        self.method = method

    def fit(self, X: Any, y: Any = None) -> LBPTOP:
        """Fix the bins and the frame shape ``(H, W)`` of the clips."""
        clips = _samples(X, (3,), "LBPTOP")
        self._set_frame_shape(clips[0].shape[1:])
        self.n_bins_ = _lbp_bins(self.n_points, self.method)
        self.n_features_out_ = int(self.grid[0] * self.grid[1] * 3 * self.n_bins_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        from skimage.feature import local_binary_pattern

        check_is_fitted(self, "n_bins_")
        clips = _samples(X, (3,), "LBPTOP")
        self._check_frame_shape(clips, "LBPTOP")
        out = np.full((len(clips), self.n_features_out_), np.nan)
        nb, r, p = self.n_bins_, self.radius, self.n_points
        rows, cols = self.grid
        for i, clip in enumerate(clips):
            c = np.asarray(clip)
            if np.issubdtype(c.dtype, np.floating):
                if not np.all(np.isfinite(c)):
                    continue
                # skimage warns on float images; 8-bit-range floats are exact as integers.
                if c.min() >= 0 and c.max() <= 255 and np.all(c == np.round(c)):
                    c = c.astype(np.uint8)
            t, h, w = c.shape
            if t < 2 * r + 1 or h < rows * (2 * r + 1) or w < cols * (2 * r + 1):
                raise InputError(f"LBPTOP: sample {i} of shape {c.shape} is too small")
            # Codes of each plane, keeping only positions with a full neighbourhood.
            rr = int(np.ceil(r))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                xy = np.stack([local_binary_pattern(f, p, r, self.method) for f in c])
                xt = np.stack([local_binary_pattern(c[:, y, :], p, r, self.method)
                               for y in range(h)], axis=1)
                yt = np.stack([local_binary_pattern(c[:, :, x], p, r, self.method)
                               for x in range(w)], axis=2)
            ys = np.linspace(0, h, rows + 1).round().astype(int)
            xs = np.linspace(0, w, cols + 1).round().astype(int)
            feats = []
            for bi in range(rows):
                for bj in range(cols):
                    sl = (slice(rr, t - rr), slice(max(ys[bi], rr), min(ys[bi + 1], h - rr)),
                          slice(max(xs[bj], rr), min(xs[bj + 1], w - rr)))
                    for codes in (xy, xt, yt):
                        hist = np.bincount(codes[sl].astype(np.int64).ravel(), minlength=nb)[:nb]
                        feats.append(hist / max(hist.sum(), 1))
            out[i] = np.concatenate(feats)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``lbptop_r<row>c<col>_<plane>_<bin>``."""
        check_is_fitted(self, "n_bins_")
        rows, cols = self.grid
        return np.array([f"lbptop_r{i}c{j}_{pl}_{b}" for i in range(rows) for j in range(cols)
                         for pl in ("xy", "xt", "yt") for b in range(self.n_bins_)], dtype=object)


def _flows(X: Any, what: str) -> list[np.ndarray]:
    items = _samples(X, (3, 4), what)
    out = []
    for i, a in enumerate(items):
        if a.shape[-1] != 2:
            raise InputError(f"{what}: sample {i} has shape {a.shape}; flow needs a last axis of 2")
        out.append(a[None] if a.ndim == 3 else a)
    return out


def _resolve_rois(rois: dict[str, Roi] | None, grid: tuple[int, int],
                  shape: tuple[int, int]) -> dict[str, Roi]:
    return grid_rois(shape, grid) if rois is None else rois


def _orientation_hist(px: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ang = np.mod(np.arctan2(px[:, 1], px[:, 0]), 2 * np.pi)
    mag = np.hypot(px[:, 0], px[:, 1])
    idx = np.minimum((ang / (2 * np.pi) * n_bins).astype(int), n_bins - 1)
    return np.bincount(idx, weights=mag, minlength=n_bins), idx, mag


class HOOF(_FrameFeatures):
    """Histogram of oriented optical flow per ROI, magnitude-weighted, averaged over frames.

    Parameters
    ----------
    n_bins : int
        Orientation bins over the full circle (bin 0 starts at +x, counter-clockwise in image
        coordinates, i.e. towards +y = down).
    rois : dict of str to Roi | None
        Named ROIs in flow coordinates (e.g. :func:`mmme.face.roi.face_rois` of the aligned
        crop); ``None`` uses a regular ``grid`` of blocks.
    grid : tuple of int
        Block grid when ``rois`` is ``None``.
    normalize : bool
        Scale each ROI's histogram to sum 1 (direction only); else keep magnitudes (pixels).
    """

    def __init__(self, n_bins: int = 8, rois: dict[str, Roi] | None = None,
                 grid: tuple[int, int] = (5, 5), normalize: bool = True) -> None:
        self.n_bins = n_bins
        self.rois = rois
        self.grid = grid
        self.normalize = normalize

    def fit(self, X: Any, y: Any = None) -> HOOF:
        """Fix the ROIs from the flow shape ``(H, W, 2)``."""
        flows = _flows(X, "HOOF")
        self._set_frame_shape(flows[0].shape[1:])
        self.rois_ = _resolve_rois(self.rois, self.grid, flows[0].shape[1:3])
        self.n_features_out_ = len(self.rois_) * self.n_bins
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "rois_")
        flows = _flows(X, "HOOF")
        self._check_frame_shape(flows, "HOOF")
        out = np.full((len(flows), self.n_features_out_), np.nan)
        for i, seq in enumerate(flows):
            if not np.all(np.isfinite(seq)):
                continue
            acc = np.zeros((len(self.rois_), self.n_bins))
            for f in seq:
                for k, roi in enumerate(self.rois_.values()):
                    px = roi.take(f)
                    if len(px):
                        acc[k] += _orientation_hist(px, self.n_bins)[0]
            acc /= len(seq)
            if self.normalize:
                s = acc.sum(axis=1, keepdims=True)
                acc = np.divide(acc, s, out=np.zeros_like(acc), where=s > 0)
            out[i] = acc.ravel()
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``hoof_<roi>_<bin>``."""
        check_is_fitted(self, "rois_")
        return np.array([f"hoof_{n}_{b}" for n in self.rois_ for b in range(self.n_bins)],
                        dtype=object)


class MDMO(_FrameFeatures):
    """Main directional mean optical flow (Liu et al. 2016, IEEE TAC 7(4)) per ROI.

    In each frame and ROI, the flow vectors are binned by orientation; the mean vector of the
    fullest bin (by count) is the ROI's main directional flow. Those vectors are averaged over
    the frames and returned as magnitude and angle per ROI: ``[rho_roi1, theta_roi1, ...]``
    (``theta`` in radians from +x towards +y, image coordinates).

    Parameters
    ----------
    n_bins : int
        Orientation bins.
    rois, grid
        As in :class:`HOOF`.
    """

    def __init__(self, n_bins: int = 8, rois: dict[str, Roi] | None = None,
                 grid: tuple[int, int] = (5, 5)) -> None:
        self.n_bins = n_bins
        self.rois = rois
        self.grid = grid

    def fit(self, X: Any, y: Any = None) -> MDMO:
        """Fix the ROIs from the flow shape ``(H, W, 2)``."""
        flows = _flows(X, "MDMO")
        self._set_frame_shape(flows[0].shape[1:])
        self.rois_ = _resolve_rois(self.rois, self.grid, flows[0].shape[1:3])
        self.n_features_out_ = 2 * len(self.rois_)
        return self

    def main_directions(self, flow_seq: np.ndarray) -> np.ndarray:
        """``(T, n_rois, 2)`` main directional mean flow vectors (u, v) of one flow sequence."""
        seq = flow_seq[None] if flow_seq.ndim == 3 else flow_seq
        out = np.zeros((len(seq), len(self.rois_), 2))
        for t, f in enumerate(seq):
            for k, roi in enumerate(self.rois_.values()):
                px = roi.take(f)
                if not len(px):
                    out[t, k] = np.nan
                    continue
                _, idx, _ = _orientation_hist(px, self.n_bins)
                main = np.argmax(np.bincount(idx, minlength=self.n_bins))
                out[t, k] = px[idx == main].mean(axis=0)
        return out

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "rois_")
        flows = _flows(X, "MDMO")
        self._check_frame_shape(flows, "MDMO")
        out = np.full((len(flows), self.n_features_out_), np.nan)
        for i, seq in enumerate(flows):
            if not np.all(np.isfinite(seq)):
                continue
            mean = self.main_directions(seq).mean(axis=0)
            out[i, 0::2] = np.hypot(mean[:, 0], mean[:, 1])
            out[i, 1::2] = np.arctan2(mean[:, 1], mean[:, 0])
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``mdmo_<roi>_rho`` and ``mdmo_<roi>_theta``."""
        check_is_fitted(self, "rois_")
        return np.array([f"mdmo_{n}_{q}" for n in self.rois_ for q in ("rho", "theta")],
                        dtype=object)
