"""Read one's own recording for ``mmme signals``: EDF/BDF/EEGLAB (MNE), CSV, OpenSignals.

Every reader returns a :class:`Recording` with ``(n_channels, n_times)`` data, the rate and the
channel names. EEG from MNE readers is in volts; other channels keep the file's units.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmme.errors import InputError


@dataclass
class Recording:
    """Signals read from a file."""

    data: np.ndarray  # (n_channels, n_times)
    sfreq: float
    ch_names: list[str]
    ch_types: list[str] | None = None
    source: str = ""

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


def _read_mne(path: Path) -> Recording:
    import mne

    suffix = path.suffix.lower()
    readers = {
        ".edf": mne.io.read_raw_edf,
        ".bdf": mne.io.read_raw_bdf,
        ".set": mne.io.read_raw_eeglab,
    }
    try:
        raw = readers[suffix](path, preload=True, verbose="error")
    except (ValueError, OSError, RuntimeError) as exc:
        raise InputError(f"MNE cannot read it: {exc}", file=str(path)) from exc
    return Recording(
        data=raw.get_data(),
        sfreq=float(raw.info["sfreq"]),
        ch_names=list(raw.ch_names),
        ch_types=raw.get_channel_types(),
        source=str(path),
    )


def _read_csv(path: Path, sfreq: float | None) -> Recording:
    if sfreq is None or sfreq <= 0:
        raise InputError("a CSV file needs its sampling rate: pass --sfreq HZ", file=str(path))
    try:
        df = pd.read_csv(path, sep=None, engine="python")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV table: {exc}", file=str(path)) from exc
    # a time column is not a signal
    time_cols = ("time", "times", "t", "time_s")
    df = df[[c for c in df.columns if str(c).strip().lower() not in time_cols]]
    if df.empty or len(df.columns) == 0:
        raise InputError("CSV has no signal column", file=str(path))
    data = np.empty((len(df.columns), len(df)), dtype=float)
    for i, c in enumerate(df.columns):
        col = pd.to_numeric(df[c], errors="coerce")
        bad = col.isna() & df[c].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # 1-based + header line
            raise InputError(f"non-numeric value {df[c].iloc[row - 2]!r}", file=str(path),
                             row=row, channel=str(c))
        data[i] = col.to_numpy(dtype=float)
    return Recording(data=data, sfreq=float(sfreq), ch_names=[str(c).strip() for c in df.columns],
                     source=str(path))


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
    n_header = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            n_header += 1
            text = line[1:].strip()
            if text.startswith("{"):
                header = json.loads(text)
    if not header:
        raise InputError("no OpenSignals JSON header line", file=str(path))
    dev = next(iter(header.values()))
    columns = list(dev["column"])
    sensors = list(dev.get("sensor", []))
    labels = list(dev.get("label", []))
    table = np.loadtxt(path, comments="#", ndmin=2)
    if table.shape[1] < len(columns):
        raise InputError(f"{table.shape[1]} columns, header lists {len(columns)}", file=str(path))
    idx = [columns.index(lab) for lab in labels]
    return Recording(data=table[:, idx].T.astype(float), sfreq=float(dev["sampling rate"]),
                     ch_names=_opensignals_names(sensors, labels), source=str(path))


def read_recording(path: str | Path, *, sfreq: float | None = None) -> Recording:
    """Read a recording: ``.edf``, ``.bdf``, ``.set`` (MNE), ``.csv``/``.tsv`` (needs ``sfreq``),
    OpenSignals ``.h5`` or ``.txt``.

    Raises
    ------
    InputError
        Missing file, unknown format, unreadable content (naming the file, row or channel).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", file=str(p))
    suffix = p.suffix.lower()
    if suffix in (".edf", ".bdf", ".set"):
        rec = _read_mne(p)
    elif suffix in (".csv", ".tsv"):
        rec = _read_csv(p, sfreq)
    elif suffix in (".h5", ".hdf5"):
        rec = _read_opensignals_h5(p)
    elif suffix == ".txt":
        rec = _read_opensignals_txt(p)
    else:
        raise InputError(
            f"unknown format {suffix!r}; expected .edf, .bdf, .set, .csv, .tsv, .h5 or .txt",
            file=str(p),
        )
    if sfreq is not None and suffix not in (".csv", ".tsv") and abs(sfreq - rec.sfreq) > 1e-6:
        raise InputError(f"--sfreq {sfreq} disagrees with the file's {rec.sfreq} Hz", file=str(p))
    if rec.data.shape[1] == 0:
        raise InputError("recording has no samples", file=str(p))
    return rec
