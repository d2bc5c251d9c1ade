"""Statistics of the event-related analysis: grand averages with CIs, paired tests, Holm.

Every test here is two-sided. A *unit* is a subject (the default: subjects are the independent
observations) or, when a store has too few subjects, an event (stated in every result).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from mmme.errors import InputError


def mean_ci(x: np.ndarray, axis: int = 0, level: float = 0.95) -> tuple[np.ndarray, ...]:
    """Mean and t-based confidence interval along ``axis``, NaN-aware.

    Parameters
    ----------
    x : numpy.ndarray
        Observations along ``axis`` (e.g. one row per subject).
    axis : int
        Axis of the observations.
    level : float
        Confidence level.

    Returns
    -------
    mean, lo, hi, n : numpy.ndarray
        ``n`` is the number of finite observations; the CI is NaN where ``n < 2``.
    """
    x = np.asarray(x, dtype=float)
    n = np.sum(np.isfinite(x), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmean(x, axis=axis)
            sd = np.nanstd(x, axis=axis, ddof=1)
        half = sps.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    half = np.where(n >= 2, half, np.nan)
    return m, m - half, m + half, n


def one_sample(d: Sequence[float]) -> dict[str, Any]:
    """Two-sided one-sample t-test of ``d`` against 0 with Cohen's d_z.

    Used for paired designs: ``d`` is the per-unit difference (event - matched random time,
    response - baseline, ...).

    Returns
    -------
    dict
        ``n, mean, ci: [lo, hi], t, p, dz`` (``p`` NaN when fewer than 2 finite values or no
        variance).
    """
    x = np.asarray(d, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    out: dict[str, Any] = {"n": n, "mean": float(np.mean(x)) if n else float("nan"),
                           "ci": [float("nan"), float("nan")], "t": float("nan"),
                           "p": float("nan"), "dz": float("nan")}
    if n < 2:
        return out
    sd = float(np.std(x, ddof=1))
    m, lo, hi, _ = mean_ci(x)
    out["ci"] = [float(lo), float(hi)]
    if sd > 0:
        t = float(np.mean(x) / (sd / np.sqrt(n)))
        out.update(t=t, p=float(2 * sps.t.sf(abs(t), n - 1)), dz=float(np.mean(x) / sd))
    return out


def two_sample(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Welch's two-sided t-test of ``a`` against ``b`` with Hedges' g (unpaired units)."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    out: dict[str, Any] = {"n": [int(x.size), int(y.size)],
                           "mean": float(np.mean(x) - np.mean(y)) if x.size and y.size
                           else float("nan"), "t": float("nan"), "p": float("nan"),
                           "g": float("nan")}
    if x.size < 2 or y.size < 2:
        return out
    res = sps.ttest_ind(x, y, equal_var=False)
    pooled = np.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1))
                     / (x.size + y.size - 2))
    corr = 1 - 3 / (4 * (x.size + y.size) - 9)
    g = float(out["mean"] / pooled * corr) if pooled > 0 else float("nan")
    out.update(t=float(res.statistic), p=float(res.pvalue), g=g)
    return out


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (family-wise error control); NaN stays NaN.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return out
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise InputError("p-values must lie in [0, 1]")
    order = ok[np.argsort(p[ok])]
    m = order.size
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """Spearman rank correlation over the pairs where both are finite."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return {"n": n, "rho": float("nan"), "p": float("nan")}
    res = sps.spearmanr(a[ok], b[ok])
    return {"n": n, "rho": float(res.statistic), "p": float(res.pvalue)}


def wilcoxon(d: Sequence[float]) -> dict[str, Any]:
    """Two-sided Wilcoxon signed-rank test of ``d`` against 0 (matched-pairs rank-biserial r)."""
    x = np.asarray(d, dtype=float)
    x = x[np.isfinite(x) & (x != 0)]
    n = int(x.size)
    if n < 2:
        return {"n": n, "W": float("nan"), "p": float("nan"), "r": float("nan")}
    res = sps.wilcoxon(x)
    ranks = sps.rankdata(np.abs(x))
    r = float((ranks[x > 0].sum() - ranks[x < 0].sum()) / ranks.sum())
    return {"n": n, "W": float(res.statistic), "p": float(res.pvalue), "r": r}
