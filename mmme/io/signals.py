"""Signal files, read by one set of rules for ``mmme signals`` and ``mmme import generic``.

- CSV/TSV (:func:`read_csv_signals`): the delimiter is the one that splits every sampled line
  into the same number of fields (``,`` ``;`` tab ``|``; a decimal comma with ``;``); a file
  whose lines hold no delimiter is one column. A header row is optional. A time column
  (:data:`TIME_COLUMNS`, seconds, or milliseconds when named so) gives the sampling rate, and
  must be regular: a gap or a sample more than half a sampling interval off the fitted clock is
  an error naming the row; a ``--sfreq`` that contradicts it is an error naming both rates.
  Without a time column the rate must be given. Text in a signal column is an error naming
  row and channel; empty cells are missing samples (NaN), counted.
- EDF/BDF (:func:`open_edf`, MNE): trigger channels (``Trigger``, ``STI``, ``Status``) are not
  signals; markers come from integer-coded annotations, else from the trigger channel.
- XDF (:func:`read_xdf`, ``pyxdf``): each regular stream gets a clock fitted on its LSL stamps
  (arrival jitter averaged out, a gap an error), voltage channels in volts; string and
  irregular streams are markers.
- EEGLAB ``.set`` (MNE) and OpenSignals ``.h5``/``.txt`` for ``mmme signals``.

:func:`read_recording` returns any of them as one :class:`Recording` (``mmme signals``);
``mmme import generic`` writes the same :class:`SignalData` into a store.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.sync import ClockMap
from mmme.errors import InputError

#: Header names of a time column in seconds (compared without case, spaces or punctuation).
TIME_COLUMNS: tuple[str, ...] = (
    "time", "times", "t", "timestamp", "timestamps", "seconds", "sec", "secs",
    "timesec", "timeseconds",
)
#: ... and in milliseconds.
TIME_COLUMNS_MS: tuple[str, ...] = ("timems", "ms", "milliseconds", "timemilliseconds")
#: A sample more than this fraction of a sampling interval off the fitted clock is an error.
MAX_JITTER = 0.5
#: A step between two time stamps longer than this many median steps is a gap.
MAX_STEP = 1.9
#: A given rate and the time column's may differ by this fraction (a crystal's error).
RATE_TOLERANCE = 1e-3
#: LSL stamps are median-filtered over this many seconds before the regularity check.
LSL_SMOOTH_S = 1.0
#: Voltage units of XDF channel descriptions -> factor to volts (EDF/BDF arrive in volts via MNE).
TO_VOLTS = {"v": 1.0, "volts": 1.0, "mv": 1e-3, "millivolts": 1e-3, "uv": 1e-6, "µv": 1e-6}
TO_VOLTS |= {"μv": 1e-6, "microvolts": 1e-6, "nv": 1e-9, "nanovolts": 1e-9}
_STIM = ("TRIGGER", "STI", "STI 014", "STATUS")
_DELIMITERS = ("\t", ";", ",", "|")
_SNIFF_LINES = 50


def _norm(name: Any) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass
class SignalData:
    """The samples of one regular stream of a file.

    Attributes
    ----------
    data : numpy.ndarray
        ``(n_times, n_channels)`` float64.
    sfreq : float
        Sampling rate (Hz).
    ch_names, units : list of str
        Channel names and units (``""`` when the file does not say).
    name : str
        File stem or stream name (the device name in a store).
    source : str
        The file.
    kind : str
        ``"eeg"`` or ``"physio"``.
    clock : ClockMap | None
        File time of sample ``k`` = ``clock.to_common(k / sfreq)``, fitted on a time column or
        the stamps; None when the file has none (sample 0 at 0 s).
    stream : str | None
        The stream's name in a multi-stream file (XDF).
    n_missing : int
        Empty cells read as NaN.
    notes : list of str
        What the reader inferred (rate from a time column, its jitter, missing cells).
    """

    data: np.ndarray
    sfreq: float
    ch_names: list[str]
    units: list[str]
    name: str
    source: str
    kind: str = "physio"
    ch_types: list[str] | None = None
    clock: ClockMap | None = None
    stream: str | None = None
    n_missing: int = 0
    notes: list[str] = field(default_factory=list)


# --- clocks -------------------------------------------------------------------------------------


def fit_clock(
    stamps: np.ndarray,
    sfreq: float,
    what: str,
    file: Path | str,
    t0: float,
    smooth_s: float = 0.0,
) -> ClockMap:
    """Clock map ``stamp - t0 = offset + scale * (k / sfreq)`` fitted on a stream's stamps.

    Parameters
    ----------
    stamps : ndarray
        Time stamp (s) of every sample.
    sfreq : float
        Nominal sampling rate (Hz).
    what, file
        Names for the error message.
    t0 : float
        Stamp of common time 0.
    smooth_s : float
        With ``0`` every stamp must lie within half a sample of the fitted line. Otherwise the
        residuals are median-filtered over this many seconds first: stamps taken on arrival (Lab
        Streaming Layer) jitter by more than a sample, while a gap or a clock jump shifts every
        later sample and still fails.

    Raises
    ------
    InputError
        If the stamps are more than half a sample off the line (irregular sampling, a gap), named.
    """
    k = np.arange(len(stamps)) / sfreq
    if len(stamps) < 2:
        return ClockMap(offset=float(stamps[0] - t0) if len(stamps) else 0.0)
    scale, offset = np.polyfit(k, stamps - t0, 1)
    res = stamps - t0 - (offset + scale * k)
    tol = MAX_JITTER / sfreq
    if smooth_s > 0:
        from scipy.ndimage import median_filter

        width = int(min(len(res), max(1, round(smooth_s * sfreq))))
        smooth = median_filter(res, size=width, mode="reflect")  # not "nearest": edge bias
        if np.max(np.abs(smooth)) > tol:
            at = int(np.argmax(np.abs(np.diff(smooth)))) + 1  # where the level changes
            raise InputError(
                f"{what}: samples leave a regular {sfreq:g} Hz clock near {at / sfreq:.1f} s "
                f"into the stream (sample {at}; {np.ptp(smooth) * 1e3:.1f} ms off over "
                f"{width / sfreq:g} s): a gap or a clock jump; split or resample the stream",
                file=str(file),
            )
    else:
        worst = int(np.argmax(np.abs(res)))
        if abs(res[worst]) > tol:
            raise InputError(
                f"{what}: sample {worst} is {res[worst] * 1e3:.1f} ms off a regular "
                f"{sfreq:g} Hz clock (jitter; at most {tol * 1e3:.3g} ms allowed); resample "
                "the signal first",
                file=str(file),
            )
    return ClockMap(
        offset=float(offset),
        scale=float(scale),
        residual_rms_s=float(np.sqrt(np.mean(res**2))),
        residual_max_s=float(np.max(np.abs(res))),
        n_markers=len(stamps),
    )


def rate_from_times(t: np.ndarray, column: str, file: Path | str, first_row: int) -> float:
    """Sampling rate of a time column, checked to be regular.

    The rate is one over the median step (rounded to a whole number of Hz when within 1 ppm of
    one); :func:`fit_clock` then checks every sample against it.

    Raises
    ------
    InputError
        Fewer than two samples, times that do not increase, or a gap (a step longer than
        :data:`MAX_STEP` median steps), naming the file and the row (``first_row`` is the file
        row of ``t[0]``).
    """
    if len(t) < 2:
        raise InputError(
            f"time column {column!r}: at least two samples are needed for a rate", file=str(file)
        )
    dt = np.diff(t)
    back = np.flatnonzero(dt <= 0)
    if back.size:
        r = int(back[0]) + 1
        raise InputError(
            f"time column {column!r}: times must increase ({t[r - 1]:g} s then {t[r]:g} s)",
            file=str(file), row=first_row + r,
        )
    step = float(np.median(dt))
    gaps = np.flatnonzero(dt > MAX_STEP * step)
    if gaps.size:
        g = int(gaps[np.argmax(dt[gaps])])
        raise InputError(
            f"time column {column!r}: a gap of {dt[g]:.6g} s ({dt[g] / step - 1:.0f} missing "
            f"sample(s) at {1 / step:g} Hz) from {t[g]:g} s to {t[g + 1]:g} s; "
            f"{gaps.size} gap(s) in all; split the file or fill the gaps",
            file=str(file), row=first_row + g + 1,
        )
    sfreq = 1.0 / step
    if abs(sfreq - round(sfreq)) < 1e-6 * sfreq:
        sfreq = float(round(sfreq))
    return sfreq


# --- CSV ----------------------------------------------------------------------------------------


def _sample_lines(path: Path) -> list[str]:
    lines: list[str] = []
    try:
        with open(path, encoding="utf-8-sig", errors="strict", newline="") as fh:
            for line in fh:
                if line.strip():
                    lines.append(line.rstrip("\r\n"))
                if len(lines) >= _SNIFF_LINES:
                    break
    except UnicodeDecodeError as exc:
        raise InputError(f"not a text table (byte {exc.start} is not UTF-8)", file=str(path)) \
            from None
    return lines


def _fields(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep))


def _is_number(text: str, decimal: str = ".") -> bool:
    s = text.strip()
    if decimal != ".":
        s = s.replace(decimal, ".")
    try:
        float(s)
    except ValueError:
        return False
    return True


def sniff_delimiter(lines: list[str]) -> tuple[str, str]:
    """``(delimiter, decimal)`` of a table from its first lines.

    A delimiter qualifies when it splits every line into the same number (> 1) of fields; of
    those the one giving most fields wins, except that ``;`` wins when its fields are numbers
    with a decimal comma. No qualifying delimiter: one column (``,``).

    Examples
    --------
    >>> sniff_delimiter(["ECG", "0.5", "0.25"])
    (',', '.')
    >>> sniff_delimiter(["time;ECG", "0,001;1,5"])
    (';', ',')
    """
    counts = {}
    for sep in _DELIMITERS:
        n = {len(_fields(ln, sep)) for ln in lines}
        if len(n) == 1 and (k := n.pop()) > 1:
            counts[sep] = k
    if ";" in counts:
        data = [f for ln in lines[1:] for f in _fields(ln, ";")]
        if data and all(_is_number(f, ",") for f in data) and any("," in f for f in data):
            return ";", ","
    if not counts:
        return ",", "."
    best = max(counts.values())
    return next(s for s in _DELIMITERS if counts.get(s) == best), "."


def read_csv_signals(
    path: str | Path,
    *,
    sfreq: float | None = None,
    allow_missing: bool = True,
    sfreq_option: str | None = "--sfreq",
) -> SignalData:
    """Read a CSV/TSV signal table (see the module docstring for the rules).

    Parameters
    ----------
    path : str | Path
        The file.
    sfreq : float | None
        Sampling rate (Hz): needed without a time column; with one it must agree with it
        (within :data:`RATE_TOLERANCE`).
    allow_missing : bool
        Read empty cells as NaN (else they are an error naming row and channel).
    sfreq_option : str | None
        The caller's option that gives ``sfreq``, named in the error for a file without a time
        column (None: the caller has none, the file needs a time column).

    Raises
    ------
    InputError
        Naming the file (and row, channel) for: no sample, no signal column, text in a signal
        column, no rate, an irregular or contradicted time column.
    """
    p = Path(path)
    lines = _sample_lines(p)
    if not lines:
        raise InputError("empty file: no header and no sample", file=str(p))
    if p.suffix.lower() == ".tsv":
        sep, decimal = "\t", "."
    else:
        sep, decimal = sniff_delimiter(lines)
    first = _fields(lines[0], sep)
    has_header = not all(_is_number(f, decimal) for f in first)
    try:
        df = pd.read_csv(
            p, sep=sep, decimal=decimal, header=0 if has_header else None,
            skip_blank_lines=True, skipinitialspace=True, encoding="utf-8-sig",
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise InputError(f"not a readable table: {msg}", file=str(p)) from None
    if not has_header:
        df.columns = [f"ch{i + 1}" for i in range(df.shape[1])]
    # a trailing delimiter makes an unnamed, empty column
    df = df[[c for c in df.columns
             if not (str(c).startswith("Unnamed: ") and df[c].isna().all())]]
    names = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"no sample rows under the header {names}", file=str(p))
    header_rows = 1 if has_header else 0
    tcol = next((i for i, c in enumerate(names) if _norm(c) in TIME_COLUMNS + TIME_COLUMNS_MS),
                None)
    chans = [i for i in range(len(names)) if i != tcol]
    if not chans:
        raise InputError(f"no signal column besides the time column {names[tcol]!r}",
                         file=str(p))
    data = np.empty((len(df), len(chans)), dtype=float)
    n_missing = 0
    for j, i in enumerate(chans):
        col, missing = _numeric(df.iloc[:, i], decimal, p, names[i], header_rows)
        if missing.any() and not allow_missing:
            r = int(np.flatnonzero(missing)[0]) + header_rows + 1
            raise InputError(
                f"{int(missing.sum())} empty cell(s), the first here; a store holds complete "
                "signals: fill or cut them", file=str(p), row=r, channel=names[i],
            )
        n_missing += int(missing.sum())
        data[:, j] = col
    notes: list[str] = []
    clock = None
    if tcol is not None:
        t, missing = _numeric(df.iloc[:, tcol], decimal, p, names[tcol], header_rows)
        if missing.any():
            r = int(np.flatnonzero(missing)[0]) + header_rows + 1
            raise InputError(f"time column {names[tcol]!r} is empty here", file=str(p), row=r)
        if _norm(names[tcol]) in TIME_COLUMNS_MS:
            t = t / 1000.0
        rate = rate_from_times(t, names[tcol], p, header_rows + 1)
        if sfreq is not None and abs(sfreq / rate - 1.0) > RATE_TOLERANCE:
            raise InputError(
                f"--sfreq {sfreq:g} Hz contradicts the time column {names[tcol]!r}, whose "
                f"steps give {rate:g} Hz; drop --sfreq or fix the file",
                file=str(p),
            )
        clock = fit_clock(t, rate, f"time column {names[tcol]!r}", p, 0.0)
        notes.append(
            f"rate {rate:g} Hz from time column {names[tcol]!r} (jitter max "
            f"{clock.residual_max_s * 1e3:.3g} ms, rms {clock.residual_rms_s * 1e3:.3g} ms)"
        )
    elif sfreq is None or not np.isfinite(sfreq) or sfreq <= 0:
        fix = f"give the sampling rate ({sfreq_option} HZ)" if sfreq_option else (
            "add a time column (seconds from the first sample)")
        raise InputError(
            f"no time column (named one of time, t, time_s, timestamp, time_ms ...) among "
            f"{names}: {fix}",
            file=str(p),
        )
    else:
        rate = float(sfreq)
    if n_missing:
        notes.append(f"{n_missing} empty cell(s) read as missing samples (NaN)")
    return SignalData(
        data=data, sfreq=rate, ch_names=[names[i] for i in chans], units=[""] * len(chans),
        name=p.stem, source=str(p), clock=clock, n_missing=n_missing, notes=notes,
    )


def _numeric(
    col: pd.Series, decimal: str, path: Path, name: str, header_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Floats of a column and its empty cells; text that is not a number is an error."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=float)  # pandas parsed every cell (empty ones as NaN)
        missing = np.isnan(values)
        inf = np.isinf(values)
        if inf.any():
            k = int(np.flatnonzero(inf)[0])
            raise InputError(f"{col.iloc[k]!r} is not a finite number", file=str(path),
                             row=k + header_rows + 1, channel=name)
        return values, missing
    # some cell is not a number: find it (pandas has read empty and NA cells as NaN)
    text = col.astype(str).str.strip()
    missing = (text == "") | text.str.lower().isin(("nan", "na", "n/a"))
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    values = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(float)
    bad = np.isnan(values) & ~missing.to_numpy()
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{col.iloc[k]!r} is not a number ({int(bad.sum())} such cell(s) in the column)",
            file=str(path), row=k + header_rows + 1, channel=name,
        )
    inf = np.isinf(values)
    if inf.any():
        k = int(np.flatnonzero(inf)[0])
        raise InputError(f"{col.iloc[k]!r} is not a finite number", file=str(path),
                         row=k + header_rows + 1, channel=name)
    return values, missing.to_numpy()


# --- EDF/BDF ------------------------------------------------------------------------------------


@dataclass
class EdfFile:
    """An EDF/BDF file opened with MNE (data read on demand)."""

    raw: Any
    path: Path
    ch_names: list[str]  # signal channels (trigger channels left out)
    picks: list[int]
    units: list[str]
    kind: str
    markers: pd.DataFrame  # code, time (s from the first sample)
    n_other_annotations: int

    @property
    def sfreq(self) -> float:
        return float(self.raw.info["sfreq"])

    @property
    def n_times(self) -> int:
        return int(self.raw.n_times)

    @property
    def ch_types(self) -> list[str]:
        return list(self.raw.get_channel_types(picks=self.picks))

    def iter_blocks(self, step: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(first sample, (n, n_channels) block)`` of the signal channels."""
        for a in range(0, self.n_times, step):
            block = self.raw.get_data(picks=self.picks, start=a, stop=min(self.n_times, a + step))
            yield a, block.T

    def get_data(self) -> np.ndarray:
        """All signal channels, ``(n_channels, n_times)``."""
        return self.raw.get_data(picks=self.picks)


