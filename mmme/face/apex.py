"""Apex estimation from ROI motion, for annotations that lack an apex or have an odd one.

The motion curves come from :func:`mmme.face.pipeline.analyze_frames` with ``window=0`` and the
trial's onset as the flow reference, so each curve measures displacement from the onset face.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from mmme.errors import InputError


def estimate_apex(
    motion: np.ndarray,
    onset: int = 0,
    offset: int | None = None,
    smooth: int = 3,
    rois: np.ndarray | list[int] | None = None,
) -> int:
    """Frame of largest motion between onset and offset (inclusive).

    Parameters
    ----------
    motion : np.ndarray
        ``(n_frames,)`` or ``(n_frames, n_rois)`` motion magnitudes (NaN where the face is lost).
    onset, offset : int
        Frame range searched; ``offset=None`` searches to the end.
    smooth : int
        Moving-average length (frames) applied before the peak search (1: none).
    rois : sequence of int | None
        Columns to use (e.g. the ROIs of the event's AUs); all by default. The curve searched is
        the mean over them.

    Returns
    -------
    int
        Apex frame index.

    Raises
    ------
    InputError
        If the range is empty or has no finite motion.
    """
    m = np.asarray(motion, dtype=np.float64)
    if m.ndim == 1:
        m = m[:, None]
    if rois is not None:
        m = m[:, list(rois)]
    n = len(m)
    offset = n - 1 if offset is None else int(offset)
    if not 0 <= onset <= offset < n:
        raise InputError(f"apex search range [{onset}, {offset}] outside 0..{n - 1}")
    curve = _mean_curve(m)
    seg = curve[onset : offset + 1]
    ok = np.isfinite(seg)
    if not ok.any():
        raise InputError(f"no face in frames {onset}..{offset}: cannot estimate an apex")
    if smooth > 1:
        # Smooth with missing frames ignored (normalised convolution).
        num = scipy.ndimage.uniform_filter1d(np.where(ok, seg, 0.0), smooth, mode="nearest")
        den = scipy.ndimage.uniform_filter1d(ok.astype(float), smooth, mode="nearest")
        seg = np.where(ok, num / np.maximum(den, 1e-12), np.nan)
    return int(onset + np.nanargmax(seg))


def _mean_curve(m: np.ndarray) -> np.ndarray:
    """Mean over ROIs per frame, ignoring NaN; NaN where no ROI is finite (no warnings)."""
    if m.ndim == 1:
        return m
    finite = np.isfinite(m)
    cnt = finite.sum(axis=1)
    total = np.where(finite, m, 0.0).sum(axis=1)
    return np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan)


def apex_is_plausible(
    apex: int | None,
    onset: int,
    offset: int,
    motion: np.ndarray | None = None,
    min_fraction: float = 0.5,
) -> bool:
    """Whether an annotated apex is usable.

    Implausible: missing, outside ``(onset, offset]``, equal to the onset, or (when ``motion`` is
    given) with less than ``min_fraction`` of the peak motion in the range.
    """
    if apex is None or not onset < apex <= offset:
        return False
    if motion is None:
        return True
    curve = _mean_curve(np.asarray(motion, dtype=np.float64))
    rng = curve[onset : offset + 1]
    if not np.isfinite(rng).any() or not np.isfinite(curve[apex]):
        return False
    peak = float(np.nanmax(rng))
    if peak <= 0:
        return False
    return bool(curve[apex] >= min_fraction * peak)
