"""Per-frame motion curves for spotting, from the face front end's ROI flow.

The face front end (:func:`mmme.face.pipeline.analyze_frames`) run with ``window=k`` gives, per
frame ``t`` and motion ROI, the mean flow vector from frame ``t - k`` to ``t`` (the SOFTNet
family's flow between frames ``k`` apart), with the eye itself masked out of the eye ROIs. From
it:

* :func:`residual_flow` removes head motion by the nose region: the nose ROI's vector (the
  nose barely moves with expressions) is subtracted from every other ROI's.
* :func:`motion_curve`: per frame the largest residual magnitude over the ROIs (the
  Moilanen-style curve that :func:`mmme.spotting.peaks.find_intervals` thresholds).
* :func:`mdmd_curve`: main directional maximal difference (Wang et al. 2017) on the ROI mean
  flow: the part of the head-to-current-frame motion ``a(t)`` (frames ``t-k`` to ``t``) that
  has gone again by the tail frame ``t+k`` (``b(t) = a(t) + a(t+k)``, frames ``t-k`` to
  ``t+k``), projected on the main direction ``a(t)/|a(t)|``; averaged over the top third of
  the ROIs. The published method takes the main direction from per-pixel direction histograms
  in a block grid; here the ROI mean vector stands in for it (what the face cache keeps).
* :func:`frame_features`: what the learned spotter sees per frame.

Continuity across realignment segments: flows span only ``k`` frames, so there is no running
reference that jumps when the face pipeline starts a new segment (the saw-tooth of
segment-referenced flow); the first frames of a segment, whose reference is the segment's own
first frame (zero or too-short flow by construction), are treated as missing and bridged by
linear interpolation (:func:`bridge_segment_starts`).

Examples
--------
>>> import numpy as np
>>> uv = np.zeros((50, 3, 2)); uv[20:25, 0, 1] = 1.0  # brow moves, nose still
>>> c = motion_curve(uv, ["brow_left", "nose", "chin"])
>>> int(np.argmax(c)), float(c.max())
(20, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmme.errors import InputError

#: The ROI whose flow stands for head motion.
REFERENCE_ROI = "nose"


def _uv(motion_uv: np.ndarray, roi_names: Sequence[str]) -> np.ndarray:
    uv = np.asarray(motion_uv, dtype=np.float64)
    if uv.ndim != 3 or uv.shape[2] != 2 or uv.shape[1] != len(roi_names):
        raise InputError(f"motion_uv must be (n_frames, {len(roi_names)} ROIs, 2), "
                         f"got {uv.shape}")
    return uv


def residual_flow(motion_uv: np.ndarray, roi_names: Sequence[str],
                  reference: str | None = REFERENCE_ROI) -> tuple[np.ndarray, list[str]]:
    """ROI flow vectors minus the reference ROI's: ``(n, n_rois - 1, 2)`` and their names."""
    uv = _uv(motion_uv, roi_names)
    names = list(roi_names)
    if reference is None:
        return uv, names
    if reference not in names:
        raise InputError(f"reference ROI {reference!r} not among the motion ROIs {names}")
    r = names.index(reference)
    keep = [i for i in range(len(names)) if i != r]
    return uv[:, keep] - uv[:, r : r + 1], [names[i] for i in keep]


def bridge_segment_starts(x: np.ndarray, segment: np.ndarray | None, k: int) -> np.ndarray:
    """Frames in the first ``k`` of a segment (after the first segment) set missing, then every
    missing run of at most ``2k`` frames between finite frames linearly interpolated.

    Works along axis 0 of ``x``; frames with ``segment == -1`` (no face) stay NaN."""
    x = np.array(x, dtype=np.float64, copy=True)
    if segment is None:
        return x
    seg = np.asarray(segment)
    if seg.shape[0] != x.shape[0]:
        raise InputError(f"segment has {seg.shape[0]} frames, the curve {x.shape[0]}")
    lost = seg < 0
    starts = np.flatnonzero((seg[1:] != seg[:-1]) & (seg[1:] >= 0)) + 1
    first = seg[seg >= 0][0] if (seg >= 0).any() else -1
    for s in starts:
        if seg[s] == first:
            continue
        x[s : s + k] = np.nan
        x[s : s + k][lost[s : s + k]] = np.nan
    flat = x.reshape(x.shape[0], -1)
    idx = np.arange(x.shape[0])
    for j in range(flat.shape[1]):
        col = flat[:, j]
        bad = ~np.isfinite(col) & ~lost
        if not bad.any() or np.isfinite(col).sum() < 2:
            continue
        run_start = np.flatnonzero(bad & ~np.r_[False, bad[:-1]])
        run_end = np.flatnonzero(bad & ~np.r_[bad[1:], False])
        for a, b in zip(run_start, run_end, strict=True):
            if b - a + 1 > 2 * k or a == 0 or b == len(col) - 1:
                continue
            if not (np.isfinite(col[a - 1]) and np.isfinite(col[b + 1])):
                continue
            col[a : b + 1] = np.interp(idx[a : b + 1], [a - 1, b + 1], [col[a - 1], col[b + 1]])
    return flat.reshape(x.shape)