def markers_of_raw(raw: Any) -> tuple[pd.DataFrame, int]:
    """Markers ``(code, time)`` from integer annotations, else a stim channel; non-integer count."""
    rows, other = [], 0
    for onset, desc in zip(raw.annotations.onset, raw.annotations.description, strict=True):
        d = str(desc).strip()
        if d.isdigit():
            rows.append((int(d), float(onset) - raw.first_time))
        else:
            other += 1
    if not rows:
        stim = [c for c in raw.ch_names if c.upper() in _STIM]
        if stim:
            v = np.rint(raw.get_data(picks=stim[:1])[0]).astype(np.int64)
            prev = np.concatenate([[0], v[:-1]])
            on = np.flatnonzero((v != 0) & (prev == 0))
            rows = [(int(v[i]), i / raw.info["sfreq"]) for i in on]
    return pd.DataFrame(rows, columns=["code", "time"]), other


def open_edf(path: str | Path) -> EdfFile:
    """Open an EDF/BDF file: signal channels, units, kind and markers.

    Raises
    ------
    InputError
        If MNE cannot read it, or it holds no signal channel, naming the file.
    """
    import mne

    p = Path(path)
    reader = mne.io.read_raw_edf if p.suffix.lower() == ".edf" else mne.io.read_raw_bdf
    try:
        raw = reader(p, preload=False, verbose="error")
    except Exception as exc:  # MNE raises many types for damaged files
        raise InputError(f"cannot read: {exc}", file=str(p)) from exc
    markers, other = markers_of_raw(raw)
    names = [c for c in raw.ch_names if c.upper() not in _STIM]
    if not names:
        raise InputError("no signal channel (only trigger channels)", file=str(p))
    picks = [raw.ch_names.index(c) for c in names]
    types = raw.get_channel_types(picks=picks)
    kind = "eeg" if types.count("eeg") > len(types) / 2 else "physio"
    orig = getattr(raw, "_orig_units", {}) or {}
    units = [
        "V" if t in ("eeg", "eog", "ecg", "emg") else orig.get(c, "")
        for c, t in zip(names, types, strict=True)
    ]
    return EdfFile(raw=raw, path=p, ch_names=names, picks=picks, units=units, kind=kind,
                   markers=markers, n_other_annotations=other)


