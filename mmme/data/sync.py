"""Clock synchronisation of the recording devices from their shared trigger markers.

The stimulus computer sends the same marker sequence to every device (EEG, peripheral physiology,
face camera), and each device stamps it on its own clock. :func:`synchronize` matches each
device's marker sequence to the reference device's and fits a linear clock map

    common_time = offset + scale * device_time

by least squares, so constant offsets and crystal drift are both removed; the residuals of the
fit (trigger latency jitter, frame quantisation) are reported with each :class:`ClockMap`.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mmme._logging import logger
from mmme.errors import InputError, SyncError

#: Trigger codes that are line noise in the MMME recordings, not stimulus events.
NOISE_MARKERS: frozenset[int] = frozenset({77, 88})

#: Reference devices tried in this order when ``synchronize`` is not told one.
_DEFAULT_REFERENCES = ("eeg", "physio")

#: A device that started late or stopped early must share at least this many markers.
_MIN_TRUNCATED_MARKERS = 3

#: Largest plausible clock drift between two devices: crystals are good to ~100 ppm, so a fitted
#: scale further from 1 than this means a wrong declared sampling rate, not drift.
MAX_DRIFT_PPM = 1000.0


@dataclass(frozen=True)
class ClockMap:
    """Linear map from a device's clock to the session's common clock.

    ``common_time = offset + scale * device_time``.

    Parameters
    ----------
    offset : float
        Common time (s) of device time 0.
    scale : float
        Common seconds per device second; ``1 + drift_ppm * 1e-6``.
    residual_rms_s, residual_max_s : float
        Root mean square and largest absolute residual (s) of the marker fit.
    n_markers : int
        Number of markers the map was fitted on (for the reference: its marker count).
    """

    offset: float
    scale: float = 1.0
    residual_rms_s: float = 0.0
    residual_max_s: float = 0.0
    n_markers: int = 0

    def __post_init__(self) -> None:
        if not math.isfinite(self.offset):
            raise ValueError(f"ClockMap offset must be finite, got {self.offset}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"ClockMap scale must be finite and positive, got {self.scale}")

    @property
    def drift_ppm(self) -> float:
        """Clock drift of the device relative to the common clock, in parts per million."""
        return (self.scale - 1.0) * 1e6

    def to_common(self, t: ArrayLike) -> np.ndarray | float:
        """Convert device time(s) to common time; a scalar gives a float."""
        out = self.offset + self.scale * np.asarray(t, dtype=np.float64)
        return float(out) if out.ndim == 0 else out

    def to_device(self, t: ArrayLike) -> np.ndarray | float:
        """Convert common time(s) to device time; the inverse of :meth:`to_common`."""
        out = (np.asarray(t, dtype=np.float64) - self.offset) / self.scale
        return float(out) if out.ndim == 0 else out

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready dict; ``drift_ppm`` is there for readers, :meth:`from_dict` ignores it."""
        d: dict[str, float | int] = {k: v for k, v in asdict(self).items()}
        d["drift_ppm"] = self.drift_ppm
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClockMap:
        """Build a map from :meth:`to_dict` output."""
        if "offset" not in d:
            raise InputError(f"clock map lacks 'offset': {dict(d)!r}")
        return cls(
            offset=float(d["offset"]),
            scale=float(d.get("scale", 1.0)),
            residual_rms_s=float(d.get("residual_rms_s", 0.0)),
            residual_max_s=float(d.get("residual_max_s", 0.0)),
            n_markers=int(d.get("n_markers", 0)),
        )

    @classmethod
    def identity(cls) -> ClockMap:
        """The map of the reference device: common time is its own time."""
        return cls(offset=0.0, scale=1.0)


# --- marker tables --------------------------------------------------------------------------


