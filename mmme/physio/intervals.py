"""Event-to-event intervals (RR, NN, breath-to-breath) that never span masked samples.

A masked or missing stretch (NaN samples, a flat lead, clipping; see
:func:`mmme.data.quality.check_signal`) hides the beats or breaths inside it, so the interval
from the last event before it to the first one after it is not an interval of the signal: a 3-s
gap in an ECG makes one 3.8-s "RR interval" and multiplies RMSSD. Every statistic built on
intervals goes through :func:`intervals_valid`, which drops each interval touching a bad sample;
rates are interpolated only within runs of valid intervals (:func:`interval_rate`), successive
differences only between two adjacent valid intervals (:func:`rmssd_ms`).
"""

from __future__ import annotations

from collections.abc import Callable

import neurokit2 as nk
import numpy as np

#: Seconds around a masked stretch where detected events are not trusted, per kind. R-peak
#: detectors adapt their threshold to the last ~0.75 s: right after a gap they take a T or P
#: wave for a beat (on the real 5-min ECG, a 3-s gap at 20 s gives a false beat 97 ms after
#: it and RMSSD +10 %); breath detectors look at whole cycles.
GUARD_S: dict[str, float] = {"ecg": 1.0, "ppg": 1.0, "rsp": 2.0}


def guard_samples(kind: str, sfreq: float) -> int:
    """:data:`GUARD_S` of ``kind`` in samples at ``sfreq`` (0 for kinds without intervals)."""
    return int(np.ceil(GUARD_S.get(kind, 0.0) * sfreq))


def spans_clean(
    start: np.ndarray, stop: np.ndarray, bad: np.ndarray, guard: int = 0
) -> np.ndarray:
    """Whether each span of samples ``start[k] .. stop[k]`` (both included) holds no bad sample.

    ``guard`` samples either side of the span are checked too (clipped to the signal). A span
    reaching outside the mask, or with ``stop <= start``, is not clean. An empty mask means no
    sample is bad.
    """
    a = np.asarray(start, dtype=np.int64)
    b = np.asarray(stop, dtype=np.int64)
    if not bad.size:
        return b > a
    cum = np.concatenate([[0], np.cumsum(bad, dtype=np.int64)])
    inside = (a >= 0) & (b < bad.size) & (b > a)
    n_bad = cum[np.clip(b + 1 + guard, 0, bad.size)] - cum[np.clip(a - guard, 0, bad.size)]
    return inside & (n_bad == 0)


def intervals_valid(events: np.ndarray, bad: np.ndarray, guard: int = 0) -> np.ndarray:
    """Whether each interval between consecutive events holds no bad sample.

    Parameters
    ----------
    events : numpy.ndarray
        Sorted sample indices of the events (R-peaks, breath peaks or troughs).
    bad : numpy.ndarray
        Boolean mask of bad samples of the signal the indices refer to (may be empty: none bad).
    guard : int
        Samples either side of the interval that must be clean too (:func:`guard_samples`).

    Returns
    -------
    numpy.ndarray of bool
        ``len(events) - 1`` flags; interval ``k`` spans samples ``events[k] .. events[k + 1]``
        (both ends included) and is False when any of them, or of the ``guard`` samples
        around them, is bad, or when it lies outside the mask.

    Examples
    --------
    >>> bad = np.zeros(10, dtype=bool); bad[5] = True
    >>> intervals_valid(np.array([0, 2, 4, 6, 8]), bad).tolist()
    [True, True, False, True]
    >>> intervals_valid(np.array([0, 2, 4, 6, 8]), bad, guard=1).tolist()
    [True, False, False, False]
    """
    ev = np.asarray(events, dtype=np.int64)
    if ev.size < 2:
        return np.zeros(0, dtype=bool)
    return spans_clean(ev[:-1], ev[1:], bad, guard)