# --- XDF ----------------------------------------------------------------------------------------


@dataclass
class XdfContent:
    """Regular streams and markers of an XDF file."""

    streams: list[SignalData]
    markers: pd.DataFrame  # code, time (s on the LSL clock, from the first stamp)
    skipped: list[dict[str, Any]]


def _xdf_channels(info: dict[str, Any], n: int) -> tuple[list[str], list[str]]:
    """Channel labels and units from the stream header's ``desc`` (``ch1..`` without labels)."""
    try:
        chs = info["desc"][0]["channels"][0]["channel"]
        names = [str(c["label"][0]) for c in chs]
        units = [str((c.get("unit") or [""])[0] or "") for c in chs]
        if len(names) == n:
            return names, units
    except (KeyError, IndexError, TypeError):
        pass
    return [f"ch{i + 1}" for i in range(n)], [""] * n


def read_xdf(path: str | Path) -> XdfContent:
    """Read an XDF file (clock offsets applied; each regular stream's clock fitted).

    Raises
    ------
    InputError
        Damaged file, no samples, or a stream whose stamps leave a regular clock (a gap).
    """
    import pyxdf

    p = Path(path)
    try:
        # clock offsets applied (each stream onto the recorder's clock); stamps kept as recorded:
        # fit_clock fits the regular clock itself and names a gap instead of smoothing it over
        streams, _ = pyxdf.load_xdf(str(p), dejitter_timestamps=False)
    except Exception as exc:  # pyxdf raises many types for damaged files
        raise InputError(f"cannot read XDF: {exc}", file=str(p)) from exc
    stamped = [s for s in streams if len(s["time_stamps"])]
    if not stamped:
        raise InputError("XDF holds no samples", file=str(p))
    t0 = min(float(s["time_stamps"][0]) for s in stamped)
    out: list[SignalData] = []
    marker_rows: list[tuple[int, float]] = []
    skipped_all: list[dict[str, Any]] = []
    for s in stamped:
        info = s["info"]
        sname = str(info["name"][0])
        srate = float(info["nominal_srate"][0])
        stamps = np.asarray(s["time_stamps"], float)
        series = s["time_series"]
        # string streams are markers whatever rate they declare; so is any irregular stream
        if srate <= 0 or str(info["channel_format"][0]) == "string":
            skipped = 0
            for value, ts in zip(series, stamps, strict=True):
                v = str(value[0] if isinstance(value, list | np.ndarray) else value).strip()
                if re.fullmatch(r"-?\d+(\.0+)?", v):
                    marker_rows.append((int(float(v)), float(ts - t0)))
                else:
                    skipped += 1
            if skipped:
                skipped_all.append({"file": p.name, "stream": sname,
                                    "reason": f"{skipped} marker(s) without an integer code"})
            continue
        data = np.asarray(series, dtype=float)
        clock = fit_clock(stamps, srate, f"stream {sname!r}", p, t0, smooth_s=LSL_SMOOTH_S)
        chans, units = _xdf_channels(info, data.shape[1])
        factor = np.array([TO_VOLTS.get(u.strip().lower(), 1.0) for u in units])
        units = ["V" if u.strip().lower() in TO_VOLTS else u for u in units]
        kind = "eeg" if str(info["type"][0]).lower() == "eeg" else "physio"
        out.append(SignalData(
            data=data * factor, sfreq=srate, ch_names=chans, units=units, name=sname,
            source=str(p), stream=sname, kind=kind, clock=clock,
            notes=[f"stream {sname!r}: jitter max {clock.residual_max_s * 1e3:.3g} ms"],
        ))
    return XdfContent(streams=out, markers=pd.DataFrame(marker_rows, columns=["code", "time"]),
                      skipped=skipped_all)


