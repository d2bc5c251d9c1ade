"""Signal-quality checks: flat, NaN-filled and clipped channels are named, never used silently.

:func:`check_signal` returns a :class:`QualityReport` with a per-sample ``bad`` mask. Problems are
reported as a :class:`SignalQualityWarning` (a ``UserWarning`` whose message names the channel) and
through ``mmme.logger``; features computed over bad samples are masked (NaN) downstream.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from mmme._logging import logger

#: Kinds whose signal oscillates fast enough that a run of identical samples means a dead lead.
#: Values are the shortest run (seconds) of identical samples that counts as a flat segment;
#: ``None`` = slow signals (EDA, SKT) where long constant runs are normal after quantisation.
FLAT_RUN_S: dict[str, float | None] = {
    "ecg": 1.0,
    "ppg": 1.0,
    "emg": 1.0,
    "eeg": 1.0,
    "rsp": 10.0,
    "eda": None,
    "skt": None,
}
#: Kinds where samples pinned at the extreme value reveal amplifier saturation.
CLIP_KINDS = frozenset({"ecg", "ppg", "emg", "eeg", "rsp"})


class SignalQualityWarning(UserWarning):
    """A channel is flat, NaN-filled, clipped or otherwise unusable; the message names it."""


@dataclass
class QualityReport:
    """Quality of one channel.

    Attributes
    ----------
    channel : str
        Channel name.
    kind : str
        Signal kind (``"ecg"``, ``"eda"``, ...).
    n_samples : int
        Length of the checked signal.
    nan_fraction, flat_fraction, clipped_fraction : float
        Fractions of samples that are NaN/inf, in flat runs, or pinned at the signal's extremes.
    bad : numpy.ndarray
        Boolean mask, True where a sample must not be used.
    problems : list of str
        Named problems (``"all_nan"``, ``"flat"``, ``"clipped"``, ``"nan_samples"``,
        ``"flat_segments"``).
    usable : bool
        False when the channel as a whole cannot give features.
    """

    channel: str
    kind: str
    n_samples: int
    nan_fraction: float
    flat_fraction: float
    clipped_fraction: float
    bad: np.ndarray = field(repr=False)
    problems: list[str]
    usable: bool

    @property
    def bad_fraction(self) -> float:
        """Fraction of samples in ``bad``."""
        return float(self.bad.mean()) if self.n_samples else 1.0

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly summary (without the mask)."""
        return {
            "channel": self.channel,
            "kind": self.kind,
            "n_samples": self.n_samples,
            "nan_fraction": self.nan_fraction,
            "flat_fraction": self.flat_fraction,
            "clipped_fraction": self.clipped_fraction,
            "bad_fraction": self.bad_fraction,
            "problems": list(self.problems),
            "usable": self.usable,
        }


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop indices of the runs of True in ``mask``."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges[::2], edges[1::2]


def _mark_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Keep only runs of True that are at least ``min_len`` long."""
    starts, stops = _runs(mask)
    keep = (stops - starts) >= max(min_len, 1)
    edges = np.zeros(mask.size + 1, dtype=np.int64)
    np.add.at(edges, starts[keep], 1)
    np.add.at(edges, stops[keep], -1)
    return np.cumsum(edges[:-1]) > 0


def check_signal(
    signal: np.ndarray,
    sfreq: float,
    *,
    channel: str,
    kind: str,
    max_bad_fraction: float = 0.5,
    clip_min_run: int = 3,
    clip_max_fraction: float = 0.005,
    warn: bool = True,
) -> QualityReport:
    """Check one channel for NaN, flat and clipped samples.

    Parameters
    ----------
    signal : numpy.ndarray
        1-D signal.
    sfreq : float
        Sampling frequency in Hz.
    channel : str
        Channel name, used in warnings.
    kind : str
        Signal kind, one of :data:`FLAT_RUN_S`.
    max_bad_fraction : float
        Above this fraction of bad samples the channel is declared unusable.
    clip_min_run : int
        Samples at the global max/min count as clipped only in runs at least this long.
    clip_max_fraction : float
        Clipped samples are reported (and masked) when they exceed this fraction.
    warn : bool
        Emit a :class:`SignalQualityWarning` naming the channel for every problem.

    Returns
    -------
    QualityReport
    """
    x = np.asarray(signal, dtype=float).ravel()
    n = x.size
    problems: list[str] = []
    finite = np.isfinite(x)
    bad = ~finite
    nan_fraction = float(bad.mean()) if n else 1.0
    flat_fraction = 0.0
    clipped_fraction = 0.0
    if n == 0 or not finite.any():
        problems.append("all_nan" if n else "empty")
        bad = np.ones(n, dtype=bool)
    else:
        if nan_fraction > 0:
            problems.append("nan_samples")
        xs = x[finite]
        lo, hi = float(xs.min()), float(xs.max())
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            problems.append("flat")
            flat_fraction = 1.0
            bad = np.ones(n, dtype=bool)
        else:
            run_s = FLAT_RUN_S.get(kind)
            if run_s is not None:
                # runs of zero diffs: k in a row span k+1 equal samples (marking samples would
                # join the pairs of a sample-and-hold upsampled channel into one long "run")
                zero = (np.diff(x) == 0) & finite[1:] & finite[:-1]
                runs = _mark_runs(zero, int(round(run_s * sfreq)) - 1)
                flat = np.zeros(n, dtype=bool)
                flat[1:] |= runs
                flat[:-1] |= runs
                flat_fraction = float(flat.mean())
                if flat_fraction > 0:
                    problems.append("flat_segments")
                    bad |= flat
            if kind in CLIP_KINDS:
                at_edge = finite & ((x >= hi) | (x <= lo))
                clipped = _mark_runs(at_edge, clip_min_run)
                clipped_fraction = float(clipped.mean())
                if clipped_fraction > clip_max_fraction:
                    problems.append("clipped")
                    bad |= clipped
    bad_fraction = float(bad.mean()) if n else 1.0
    usable = n > 0 and bad_fraction <= max_bad_fraction and "flat" not in problems
    report = QualityReport(
        channel=channel,
        kind=kind,
        n_samples=n,
        nan_fraction=nan_fraction,
        flat_fraction=flat_fraction,
        clipped_fraction=clipped_fraction,
        bad=bad,
        problems=problems,
        usable=usable,
    )
    if warn and problems:
        warn_quality(report)
    return report


def warn_quality(report: QualityReport) -> None:
    """Emit one :class:`SignalQualityWarning` (and a log line) for a report with problems."""
    what = ", ".join(report.problems)
    verdict = "features masked (NaN)" if not report.usable else "bad samples masked"
    msg = (
        f"channel {report.channel!r} ({report.kind}): {what} "
        f"(NaN {report.nan_fraction:.1%}, flat {report.flat_fraction:.1%}, "
        f"clipped {report.clipped_fraction:.1%}); {verdict}"
    )
    logger.warning(msg)
    warnings.warn(msg, SignalQualityWarning, stacklevel=3)


def fill_bad(signal: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Linearly interpolate over bad samples so filters can run; the mask keeps them excluded."""
    x = np.asarray(signal, dtype=float).copy()
    if not bad.any():
        return x
    good = ~bad
    if not good.any():
        return np.zeros_like(x)
    idx = np.arange(x.size)
    x[bad] = np.interp(idx[bad], idx[good], x[good])
    return x
