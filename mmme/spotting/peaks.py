"""From a per-frame motion (or score) curve to spotted expression intervals.

The steps of the classic spotting methods (Moilanen et al. 2014; the MEGC baselines), each usable
on its own with any curve — ROI flow magnitude, MDMD, a learned frame score:

1. :func:`contrast`: ``C[t] = F[t] - (F[t-k] + F[t+k]) / 2``, clipped at 0, so a rise and fall
   within ``2k`` frames (an expression) stands out from slow drift (head motion, lighting).
2. :func:`adaptive_threshold`: ``T = mean(C) + p * (max(C) - mean(C))`` over the video.
3. :func:`find_intervals`: peaks above ``T`` at least ``k`` frames apart; each peak's interval runs
   out to where the curve falls below half the peak's height over the local baseline (within
   ``max_len`` frames), inclusive frame numbers.

NaN frames (no face) never yield a peak and end an interval.

Examples
--------
>>> import numpy as np
>>> f = np.zeros(100); f[40:51] = np.hanning(11)
>>> find_intervals(f, k=5, p=0.5)[["onset", "apex", "offset"]].values.tolist()
[[43, 45, 47]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from mmme.errors import InputError

INTERVAL_COLUMNS = ("onset", "apex", "offset", "score")


def _curve(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 1:
        raise InputError(f"a spotting curve is 1-D (one value per frame), got shape {f.shape}")
    return f


def contrast(f: np.ndarray, k: int) -> np.ndarray:
    """``F[t] - (F[t-k] + F[t+k]) / 2`` clipped at 0; frames within ``k`` of an end use the
    nearest end frame as their neighbour, and NaN stays NaN."""
    f = _curve(f)
    if k < 1:
        raise InputError(f"k must be at least 1 frame, got {k}")
    idx = np.arange(len(f))
    before = f[np.clip(idx - k, 0, len(f) - 1)]
    after = f[np.clip(idx + k, 0, len(f) - 1)]
    c = f - (before + after) / 2
    return np.where(np.isnan(c), np.nan, np.maximum(c, 0.0))


def adaptive_threshold(c: np.ndarray, p: float) -> float:
    """``mean + p * (max - mean)`` of the finite values (``p`` in [0, 1])."""
    if not 0.0 <= p <= 1.0:
        raise InputError(f"threshold fraction p must lie in [0, 1], got {p}")
    v = _curve(c)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("inf")
    return float(v.mean() + p * (v.max() - v.mean()))


def find_intervals(
    f: np.ndarray,
    k: int,
    p: float = 0.3,
    *,
    use_contrast: bool = True,
    max_len: int | None = None,
) -> pd.DataFrame:
    """Spotted intervals of one video's curve.

    Parameters
    ----------
    f : array_like
        One value per frame (higher = more movement), NaN where there is no face.
    k : int
        Half the expected expression length in frames (peaks are at least ``k`` apart).
    p : float
        Threshold fraction of :func:`adaptive_threshold`.
    use_contrast : bool
        Threshold the contrast of ``f`` (default) rather than ``f`` itself.
    max_len : int, optional
        Longest interval in frames (default ``8 * k``).

    Returns
    -------
    pandas.DataFrame
        ``onset, apex, offset, score`` (inclusive frames; ``score`` = peak height over the
        threshold), sorted by onset; overlapping intervals are merged.
    """
    f = _curve(f)
    c = contrast(f, k) if use_contrast else f
    thr = adaptive_threshold(c, p)
    max_len = 8 * k if max_len is None else max_len
    if not np.isfinite(thr) or len(f) == 0:
        return pd.DataFrame(columns=list(INTERVAL_COLUMNS))
    peaks, _ = find_peaks(np.nan_to_num(c, nan=-np.inf), height=thr, distance=max(1, k))
    # a frame beside a gap (no face) only looks like a maximum: its other side is unknown
    finite = np.isfinite(np.concatenate([[0.0], c, [0.0]]))
    peaks = peaks[finite[peaks] & finite[peaks + 2]]
    rows = []
    for a in peaks:
        on, off = _extent(f, int(a), max_len)
        rows.append((on, int(a), off, float(c[a] - thr)))
    out = pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS))
    return _merge(out)


def _extent(f: np.ndarray, apex: int, max_len: int) -> tuple[int, int]:
    """Frames around ``apex`` where ``f`` stays above half its height over the local baseline
    (the lowest value within ``max_len // 2`` frames on either side)."""
    half = max(1, max_len // 2)
    lo, hi = max(0, apex - half), min(len(f), apex + half + 1)
    window = f[lo:hi]
    base = np.nanmin(window) if np.isfinite(window).any() else 0.0
    level = base + 0.5 * (f[apex] - base)
    on = apex
    while on - 1 >= lo and np.isfinite(f[on - 1]) and f[on - 1] > level:
        on -= 1
    off = apex
    while off + 1 < hi and np.isfinite(f[off + 1]) and f[off + 1] > level:
        off += 1
    return on, off


def _merge(df: pd.DataFrame) -> pd.DataFrame:
    """Merge overlapping intervals, keeping the higher peak's apex and score."""
    if df.empty:
        return df
    df = df.sort_values("onset").reset_index(drop=True)
    merged = [df.iloc[0].to_dict()]
    for r in df.iloc[1:].to_dict("records"):
        m = merged[-1]
        if r["onset"] <= m["offset"]:
            m["offset"] = max(m["offset"], r["offset"])
            if r["score"] > m["score"]:
                m["apex"], m["score"] = r["apex"], r["score"]
        else:
            merged.append(r)
    out = pd.DataFrame(merged, columns=list(INTERVAL_COLUMNS))
    return out.astype({"onset": int, "apex": int, "offset": int, "score": float})