# --- OpenSignals (mmme signals only) ------------------------------------------------------------


def _opensignals_names(sensors: list[str], labels: list[str]) -> list[str]:
    names = []
    for s, lab in zip(sensors, labels, strict=True):
        names.append(s if sensors.count(s) == 1 and s else f"{s}_{lab}" if s else lab)
    return names


def _read_opensignals_h5(path: Path) -> Recording:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a dependency
        raise InputError("reading OpenSignals HDF5 needs h5py", file=str(path)) from exc
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"not an HDF5 file: {exc}", file=str(path)) from exc
    with fh:
        devices = [k for k in fh.keys() if isinstance(fh[k], h5py.Group) and "raw" in fh[k]]
        if not devices:
            raise InputError("no OpenSignals device group with 'raw' data", file=str(path))
        dev = fh[devices[0]]
        sfreq = float(dev.attrs["sampling rate"])
        keys = sorted((k for k in dev["raw"] if k.startswith("channel_")),
                      key=lambda k: int(k.split("_")[1]))
        if not keys:
            raise InputError("OpenSignals file has no channel_* data", file=str(path))
        sensors, labels, rows = [], [], []
        for k in keys:
            ds = dev["raw"][k]
            sensors.append(str(ds.attrs.get("sensor", "")))
            labels.append(str(ds.attrs.get("label", k)))
            rows.append(np.asarray(ds[:, 0], dtype=float))
    return Recording(data=np.vstack(rows), sfreq=sfreq,
                     ch_names=_opensignals_names(sensors, labels), source=str(path))