def motion_curve(motion_uv: np.ndarray, roi_names: Sequence[str], *,
                 reference: str | None = REFERENCE_ROI, segment: np.ndarray | None = None,
                 k: int = 1) -> np.ndarray:
    """Per frame, the largest residual flow magnitude over the ROIs (NaN where no face)."""
    res, _ = residual_flow(motion_uv, roi_names, reference)
    mag = np.linalg.norm(res, axis=2)
    mag = bridge_segment_starts(mag, segment, k)
    with np.errstate(invalid="ignore"):
        out = np.where(np.isfinite(mag).any(axis=1), np.nanmax(np.where(np.isfinite(mag), mag,
                                                                         -np.inf), axis=1),
                       np.nan)
    return out


def mdmd_per_roi(motion_uv: np.ndarray, roi_names: Sequence[str], k: int, *,
                 reference: str | None = REFERENCE_ROI,
                 segment: np.ndarray | None = None) -> np.ndarray:
    """MDMD value per frame and ROI, ``(n, n_rois - 1)`` (see the module docstring)."""
    if k < 1:
        raise InputError(f"k must be at least 1 frame, got {k}")
    res, _ = residual_flow(motion_uv, roi_names, reference)
    res = bridge_segment_starts(res, segment, k)
    n = res.shape[0]
    a = res
    later = np.full_like(a, np.nan)
    if n > k:
        later[:-k] = a[k:]
    b = a + later
    mag = np.linalg.norm(a, axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = a / mag[..., None]
        proj_b = np.sum(b * unit, axis=2)
    d = mag - np.maximum(proj_b, 0.0)
    d = np.where(mag > 0, d, 0.0)
    return np.where(np.isfinite(a).all(axis=2) & np.isfinite(later).all(axis=2),
                    np.maximum(d, 0.0), np.nan)


def mdmd_curve(motion_uv: np.ndarray, roi_names: Sequence[str], k: int, *,
               reference: str | None = REFERENCE_ROI, segment: np.ndarray | None = None,
               top: float = 1 / 3) -> np.ndarray:
    """Mean of the largest ``top`` fraction of the ROIs' MDMD values per frame."""
    d = mdmd_per_roi(motion_uv, roi_names, k, reference=reference, segment=segment)
    n_top = max(1, int(np.ceil(top * d.shape[1])))
    srt = np.sort(np.where(np.isfinite(d), d, -np.inf), axis=1)[:, ::-1][:, :n_top]
    ok = np.isfinite(srt).all(axis=1)
    return np.where(ok, np.where(ok[:, None], srt, 0.0).mean(axis=1), np.nan)


def frame_features(motion_uv: np.ndarray, roi_names: Sequence[str], k: int, *,
                   reference: str | None = REFERENCE_ROI,
                   segment: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Per-frame features of the learned spotter: each ROI's residual magnitude, its contrast
    over ``k`` frames, and its MDMD value; ``(n, 3 * (n_rois - 1))`` and the names."""
    from mmme.spotting.peaks import contrast

    res, names = residual_flow(motion_uv, roi_names, reference)
    mag = bridge_segment_starts(np.linalg.norm(res, axis=2), segment, k)
    con = np.column_stack([contrast(mag[:, j], k) for j in range(mag.shape[1])])
    md = mdmd_per_roi(motion_uv, roi_names, k, reference=reference, segment=segment)
    cols = ([f"mag:{n}" for n in names] + [f"contrast:{n}" for n in names]
            + [f"mdmd:{n}" for n in names])
    return np.hstack([mag, con, md]), cols