def _marker_arrays(markers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(codes int64, times float64)`` of a marker table, in its row order."""
    missing = [c for c in ("code", "time") if c not in markers.columns]
    if missing:
        raise InputError(f"marker table lacks column(s) {missing}; has {list(markers.columns)}")
    code = pd.to_numeric(markers["code"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    time = pd.to_numeric(markers["time"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~np.isfinite(code) | (code != np.round(code))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"marker code {markers['code'].iloc[i]!r} is not an integer", row=i)
    bad = ~np.isfinite(time)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"marker time {markers['time'].iloc[i]!r} is not a finite number", row=i)
    return code.astype(np.int64), time


def _ordered_positions(
    markers: pd.DataFrame, ignore: Collection[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions, codes and times of the non-ignored markers, in time order."""
    code, time = _marker_arrays(markers)
    order = np.argsort(time, kind="stable")
    pos = order[~np.isin(code[order], list(ignore))]
    return pos, code[pos], time[pos]


def clean_markers(markers: pd.DataFrame, ignore: Collection[int] = NOISE_MARKERS) -> pd.DataFrame:
    """Drop noise markers and sort by time.

    Parameters
    ----------
    markers : pandas.DataFrame
        Columns ``code`` (integer trigger code) and ``time`` (device seconds); other columns are
        kept.
    ignore : collection of int
        Codes to drop (default: the MMME noise codes 77 and 88).

    Returns
    -------
    pandas.DataFrame
        The kept rows in time order (stable for equal times), ``code`` as int64 and ``time`` as
        float64, with a fresh ``RangeIndex``.

    Raises
    ------
    mmme.errors.InputError
        A column is missing, a code is not an integer or a time is not finite (names the row).
    """
    pos, code, time = _ordered_positions(markers, ignore)
    out = markers.iloc[pos].reset_index(drop=True)
    out["code"] = code
    out["time"] = time
    return out


# --- matching -------------------------------------------------------------------------------


def _describe(codes: np.ndarray, times: np.ndarray, k: int, name: str) -> str:
    return f"#{k + 1} of {len(codes)} in {name!r}, at {times[k]:.3f} s"


def _discrepancy(
    ops: list[tuple[str, int, int, int, int]],
    a: np.ndarray,
    ta: np.ndarray,
    b: np.ndarray,
    tb: np.ndarray,
    *,
    device: str,
    reference_name: str,
    hint: str = "",
) -> SyncError:
    """A SyncError naming the first non-equal opcode of ``ops`` (a = reference, b = device)."""
    bad = [op for op in ops if op[0] != "equal"]
    if Counter(a.tolist()) == Counter(b.tolist()):
        # a pure reordering: the first differing position names the misplaced marker better
        # than the opcodes, which may start at a rest marker that only moved along
        k = int(np.flatnonzero(a != b)[0])
        code = int(b[k])
        what = (
            f"has marker {code} ({_describe(b, tb, k, device)}) where {reference_name!r} has "
            f"marker {int(a[k])}: the same markers in a different order"
        )
        return SyncError(what + hint, device=device, marker=code)
    tag, i1, i2, j1, j2 = bad[0]
    if tag == "delete":
        code = int(a[i1])
        what = f"lacks marker {code} ({_describe(a, ta, i1, reference_name)})"
        if i2 - i1 > 1:
            what += f" and the {i2 - i1 - 1} marker(s) after it"
    elif tag == "insert":
        code = int(b[j1])
        what = f"has an extra marker {code} ({_describe(b, tb, j1, device)})"
        what += f" not in {reference_name!r}"
    else:  # replace
        code = int(b[j1])
        what = (
            f"has marker {code} ({_describe(b, tb, j1, device)}) where {reference_name!r} has "
            f"marker {int(a[i1])} ({_describe(a, ta, i1, reference_name)})"
        )
    if len(bad) > 1:
        what += f" (and {len(bad) - 1} further discrepancies)"
    return SyncError(what + hint, device=device, marker=code)


def match_markers(
    reference: pd.DataFrame,
    other: pd.DataFrame,
    *,
    device: str,
    reference_name: str = "reference",
    allow_truncated: bool = False,
    ignore: Collection[int] = NOISE_MARKERS,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair the markers of a device with those of the reference device.

    Both tables are taken in time order without the ``ignore`` codes (as :func:`clean_markers`
    leaves them); the code sequences must then be identical, or with ``allow_truncated`` the
    device's sequence must be one contiguous run of the reference's.

    Parameters
    ----------
    reference, other : pandas.DataFrame
        Marker tables (``code``, ``time``) of the reference device and of the device to match.
    device : str
        Name of the device, used in error messages.
    reference_name : str
        Name of the reference device, used in error messages.
    allow_truncated : bool
        Accept a device that started late or stopped early (at least 3 markers, no gap inside).
    ignore : collection of int
        Codes left out of the matching (default: the noise codes 77 and 88).

    Returns
    -------
    ref_idx, dev_idx : numpy.ndarray
        Row positions (``iloc``) in ``reference`` and ``other`` of the paired markers, in time
        order. With tables from :func:`clean_markers` they are plain positions.

    Raises
    ------
    mmme.errors.SyncError
        The sequences differ: names the device and the first missing, extra or misplaced marker
        with its position and time.
    """
    ref_pos, a, ta = _ordered_positions(reference, ignore)
    dev_pos, b, tb = _ordered_positions(other, ignore)
    if len(a) == 0:
        raise SyncError("the reference has no markers", device=reference_name)
    if len(b) == 0:
        raise SyncError(f"has no markers to match with {reference_name!r}", device=device)
    if np.array_equal(a, b):
        return ref_pos, dev_pos

    # autojunk would treat the ubiquitous rest marker 100 as junk in long sessions
    ops = difflib.SequenceMatcher(None, a.tolist(), b.tolist(), autojunk=False).get_opcodes()
    # a device that started late or stopped early only lacks a head and/or a tail
    inner = list(ops)
    if inner and inner[0][0] == "delete":
        inner = inner[1:]
    if inner and inner[-1][0] == "delete":
        inner = inner[:-1]
    is_run = len(inner) == 1 and inner[0][0] == "equal"

    if not allow_truncated:
        hint = (
            "; the device seems to start late or stop early (allow_truncated=True accepts that)"
            if is_run
            else ""
        )
        raise _discrepancy(
            ops, a, ta, b, tb, device=device, reference_name=reference_name, hint=hint
        )
    if len(b) < _MIN_TRUNCATED_MARKERS:
        raise SyncError(
            f"has only {len(b)} marker(s); at least {_MIN_TRUNCATED_MARKERS} are needed to place "
            f"a truncated device in {reference_name!r}",
            device=device,
            marker=int(b[0]),
        )
    if not is_run:
        # the head and tail a truncated device lacks are fine: name the first gap inside
        raise _discrepancy(inner, a, ta, b, tb, device=device, reference_name=reference_name)
    windows = np.lib.stride_tricks.sliding_window_view(a, len(b))
    starts = np.flatnonzero((windows == b).all(axis=1))
    if len(starts) > 1:
        raise SyncError(
            f"its {len(b)} markers fit {len(starts)} places of {reference_name!r} "
            f"(at markers #{', #'.join(str(s + 1) for s in starts[:5])}); cannot place it",
            device=device,
            marker=int(b[0]),
        )
    _, i1, _, j1, j2 = inner[0]
    return ref_pos[i1 : i1 + (j2 - j1)], dev_pos[j1:j2]


# --- clock fit ------------------------------------------------------------------------------


def fit_clock(
    ref_times: ArrayLike,
    dev_times: ArrayLike,
    *,
    device: str = "device",
    max_residual_s: float = 0.05,
    codes: ArrayLike | None = None,
) -> ClockMap:
    """Least-squares fit of ``ref_times = offset + scale * dev_times``.

    Parameters
    ----------
    ref_times, dev_times : array_like
        Times (s) of the paired markers on the reference clock and on the device clock.
    device : str
        Name of the device, used in error messages.
    max_residual_s : float
        Largest plausible absolute residual; a larger one means a wrong pairing or a trigger
        glitch and raises.
    codes : array_like of int, optional
        Marker codes of the pairs, so that an error can name the marker.

    Returns
    -------
    ClockMap
        With the residual RMS / max and the number of markers.

    Raises
    ------
    mmme.errors.SyncError
        Fewer than 2 markers, unequal lengths, non-finite or constant times, a non-positive
        scale, or a residual above ``max_residual_s`` (names the marker).
    """
    x = np.asarray(dev_times, dtype=np.float64).ravel()
    y = np.asarray(ref_times, dtype=np.float64).ravel()
    if len(x) != len(y):
        raise SyncError(f"{len(y)} reference times but {len(x)} device times", device=device)
    if len(x) < 2:
        raise SyncError(f"{len(x)} marker(s) matched; a clock fit needs at least 2", device=device)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise SyncError("marker times are not all finite", device=device)
    # centre both clocks: over a 73-minute session the raw normal equations lose digits
    x_mean, y_mean = x.mean(), y.mean()
    xc, yc = x - x_mean, y - y_mean
    sxx = float(xc @ xc)
    if sxx == 0.0:
        raise SyncError("all matched markers have the same device time", device=device)
    scale = float(xc @ yc) / sxx
    if not scale > 0:
        raise SyncError(
            f"device time runs against reference time (scale {scale:.6g}); wrong pairing",
            device=device,
        )
    offset = float(y_mean - scale * x_mean)
    resid = yc - scale * xc
    abs_resid = np.abs(resid)
    k = int(np.argmax(abs_resid))
    rms, worst = float(np.sqrt(np.mean(resid**2))), float(abs_resid[k])
    if worst > max_residual_s:
        code = None if codes is None else int(np.asarray(codes).ravel()[k])
        which = f"marker #{k + 1}" if code is None else f"marker {code} (#{k + 1})"
        raise SyncError(
            f"{which} at {x[k]:.3f} s device time is off the clock fit by {worst * 1e3:.1f} ms "
            f"(limit {max_residual_s * 1e3:.1f} ms, rms {rms * 1e3:.1f} ms over {len(x)} "
            "markers): markers paired wrongly or a trigger glitch",
            device=device,
            marker=code,
        )
    return ClockMap(
        offset=offset, scale=scale, residual_rms_s=rms, residual_max_s=worst, n_markers=len(x)
    )


# --- sessions -------------------------------------------------------------------------------


def synchronize(
    markers: Mapping[str, pd.DataFrame],
    reference: str | None = None,
    *,
    allow_truncated: bool = False,
    max_residual_s: float = 0.05,
    match_codes: Mapping[str, Collection[int]] | None = None,
    declared_sfreq: Mapping[str, float] | None = None,
    max_drift_ppm: float = MAX_DRIFT_PPM,
) -> dict[str, ClockMap]:
    """Clock maps of every device of a session onto the reference device's clock.

    Parameters
    ----------
    markers : mapping of str to pandas.DataFrame
        Marker table (``code``, ``time`` in device seconds) per device; noise codes 77 and 88
        are ignored.
    reference : str, optional
        The device whose clock is the common clock; default ``"eeg"`` if present, else
        ``"physio"``, else the first device.
    allow_truncated : bool
        Accept devices that started late or stopped early (see :func:`match_markers`).
    max_residual_s : float
        Largest plausible residual of a clock fit (see :func:`fit_clock`).
    match_codes : mapping of str to collection of int, optional
        Per device, match only these codes (in both that device and the reference), e.g.
        ``{"video": range(101, 149)}`` for a camera that records the clips but not the rests.
    declared_sfreq : mapping of str to float, optional
        The sampling rate each device's file declares (its times are sample / rate), named in
        the error when a clock runs implausibly fast or slow.
    max_drift_ppm : float
        Largest plausible drift (default 1,000 ppm). A device beyond it has a wrong declared
        rate (a BIOPAC export with ``isi`` 2 ms for 1 kHz data fits a -500,000 ppm "drift" and
        would halve every rate computed from it): an error naming the device, its declared rate
        and the rate its markers imply. When every other device is off by the same factor, the
        reference is the one named.

    Returns
    -------
    dict of str to ClockMap
        One map per device, in the order of ``markers``; the reference's is the identity.

    Raises
    ------
    mmme.errors.SyncError
        Markers that cannot be matched or fitted (see :func:`match_markers`, :func:`fit_clock`),
        or a clock beyond ``max_drift_ppm``.
    """
    if not markers:
        raise InputError("no devices to synchronise")
    if reference is None:
        reference = next((r for r in _DEFAULT_REFERENCES if r in markers), next(iter(markers)))
    if reference not in markers:
        raise SyncError(f"reference device not among the devices {list(markers)}", device=reference)
    ref = clean_markers(markers[reference])
    if ref.empty:
        raise SyncError("the reference device has no markers", device=reference)
    match_codes = match_codes or {}
    clocks: dict[str, ClockMap] = {}
    for name, table in markers.items():
        if name == reference:
            clocks[name] = ClockMap(offset=0.0, scale=1.0, n_markers=len(ref))
            continue
        dev = clean_markers(table)
        ref_dev = ref
        if name in match_codes:
            keep = list(match_codes[name])
            ref_dev = ref[ref["code"].isin(keep)].reset_index(drop=True)
            dev = dev[dev["code"].isin(keep)].reset_index(drop=True)
        ref_idx, dev_idx = match_markers(
            ref_dev, dev, device=name, reference_name=reference, allow_truncated=allow_truncated
        )
        clock = fit_clock(
            ref_dev["time"].to_numpy()[ref_idx],
            dev["time"].to_numpy()[dev_idx],
            device=name,
            max_residual_s=max_residual_s,
            codes=dev["code"].to_numpy()[dev_idx],
        )
        logger.info(
            "sync %s -> %s: offset %.6f s, drift %+.2f ppm, jitter rms %.3f ms, max %.3f ms "
            "over %d markers",
            name,
            reference,
            clock.offset,
            clock.drift_ppm,
            clock.residual_rms_s * 1e3,
            clock.residual_max_s * 1e3,
            clock.n_markers,
        )
        clocks[name] = clock
    _check_drift(clocks, reference, declared_sfreq or {}, max_drift_ppm)
    return clocks


def _check_drift(
    clocks: Mapping[str, ClockMap],
    reference: str,
    declared: Mapping[str, float],
    max_drift_ppm: float,
) -> None:
    """Raise on a clock whose drift is beyond what a crystal does (a wrong declared rate)."""
    bad = {n: c for n, c in clocks.items() if abs(c.drift_ppm) > max_drift_ppm}
    if not bad:
        return
    others = [n for n in clocks if n != reference]
    scales = np.array([bad[n].scale for n in others if n in bad])
    if len(others) > 1 and len(scales) == len(others) and np.ptp(scales) * 1e6 <= max_drift_ppm:
        # every device disagrees with the reference alike: the reference's rate is wrong
        scale = float(np.mean(scales))
        name, implied_factor, who = reference, scale, f"every other device ({', '.join(others)})"
    else:
        name = next(iter(bad))
        scale = bad[name].scale
        implied_factor, who = 1.0 / scale, f"the reference {reference!r}"
    rate = declared.get(name)
    if rate:
        what = (
            f"declares {rate:g} Hz but its markers imply {rate * implied_factor:.6g} Hz "
            f"against {who}"
        )
    else:
        what = f"its clock runs {implied_factor:.6g}x as fast as {who} says it should"
    raise SyncError(
        f"{what} (a drift of {(scale - 1) * 1e6:+.0f} ppm; crystals drift < "
        f"{max_drift_ppm:g} ppm): wrong sampling rate in the file?",
        device=name,
    )


def sync_report(clocks: Mapping[str, ClockMap]) -> pd.DataFrame:
    """One row per device: ``device, offset_s, drift_ppm, residual_rms_ms, residual_max_ms,
    n_markers``."""
    rows = [
        {
            "device": name,
            "offset_s": c.offset,
            "drift_ppm": c.drift_ppm,
            "residual_rms_ms": c.residual_rms_s * 1e3,
            "residual_max_ms": c.residual_max_s * 1e3,
            "n_markers": c.n_markers,
        }
        for name, c in clocks.items()
    ]
    columns = ["device", "offset_s", "drift_ppm", "residual_rms_ms", "residual_max_ms", "n_markers"]
    return pd.DataFrame(rows, columns=columns).astype({"device": "string", "n_markers": "int64"})