def _read_opensignals_txt(path: Path) -> Recording:
    header = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            text = line[1:].strip()
            if text.startswith("{"):
                try:
                    header = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise InputError(f"OpenSignals header is not JSON: {exc}",
                                     file=str(path)) from None
    if not header:
        raise InputError("no OpenSignals JSON header line", file=str(path))
    dev = next(iter(header.values()))
    columns = list(dev["column"])
    sensors = list(dev.get("sensor", []))
    labels = list(dev.get("label", []))
    try:
        table = np.loadtxt(path, comments="#", ndmin=2)
    except ValueError as exc:
        raise InputError(f"not a table of numbers: {exc}", file=str(path)) from None
    if table.shape[1] < len(columns):
        raise InputError(f"{table.shape[1]} columns, header lists {len(columns)}", file=str(path))
    idx = [columns.index(lab) for lab in labels]
    return Recording(data=table[:, idx].T.astype(float), sfreq=float(dev["sampling rate"]),
                     ch_names=_opensignals_names(sensors, labels), source=str(path))


# --- one recording for mmme signals -------------------------------------------------------------


@dataclass
class Recording:
    """Signals of one rate read from a file, ``(n_channels, n_times)``."""

    data: np.ndarray  # (n_channels, n_times)
    sfreq: float
    ch_names: list[str]
    ch_types: list[str] | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def pick(self, channel: str) -> np.ndarray:
        """One channel by name (case-insensitive; OpenSignals labels like ``CH1`` also match)."""
        lookup = {c.upper(): i for i, c in enumerate(self.ch_names)}
        key = channel.strip().upper()
        if key not in lookup:
            raise InputError(
                f"no channel {channel!r}; channels are {self.ch_names}",
                file=self.source,
                channel=channel,
            )
        return self.data[lookup[key]]

    @classmethod
    def from_signal_data(cls, sd: SignalData) -> Recording:
        return cls(data=np.ascontiguousarray(sd.data.T), sfreq=sd.sfreq,
                   ch_names=list(sd.ch_names), ch_types=sd.ch_types, source=sd.source,
                   notes=list(sd.notes))