def interval_runs(
    events: np.ndarray, valid: np.ndarray, n: int
) -> list[tuple[int, int, int, int]]:
    """Runs of consecutive valid intervals and the span of samples each one describes.

    Returns
    -------
    list of (first, last, start, stop)
        Events ``first .. last`` (indices into ``events``) bound a run of valid intervals; it
        describes samples ``[start, stop)``: from the signal's start (first run) or its first
        event, to the signal's end (last run) or its last event (included). Samples between two
        runs belong to an invalid interval and to no run.
    """
    ev = np.asarray(events, dtype=np.int64)
    ok = np.asarray(valid, dtype=bool)
    if ok.size == 0:
        return []
    padded = np.concatenate(([False], ok, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = []
    for i, j in zip(edges[::2], edges[1::2], strict=True):  # intervals i .. j-1
        start = 0 if i == 0 else int(ev[i])
        stop = n if j == ok.size else int(ev[j]) + 1
        runs.append((int(i), int(j), start, stop))
    return runs


def _per_run(
    events: np.ndarray,
    valid: np.ndarray,
    n: int,
    fn: Callable[[np.ndarray, slice, int], np.ndarray | None],
) -> np.ndarray:
    out = np.full(n, np.nan)
    ev = np.asarray(events, dtype=np.int64)
    for i, j, start, stop in interval_runs(ev, valid, n):
        vals = fn(ev[i : j + 1] - start, slice(i, j + 1), stop - start)
        if vals is not None:
            out[start:stop] = vals
    return out


def interval_rate(
    events: np.ndarray, valid: np.ndarray, sfreq: float, n: int
) -> np.ndarray:
    """Instantaneous rate (per minute) at every sample, from valid intervals only.

    NeuroKit2's :func:`neurokit2.signal_rate` is applied to each run of valid intervals
    (:func:`interval_runs`) on its own span; samples under an invalid interval, and runs with too
    few events for NeuroKit2 (4), are NaN. Without bad intervals this is ``signal_rate`` on the
    whole signal.
    """

    def rate(ev: np.ndarray, _: slice, length: int) -> np.ndarray | None:
        if ev.size < 4:
            return None
        return np.asarray(nk.signal_rate(ev, sampling_rate=sfreq, desired_length=length), float)

    return _per_run(events, valid, n, rate)


def interval_interpolate(
    events: np.ndarray, values: np.ndarray, valid: np.ndarray, n: int
) -> np.ndarray:
    """Per-event values (e.g. breath amplitudes) interpolated within runs of valid intervals.

    NeuroKit2's monotone cubic :func:`neurokit2.signal_interpolate`, run by run; NaN under
    invalid intervals. A run of one interval (two events) is interpolated linearly.
    """
    v = np.asarray(values, dtype=float)

    def interp(ev: np.ndarray, sel: slice, length: int) -> np.ndarray:
        method = "monotone_cubic" if ev.size >= 3 else "linear"
        return np.asarray(
            nk.signal_interpolate(ev, v[sel], x_new=np.arange(length), method=method), float
        )

    return _per_run(events, valid, n, interp)


def rmssd_ms(events: np.ndarray, valid: np.ndarray, sfreq: float) -> float:
    """Root mean square of successive differences (ms) of the valid intervals.

    A difference is taken only between two adjacent intervals that are both valid; NaN when
    there is none.

    Examples
    --------
    RR 800, 820, 790 ms: differences +20 and -30, RMSSD ``sqrt((400 + 900) / 2)`` = 25.5 ms.

    >>> round(rmssd_ms(np.array([0, 800, 1620, 2410]), np.ones(3, bool), 1000.0), 3)
    25.495
    """
    ev = np.asarray(events, dtype=np.int64)
    ok = np.asarray(valid, dtype=bool)
    if ev.size < 3:
        return float("nan")
    rr = np.diff(ev) / sfreq * 1000.0
    both = ok[:-1] & ok[1:]
    if not both.any():
        return float("nan")
    return float(np.sqrt(np.mean(np.diff(rr)[both] ** 2)))


def nk_intervals(events: np.ndarray, valid: np.ndarray, sfreq: float) -> dict[str, np.ndarray]:
    """Intervals for NeuroKit2's HRV functions: ``{"RRI": ms, "RRI_Time": s}``.

    Invalid intervals are NaN, so NeuroKit2 knows intervals are missing (``rri_missing``) and
    takes successive differences only between adjacent intervals that remain.
    """
    ev = np.asarray(events, dtype=np.int64)
    rri = np.diff(ev) / sfreq * 1000.0
    rri[~np.asarray(valid, dtype=bool)] = np.nan
    return {"RRI": rri, "RRI_Time": ev[1:] / sfreq}