def _read_eeglab(path: Path) -> Recording:
    import mne

    try:
        raw = mne.io.read_raw_eeglab(path, preload=True, verbose="error")
    except Exception as exc:  # MNE raises many types for damaged files
        raise InputError(f"MNE cannot read it: {exc}", file=str(path)) from exc
    return Recording(data=raw.get_data(), sfreq=float(raw.info["sfreq"]),
                     ch_names=list(raw.ch_names), ch_types=raw.get_channel_types(),
                     source=str(path))


def _pick_xdf_stream(path: Path, content: XdfContent, channel: str | None) -> SignalData:
    if not content.streams:
        raise InputError("XDF holds no regular signal stream (markers only)", file=str(path))
    if len(content.streams) == 1:
        return content.streams[0]
    listing = "; ".join(f"{s.name}: {s.ch_names}" for s in content.streams)
    if channel is not None:
        key = channel.strip().upper()
        hits = [s for s in content.streams if key in (c.upper() for c in s.ch_names)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError(f"channel {channel!r} is in several streams ({listing})",
                             file=str(path))
    raise InputError(f"several streams, pick a channel with --channel ({listing})",
                     file=str(path))


def read_recording(
    path: str | Path, *, sfreq: float | None = None, channel: str | None = None
) -> Recording:
    """Read a recording: ``.edf``, ``.bdf``, ``.xdf``, ``.set``, ``.csv``/``.tsv``, OpenSignals
    ``.h5`` or ``.txt``.

    Parameters
    ----------
    path : str | Path
        The file.
    sfreq : float | None
        Sampling rate: needed for a CSV without a time column; otherwise it must agree with
        the file's.
    channel : str | None
        In an XDF file with several regular streams, the stream holding this channel is read.

    Raises
    ------
    InputError
        Missing file, unknown format, unreadable content, a contradicting ``sfreq`` (naming the
        file, row or channel).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", file=str(p))
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv"):
        rec = Recording.from_signal_data(read_csv_signals(p, sfreq=sfreq))
    elif suffix in (".edf", ".bdf"):
        edf = open_edf(p)
        rec = Recording(data=edf.get_data(), sfreq=edf.sfreq, ch_names=edf.ch_names,
                        ch_types=edf.ch_types, source=str(p))
    elif suffix in (".xdf", ".xdfz"):
        rec = Recording.from_signal_data(_pick_xdf_stream(p, read_xdf(p), channel))
    elif suffix == ".set":
        rec = _read_eeglab(p)
    elif suffix in (".h5", ".hdf5"):
        rec = _read_opensignals_h5(p)
    elif suffix == ".txt":
        rec = _read_opensignals_txt(p)
    else:
        raise InputError(
            f"unknown format {suffix!r}; expected .edf, .bdf, .xdf, .set, .csv, .tsv, .h5 or "
            ".txt",
            file=str(p),
        )
    if sfreq is not None and suffix not in (".csv", ".tsv") and (
        abs(sfreq / rec.sfreq - 1.0) > RATE_TOLERANCE
    ):
        raise InputError(
            f"--sfreq {sfreq:g} Hz contradicts the file's {rec.sfreq:g} Hz; drop --sfreq",
            file=str(p),
        )
    if rec.data.shape[1] == 0:
        raise InputError("recording has no samples", file=str(p))
    return rec
