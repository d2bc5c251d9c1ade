"""Importer of the raw MMME layout (``docs/raw_layout.md``) into an mmme store.

One session at a time is read, synchronized and written in chunks, through the project executor;
nothing of a session is ever held whole in memory except the BIOPAC MATLAB export (scipy reads
MAT v5 files whole).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme._logging import logger
from mmme.data.annotations import make_annotations
from mmme.data.store import Store, StoreWriter, open_signal_memmap
from mmme.data.streams import frame_intact
from mmme.data.sync import NOISE_MARKERS, ClockMap, clean_markers, synchronize
from mmme.errors import InputError, MMMEError
from mmme.executor import Executor
from mmme.io.coding import (
    STAMP_RE,
    TIME_STAMP_TOLERANCE_S,
    CodingFile,
    duplicate_reason,
    read_coding_file,
)
from mmme.io.layout import DEVICE_FOLDERS, channel_problems

#: Marker -> stimulus category (shared README): 1 sad ... 8 surprise.
CATEGORY_NAMES = {
    1: "sad",
    2: "disgust",
    3: "happy",
    4: "fear",
    5: "nervous",
    6: "calm",
    7: "anger",
    8: "surprise",
}
_MARKER_CATEGORY = (
    "1 2 3 4 5 6 7 8 1 2 3 2 4 5 6 7 8 1 2 3 4 5 3 6 7 8 "  # markers 101..126
    "1 2 3 4 5 6 7 4 8 1 2 3 4 5 6 7 8 5 6 7 8 1"  # markers 127..148
)
MARKER_CATEGORY: dict[int, int] = {101 + i: int(c) for i, c in enumerate(_MARKER_CATEGORY.split())}
REST_MARKER = 100
CLIP_MARKERS = frozenset(MARKER_CATEGORY)

FRAME_RE = re.compile(
    r"^(?P<Y>\d{4})-(?P<M>\d{1,2})-(?P<D>\d{1,2})-(?P<h>\d{1,2})-(?P<m>\d{1,2})-(?P<s>\d{1,2})"
    r"-(?P<ms>\d{1,3})-(?P<code>\d+)-(?P<marker>\d+)$"
)
FRAME_SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png")
EEG_SUFFIXES = (".edf", ".bdf", ".set", ".cdt")
DIGITAL_RE = re.compile(r"^Digital \(STP Input (\d)\)", re.IGNORECASE)


def marker_category(marker: int) -> str | None:
    """Stimulus category name of a clip marker (``None`` for rest or unknown)."""
    c = MARKER_CATEGORY.get(int(marker))
    return CATEGORY_NAMES[c] if c else None


# --- frames -------------------------------------------------------------------------------------


def parse_frame_name(name: str) -> tuple[_dt.datetime, int, int]:
    """``(wall-clock time, frame code, marker)`` of a frame file name (without suffix)."""
    m = FRAME_RE.match(name)
    if not m:
        raise ValueError(f"not a frame name Y-M-D-H-M-S-ms-code-marker: {name!r}")
    g = {k: int(v) for k, v in m.groupdict().items()}
    t = _dt.datetime(g["Y"], g["M"], g["D"], g["h"], g["m"], g["s"], g["ms"] * 1000)
    return t, g["code"], g["marker"]


def scan_frames(
    video_dir: Path, root: Path, check: bool = True
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Find and order a session's frame files.

    Returns
    -------
    frames : DataFrame
        ``trial, frame, device_time_s, stamp, key, code, marker, path`` (path relative to
        ``root``; ``stamp`` the name's fields 4..8 as written, ``key`` their canonical form, see
        :func:`_stamp_key`); only clip frames get a trial (rest frames are kept for the
        markers, trial ``<NA>``).
    problems : list of dict
        Duplicate and missing frames.

    Raises
    ------
    InputError
        A frame file that is truncated or damaged (with ``check``), named.
    """
    rows = []
    for p in sorted(video_dir.rglob("*")):
        if p.suffix.lower() not in FRAME_SUFFIXES or not p.is_file():
            continue
        try:
            t, code, marker = parse_frame_name(p.stem)
        except ValueError:
            logger.info("skipping %s: not a frame name", p)
            continue
        if check and not frame_intact(p):
            raise InputError("frame image is truncated or damaged", file=str(p))
        stamp = "-".join(p.stem.split("-")[3:8])  # as written: the coders copy it
        rows.append((t, code, marker, stamp, _stamp_key(t, code), str(p.relative_to(root))))
    if not rows:
        return pd.DataFrame(), []
    df = pd.DataFrame(rows, columns=["wall", "code", "marker", "stamp", "key", "path"])
    df = df.sort_values(["wall", "path"], kind="stable").reset_index(drop=True)
    problems: list[dict[str, Any]] = []
    dup = df.duplicated(["wall", "code"], keep="first")
    for _, r in df[dup].iterrows():
        problems.append(
            {
                "problem": "duplicate_frame",
                "level": "error",
                "file": r["path"],
                "detail": f"same time stamp and code as another frame ({r['stamp']})",
            }
        )
    df = df[~dup].reset_index(drop=True)
    df["device_time_s"] = (df["wall"] - df["wall"].iloc[0]).dt.total_seconds()
    # noise codes (77/88) on the trigger line are not clip changes: such frames keep the
    # marker of the frame before them
    noise = df["marker"].isin(NOISE_MARKERS)
    if noise.any():
        df["marker"] = df["marker"].mask(noise).ffill().bfill().astype(int)
    # a trial = a contiguous run of frames with the same clip marker
    run = (df["marker"] != df["marker"].shift()).cumsum()
    df["trial"] = pd.Series(pd.NA, index=df.index, dtype="string")
    clip = df["marker"].isin(CLIP_MARKERS)
    df.loc[clip, "trial"] = df.loc[clip, "marker"].astype(str)
    seen: dict[int, int] = {}
    for r_id, g in df[clip].groupby(run[clip], sort=True):
        mk = int(g["marker"].iloc[0])
        if mk in seen:
            raise InputError(
                f"frames of clip marker {mk} form two separate runs (a clip shown twice?)",
                file=str(root / g["path"].iloc[0]),
            )
        seen[mk] = int(r_id)
    df["frame"] = df.groupby(run).cumcount()
    df.loc[~clip, "frame"] = -1
    # missing frames: gaps of more than 1.5 frame intervals inside a trial
    for trial, g in df[clip].groupby("trial"):
        dt = np.diff(g["device_time_s"].to_numpy())
        if len(dt) < 2:
            continue
        step = float(np.median(dt))
        gaps = np.flatnonzero(dt > 1.5 * step)
        for k in gaps:
            n_missing = int(round(dt[k] / step)) - 1
            problems.append(
                {
                    "problem": "missing_frames",
                    "level": "warning",
                    "trial": str(trial),
                    "file": g["path"].iloc[k + 1],
                    "detail": f"{n_missing} frame(s) missing before it ({dt[k] * 1e3:.1f} ms gap)",
                }
            )
    return df.drop(columns=["wall"]), problems


def _stamp_key(t: _dt.datetime | _dt.time, code: int | None) -> str:
    """Canonical ``HH-MM-SS-mmm[-code]`` of a stamp: zero-padded clock, unpadded integer code.

    The real coding sample pads codes to 3 digits (``...-070``); comparing canonical forms makes
    a stamp match its frame whether or not the camera and the coders pad alike.
    """
    key = f"{t:%H-%M-%S}-{t.microsecond // 1000:03d}"
    return key if code is None else f"{key}-{int(code)}"


def video_markers(frames: pd.DataFrame) -> pd.DataFrame:
    """Markers seen by the camera: the first frame of every run of one marker value."""
    run_start = frames["marker"] != frames["marker"].shift()
    m = frames[run_start]
    return pd.DataFrame(
        {"code": m["marker"].astype(int).to_numpy(), "time": m["device_time_s"].to_numpy()}
    )


# --- EEG ----------------------------------------------------------------------------------------


def read_eeg_markers(raw: Any, path: Path, chunk_s: float = 60.0) -> pd.DataFrame:
    """Markers of an MNE raw: integer-coded annotations, else the ``Trigger`` channel.

    The trigger channel is decoded chunk by chunk, never loaded whole.
    """
    rows = []
    for onset, desc in zip(raw.annotations.onset, raw.annotations.description, strict=True):
        d = str(desc).strip()
        if d.isdigit():
            rows.append((int(d), float(onset) - raw.first_time))
    if rows:
        return pd.DataFrame(rows, columns=["code", "time"])
    trig = [c for c in raw.ch_names if c.lower() == "trigger"]
    if not trig:
        raise InputError(
            "EEG has neither marker annotations nor a 'Trigger' channel", file=str(path)
        )
    n, sfreq = int(raw.n_times), float(raw.info["sfreq"])
    step, last, events = int(chunk_s * sfreq), 0, []
    for a in range(0, n, step):
        # 2 samples of look-ahead: a marker's code is read 2 samples after its edge
        v = raw.get_data(picks=trig, start=a, stop=min(n, a + step + 2))[0]
        v = np.rint(np.nan_to_num(v)).astype(np.int64)
        limit = min(step, len(v))
        events += [(a + i, c) for i, c in trigger_onsets(v, last, limit=limit)]
        last = int(v[limit - 1])
    return pd.DataFrame({"code": [c for _, c in events], "time": [i / sfreq for i, _ in events]})


def trigger_onsets(
    v: np.ndarray, before: int = 0, limit: int | None = None
) -> list[tuple[int, int]]:
    """``(sample, code)`` of every change from 0 to a code in an integer trigger trace.

    The code is read 2 samples after the edge, where all bits have settled. ``before`` is the
    sample preceding ``v`` (for chunked decoding); only edges before ``limit`` are returned, so a
    chunk can carry 2 samples of look-ahead.
    """
    prev = np.concatenate([[before], v[:-1]])
    onsets = np.flatnonzero((v != 0) & (prev == 0))
    if limit is not None:
        onsets = onsets[onsets < limit]
    return [(int(i), int(v[min(i + 2, len(v) - 1)]) or int(v[i])) for i in onsets]


def _open_eeg(path: Path) -> Any:
    import mne

    kw: dict[str, Any] = {"preload": False, "verbose": "error"}
    if path.suffix.lower() == ".cdt":  # Neuroscan Curry; markers from its event file
        from mmme.io.curry import read_curry

        return read_curry(path)
    suffix = path.suffix.lower()
    if suffix in (".edf", ".bdf"):
        # MNE reads a cut EDF/BDF as a shorter recording, warning only (muted here)
        check_edf_complete(path)
    try:
        if suffix == ".edf":
            raw = mne.io.read_raw_edf(path, **kw)
        elif suffix == ".bdf":
            raw = mne.io.read_raw_bdf(path, **kw)
        else:
            raw = mne.io.read_raw_eeglab(path, **kw)
    except Exception as exc:  # MNE raises many types for damaged files
        raise InputError(f"cannot read EEG: {exc}", file=str(path)) from exc
    if suffix == ".set":
        _check_fdt_complete(path, raw)
    return raw


def check_edf_complete(path: Path) -> None:
    """Raise unless an EDF/BDF file holds every data record its header announces.

    The header gives the record count (bytes 236-244), each signal's samples per record and the
    header size; 2 bytes a sample in EDF, 3 in BDF. A count of -1 (recording not closed) is
    taken from the file size, which must then be whole records.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(256)
        try:
            header_bytes = int(head[184:192].decode("ascii").strip())
            n_records = int(head[236:244].decode("ascii").strip())
            record_s = float(head[244:252].decode("ascii").strip())
            ns = int(head[252:256].decode("ascii").strip())
            fh.seek(256 + ns * 216)
            per_record = [int(fh.read(8).decode("ascii").strip()) for _ in range(ns)]
        except (ValueError, UnicodeDecodeError):
            raise InputError("not a readable EDF/BDF header", file=str(path)) from None
    width = 3 if path.suffix.lower() == ".bdf" else 2
    record_bytes = sum(per_record) * width
    if header_bytes != 256 * (ns + 1) or record_bytes <= 0:
        raise InputError(
            f"EDF/BDF header is inconsistent ({ns} signals, {header_bytes} header bytes)",
            file=str(path),
        )
    held = (size - header_bytes) / record_bytes
    if n_records < 0:
        n_records = int(held)
    if held < n_records:
        raise InputError(
            f"file is truncated: its header announces {n_records} records "
            f"({n_records * record_s:.1f} s), the file holds {held:.1f} "
            f"({held * record_s:.1f} s; {size} of {header_bytes + n_records * record_bytes} bytes)",
            file=str(path),
        )


def _check_fdt_complete(path: Path, raw: Any) -> None:
    """Raise unless an EEGLAB data file (``.fdt``, float32) holds every sample."""
    fdt = Path(raw.filenames[0]) if raw.filenames and raw.filenames[0] else None
    if fdt is None or fdt.suffix.lower() != ".fdt" or not fdt.is_file():
        return  # data inside the .set: MATLAB's reader already failed on a cut file
    expected = 4 * raw.info["nchan"] * raw.n_times
    if fdt.stat().st_size < expected:
        raise InputError(
            f"file is truncated: {fdt.stat().st_size} of {expected} bytes "
            f"({raw.info['nchan']} channels x {raw.n_times} samples of float32)",
            file=str(fdt),
        )


# --- BIOPAC -------------------------------------------------------------------------------------


def _char_rows(x: Any) -> list[str]:
    arr = np.asarray(x)
    if arr.dtype.kind in "US" and arr.ndim <= 1:
        return [str(s).strip() for s in np.atleast_1d(arr)]
    if arr.dtype == object:
        return [str(np.asarray(s).squeeze()).strip() for s in arr.ravel()]
    return ["".join(map(str, row)).strip() for row in arr]


def read_biopac_mat(path: Path) -> dict[str, Any]:
    """Read a BIOPAC AcqKnowledge MATLAB export.

    Returns
    -------
    dict
        ``data`` (n_samples x n_ch; memory-mapped when the file stores it uncompressed, see
        :mod:`mmme.io.matfile`), ``labels``, ``names`` (first comma field), ``units``, ``sfreq``.
    """
    from scipy.io import loadmat, whosmat

    from mmme.io.matfile import mat5_matrix

    try:
        present = {name for name, _, _ in whosmat(path)}
        for key in ("data", "labels", "isi"):
            if key not in present:
                raise InputError(f"BIOPAC export lacks variable {key!r}", file=str(path))
        m = loadmat(
            path,
            variable_names=[k for k in ("labels", "units", "isi", "isi_units") if k in present],
        )
        data = mat5_matrix(path, "data")
        if data is None:  # compressed or unusual storage: scipy reads it whole
            data = np.asarray(loadmat(path, variable_names=["data"])["data"], dtype=np.float64)
    except InputError:
        raise
    except Exception as exc:  # scipy raises ValueError/TypeError/OSError on damaged files
        raise InputError(f"cannot read MATLAB file: {exc}", file=str(path)) from exc
    labels = _char_rows(m["labels"])
    units = _char_rows(m["units"]) if "units" in m else [""] * len(labels)
    if data.ndim != 2 or data.shape[1] != len(labels):
        raise InputError(
            f"data has shape {data.shape} but there are {len(labels)} labels", file=str(path)
        )
    isi = float(np.asarray(m["isi"]).squeeze())
    isi_units = _char_rows(m["isi_units"])[0] if "isi_units" in m else "ms"
    isi_s = isi / 1000 if isi_units.lower() in ("ms", "msec") else isi
    names = [lab.split(",")[0].strip() for lab in labels]
    return {"data": data, "labels": labels, "names": names, "units": units, "sfreq": 1.0 / isi_s}


# --- a session ----------------------------------------------------------------------------------


@dataclass
class SessionJob:
    """What one worker needs to import one session."""

    subject: str
    session: str
    folder: Path
    root: Path
    out_dir: Path  # the session's directory inside the store being written
    annotations: pd.DataFrame
    check_frames: bool = True
    allow_truncated: bool = False  # a device that started late or stopped early
    # the subject has several sessions and the coding file does not say which: keep only the
    # rows this session's trials and frames match, the importer checks each is claimed once
    claim: bool = False


def _find_one(folder: Path, suffixes: tuple[str, ...], what: str) -> Path | None:
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
    if len(found) > 1:
        raise InputError(f"more than one {what} file: {[p.name for p in found]}", file=str(folder))
    return found[0] if found else None


def _write_eeg(
    path: Path, sig_dir: Path, root: Path, problems: list[dict[str, Any]]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Copy an EEG recording minute by minute into ``eeg.npy``; its markers and stream entry."""
    raw = _open_eeg(path)
    markers = read_eeg_markers(raw, path)
    names = [c for c in raw.ch_names if c.lower() != "trigger"]
    picks = [raw.ch_names.index(c) for c in names]
    n, sfreq = int(raw.n_times), float(raw.info["sfreq"])
    mm = open_signal_memmap(sig_dir / "eeg.npy", n, len(names))
    lo, hi = np.full(len(names), np.inf), np.full(len(names), -np.inf)
    step = int(60 * sfreq)
    for a in range(0, n, step):
        block = raw.get_data(picks=picks, start=a, stop=min(n, a + step))
        bad = np.isnan(block).any(axis=1)
        if bad.any():
            raise InputError(
                f"NaN values near {a / sfreq:.1f} s",
                file=str(path),
                channel=names[int(np.argmax(bad))],
            )
        lo, hi = np.minimum(lo, block.min(axis=1)), np.maximum(hi, block.max(axis=1))
        mm[a : a + block.shape[1]] = block.T
    mm.flush()
    del mm
    for j in np.flatnonzero(lo == hi):
        problems.append(
            {
                "problem": "flat_channel",
                "level": "warning",
                "file": str(path),
                "channel": names[j],
                "detail": f"constant value {lo[j]!r}",
            }
        )
    stream = {
        "ch_names": names,
        "units": ["V"] * len(names),  # MNE returns every channel of an EEG file in volts
        "sfreq": sfreq,
        "device": "eeg",
        "kind": "eeg",
        "source": str(path.relative_to(root)),
    }
    return markers, stream


def _write_physio(
    path: Path, sig_dir: Path, root: Path, problems: list[dict[str, Any]]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Copy a BIOPAC export's analog channels minute by minute into ``physio.npy``; markers
    from its digital trigger bits."""
    if path.suffix.lower() == ".acq":
        from mmme.io.acq import read_biopac_acq

        bp = read_biopac_acq(path)
    else:
        bp = read_biopac_mat(path)
    data, sfreq = bp["data"], float(bp["sfreq"])
    bits = {
        j: int(m.group(1)) for j, lab in enumerate(bp["labels"]) if (m := DIGITAL_RE.match(lab))
    }
    if not bits:
        raise InputError(
            "BIOPAC export has no 'Digital (STP Input i)' trigger channels", file=str(path)
        )
    keep = [j for j in range(data.shape[1]) if j not in bits]
    n = int(data.shape[0])
    out = open_signal_memmap(sig_dir / "physio.npy", n, len(keep))
    events: list[tuple[int, int]] = []
    last = 0  # trigger code of the sample before the current chunk
    lo, hi = np.full(len(keep), np.inf), np.full(len(keep), -np.inf)
    step = int(60 * sfreq)
    for a in range(0, n, step):
        # 2 samples of look-ahead: a marker's code is read 2 samples after its edge
        ahead = np.asarray(data[a : a + step + 2], dtype=np.float64)
        block = ahead[:step]
        code = np.zeros(len(ahead), dtype=np.int64)
        for j, bit in bits.items():
            code |= (ahead[:, j] > 2.5).astype(np.int64) << bit
        events += [(a + i, c) for i, c in trigger_onsets(code, last, limit=len(block))]
        last = int(code[len(block) - 1])
        analog = block[:, keep]
        bad = np.isnan(analog).any(axis=0)
        if bad.any():
            j = int(np.argmax(bad))
            k = a + int(np.flatnonzero(np.isnan(analog[:, j]))[0])
            raise InputError(
                f"NaN values (first at sample {k})", file=str(path), channel=bp["names"][keep[j]]
            )
        lo, hi = np.minimum(lo, analog.min(axis=0)), np.maximum(hi, analog.max(axis=0))
        out[a : a + len(block)] = analog
    out.flush()
    del out
    for j in np.flatnonzero(lo == hi):
        problems.append(
            {
                "problem": "flat_channel",
                "level": "warning",
                "file": str(path),
                "channel": bp["names"][keep[j]],
                "detail": f"constant value {lo[j]!r}",
            }
        )
    stream = {
        "ch_names": [bp["names"][j] for j in keep],
        "labels": [bp["labels"][j] for j in keep],
        "units": [bp["units"][j] for j in keep],
        "sfreq": sfreq,
        "device": "physio",
        "kind": "physio",
        "source": str(path.relative_to(root)),
    }
    markers = pd.DataFrame({"code": [c for _, c in events], "time": [i / sfreq for i, _ in events]})
    return markers, stream


def import_session(job: SessionJob) -> dict[str, Any]:
    """Read, check, synchronize and write one session; return its metadata for the store."""
    problems: list[dict[str, Any]] = []
    markers: dict[str, pd.DataFrame] = {}
    streams: dict[str, dict[str, Any]] = {}
    sig_dir = job.out_dir / "signals"
    # not parents=True: a job still running after the import failed must not re-create the
    # temporary store the importer just removed
    sig_dir.mkdir(exist_ok=True)
    if (job.folder / "eeg").is_dir():
        eeg_path = _find_one(job.folder / "eeg", EEG_SUFFIXES, "EEG")
        if eeg_path is not None:
            markers["eeg"], streams["eeg"] = _write_eeg(eeg_path, sig_dir, job.root, problems)
    if (job.folder / "physio").is_dir():
        bp_path = _find_one(job.folder / "physio", (".mat", ".acq"), "BIOPAC .mat/.acq")
        if bp_path is not None:
            markers["physio"], streams["physio"] = _write_physio(
                bp_path, sig_dir, job.root, problems
            )

    frames = pd.DataFrame()
    video_dir = job.folder / "video"
    if video_dir.is_dir():
        frames, fproblems = scan_frames(video_dir, job.root, check=job.check_frames)
        problems.extend(fproblems)
        if len(frames):
            markers["video"] = video_markers(frames)

    if not markers:
        raise InputError("session has no recordings (video/, eeg/, physio/)", file=str(job.folder))
    problems.extend(_completeness_problems(job.folder, streams, len(frames)))

    # the camera may record only during clips: match it on the codes it saw
    cleaned = {k: clean_markers(v) for k, v in markers.items()}
    reference = "eeg" if "eeg" in cleaned else ("physio" if "physio" in cleaned else "video")
    codes = {"video": set(cleaned["video"]["code"])} if "video" in cleaned else None
    if len(cleaned) > 1:
        clocks = synchronize(
            cleaned,
            reference=reference,
            allow_truncated=job.allow_truncated,
            match_codes=codes,
            declared_sfreq={k: float(m["sfreq"]) for k, m in streams.items()},
        )
    else:
        clocks = {reference: ClockMap.identity()}

    mk_rows = []
    for dev, m in markers.items():
        for code, t in zip(m["code"], m["time"], strict=True):
            mk_rows.append((dev, int(code), float(t), float(clocks[dev].to_common(t))))
    mk = pd.DataFrame(mk_rows, columns=["device", "code", "device_time_s", "time_s"])

    # trials from the reference device's markers
    ref = cleaned[reference]
    ref_codes, ref_t = (
        ref["code"].to_numpy(),
        np.asarray(clocks[reference].to_common(ref["time"].to_numpy())),
    )
    if streams:
        end_s = max(
            float(clocks[k].to_common(_n_samples(sig_dir / f"{k}.npy") / m["sfreq"]))
            for k, m in streams.items()
        )
    else:
        end_s = float(clocks["video"].to_common(float(frames["device_time_s"].max())))
    trials = []
    if len(frames):
        frames["time_s"] = clocks["video"].to_common(frames["device_time_s"].to_numpy())
    clip_codes = [int(c) for c in ref_codes if int(c) in CLIP_MARKERS]
    repeated = sorted({c for c in clip_codes if clip_codes.count(c) > 1})
    if repeated:
        times = ref_t[ref_codes == repeated[0]]
        raise InputError(
            f"{reference} has clip marker {repeated[0]} more than once (at "
            f"{', '.join(f'{t:.3f}' for t in times)} s): trials would be ambiguous",
            file=str(job.folder),
        )
    for k, code in enumerate(ref_codes):
        if int(code) not in CLIP_MARKERS:
            continue
        stop = float(ref_t[k + 1]) if k + 1 < len(ref_t) else end_s
        tf = frames[frames["trial"] == str(code)] if len(frames) else frames
        trials.append(
            {
                "subject": job.subject,
                "session": job.session,
                "trial": str(int(code)),
                "marker": int(code),
                "category": marker_category(int(code)),
                "start_s": float(ref_t[k]),
                "stop_s": stop,
                "n_frames": len(tf),
                "video_start_s": float(tf["time_s"].iloc[0]) if len(tf) else np.nan,
            }
        )
    ann = _resolve_annotations(job, frames, trials, problems)
    clip_frames = frames[frames["trial"].notna()] if len(frames) else None
    fps = None
    if clip_frames is not None and len(clip_frames) > 1:
        fps = float(1.0 / np.median(np.diff(clip_frames["device_time_s"].to_numpy())))
    return {
        "subject": job.subject,
        "session": job.session,
        "reference": reference,
        "clocks": clocks,
        "markers": mk,
        "streams": streams,
        "frames": clip_frames.assign(stamp=clip_frames["stamp"].astype(str))
        if clip_frames is not None
        else None,
        "video": {"frames_root": str(job.root), "fps": fps, "n_frames": int(len(clip_frames))}
        if clip_frames is not None
        else None,
        "trials": trials,
        "annotations": ann,
        "problems": problems,
    }


def _completeness_problems(
    folder: Path, streams: dict[str, dict[str, Any]], n_frames: int
) -> list[dict[str, Any]]:
    """Warnings for a device the session lacks and for expected channels a device lacks."""
    out: list[dict[str, Any]] = []
    present = {**{k: True for k in streams}, "video": n_frames > 0}
    what = {"eeg": "EEG file", "physio": "BIOPAC .mat/.acq file", "video": "frame images"}
    for dev, sub in DEVICE_FOLDERS.items():
        if not present.get(dev):
            out.append(
                {
                    "problem": "missing_recording",
                    "level": "warning",
                    "file": str(folder / sub),
                    "detail": f"no {what[dev]}: the session has no {dev} recording",
                }
            )
    for dev, st in streams.items():
        out.extend(channel_problems(dev, list(st["ch_names"]), st["source"]))
    return out


def _n_samples(path: Path) -> int:
    return int(np.load(path, mmap_mode="r", allow_pickle=False).shape[0])


def _resolve_annotations(
    job: SessionJob,
    frames: pd.DataFrame,
    trials: list[dict[str, Any]],
    problems: list[dict[str, Any]],
) -> pd.DataFrame:
    """Frame indices and common-clock times of the session's coded events."""
    ann = job.annotations.copy()
    ann["session"] = job.session
    by_trial = {t["trial"]: t for t in trials}
    foreign = []  # rows of another session of the subject (claim mode)
    for i, r in ann.iterrows():
        trial = by_trial.get(str(r["trial"]))
        if trial is None:
            if job.claim:
                foreign.append(i)
                continue
            raise InputError(
                f"annotation of trial {r['trial']} but the session has no such clip marker",
                file=str(r["source"]).rsplit(":", 1)[0],
                row=int(str(r["source"]).rsplit(":", 1)[1]),
            )
        tf = frames[frames["trial"] == str(r["trial"])] if len(frames) else frames
        if len(tf):
            t0 = float(tf["device_time_s"].iloc[0])
            if job.claim and any(
                _match_stamp(tf, str(r[f"{p}_stamp"])) is None for p in ("onset", "apex", "offset")
            ):
                foreign.append(i)
                continue
            for p in ("onset", "apex", "offset"):
                k = _match_stamp(tf, str(r[f"{p}_stamp"]))
                if k is None:
                    raise InputError(
                        f"{p} frame stamp {r[f'{p}_stamp']} matches no frame of trial {r['trial']}",
                        file=str(r["source"]).rsplit(":", 1)[0],
                        row=int(str(r["source"]).rsplit(":", 1)[1]),
                    )
                coded = float(r[f"{p}_rel_s"])
                rel = float(tf["device_time_s"].iloc[k]) - t0
                ann.loc[i, f"{p}_frame"] = int(tf["frame"].iloc[k])
                ann.loc[i, f"{p}_s"] = float(tf["time_s"].iloc[k])
                ann.loc[i, f"{p}_rel_s"] = rel
                if abs(coded - rel) > TIME_STAMP_TOLERANCE_S:
                    flags = [f for f in str(ann.loc[i, "flags"] or "").split(";") if f]
                    if "time_frame_mismatch" not in flags:
                        ann.loc[i, "flags"] = ";".join([*flags, "time_frame_mismatch"])
        else:
            for p in ("onset", "apex", "offset"):
                ann.loc[i, f"{p}_s"] = trial["start_s"] + float(r[f"{p}_rel_s"])
        if (
            not trial["start_s"]
            <= ann.loc[i, "onset_s"]
            <= ann.loc[i, "offset_s"]
            <= trial["stop_s"] + 1e-6
        ):
            problems.append(
                {
                    "problem": "annotation_outside_trial",
                    "level": "error",
                    "source": str(r["source"]),
                    "detail": f"event {ann.loc[i, 'onset_s']:.3f}-{ann.loc[i, 'offset_s']:.3f} s "
                    f"outside trial {trial['start_s']:.3f}-{trial['stop_s']:.3f} s",
                }
            )
    return ann.drop(index=foreign)


def _match_stamp(tf: pd.DataFrame, stamp: str) -> int | None:
    """Position in a trial's frames of a coded stamp (``HH-MM-SS-mmm[-code]``)."""
    m = STAMP_RE.match(stamp.strip())
    if not m:
        return None
    h, mi, s, ms = (int(m.group(i)) for i in range(1, 5))
    if h > 23 or mi > 59 or s > 59:
        return None
    code = None if m.group(5) is None else int(m.group(5))
    key = _stamp_key(_dt.time(h, mi, s, ms * 1000), code)
    keys = tf["key"].to_numpy(dtype=str)
    if code is None:  # the real sample lacks the frame code in part of its rows
        hits = np.flatnonzero(np.char.startswith(keys, key + "-"))
    else:
        hits = np.flatnonzero(keys == key)
    return int(hits[0]) if len(hits) else None


# --- the whole data set -------------------------------------------------------------------------


def find_sessions(root: Path) -> list[tuple[str, str, Path]]:
    """``(subject, session, folder)`` of every session folder below ``root``."""
    out = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found: dict[str, Path] = {}
        if any((sub / d).is_dir() for d in ("video", "eeg", "physio")):
            found["1"] = sub
        # numeric order (2 before 10); "01" and "1" are the same session
        for ses in sorted(
            (p for p in sub.iterdir() if p.is_dir() and p.name.isdigit()),
            key=lambda p: (int(p.name), p.name),
        ):
            if any((ses / d).is_dir() for d in ("video", "eeg", "physio")):
                name = str(int(ses.name))
                if name in found:
                    raise InputError(
                        f"two folders hold session {name} of {sub.name}: "
                        f"{found[name].relative_to(root)} and {ses.relative_to(root)}",
                        file=str(ses),
                    )
                found[name] = ses
        out.extend((sub.name, name, folder) for name, folder in found.items())
    return out


def find_coding_file(root: Path) -> Path | None:
    for name in ("coding_file.xlsx", "coding_file.csv"):
        if (root / name).is_file():
            return root / name
    cands = sorted(root.glob("*.xlsx"))
    return cands[0] if len(cands) == 1 else None


def import_mmme(
    src: str | Path,
    store: str | Path,
    executor: Executor | None = None,
    check_frames: bool = True,
    pseudonymize: bool = False,
    salt: str | None = None,
    allow_truncated: bool = False,
) -> Store:
    """Import a raw MMME folder (or a coding file on its own) into a store.

    Parameters
    ----------
    src : str | Path
        The raw folder (``docs/raw_layout.md``) or a coding ``.xlsx``/``.csv`` alone.
    store : str | Path
        The store to write; an existing store is replaced only when the import succeeds.
    executor : Executor | None
        Runs the sessions; default: local processes.
    check_frames : bool
        Check every frame file for truncation.
    pseudonymize : bool
        Replace participant identifiers by salted codes everywhere (:mod:`mmme.io.pseudonym`).
    salt : str | None
        The salt of the codes (default ``$MMME_SALT``, else random).
    allow_truncated : bool
        Accept a device that started late or stopped early (its markers are a contiguous run of
        the reference's); a marker missing in the middle is still an error.

    Raises
    ------
    InputError, SyncError
        Naming the file, row, channel, device or marker at fault; nothing is written then.
    """
    if pseudonymize:
        from mmme.io.pseudonym import with_pseudonyms

        return with_pseudonyms(
            lambda tmp: import_mmme(
                src,
                tmp,
                executor=executor,
                check_frames=check_frames,
                allow_truncated=allow_truncated,
            ),
            store,
            salt,
        )
    src = Path(src)
    if not src.exists():
        raise InputError("no such file or folder", file=str(src))
    coding: CodingFile | None
    if src.is_file():
        coding, root, sessions = read_coding_file(src), src.parent, []
    else:
        root = src.absolute()
        cf = find_coding_file(root)
        coding = read_coding_file(cf) if cf else None
        sessions = find_sessions(root)
        if not sessions and coding is None:
            raise InputError("neither session folders nor a coding file found", file=str(src))
    ann = coding.annotations if coding is not None else make_annotations([])
    with StoreWriter(store, dataset="mmme", source=str(src.absolute())) as w:
        if coding is not None:
            w.report["quirks"].extend({"file": coding.path.name, **q} for q in coding.quirks)
            w.report["coding_file"] = {
                "path": str(coding.path),
                "has_type_column": coding.has_type_column,
                "rows": int(len(ann)),
            }
            w.report["skipped"].extend(
                {"source": d["source"], "problem": "duplicate_row", "reason": duplicate_reason(d)}
                for d in coding.duplicates
            )
        n_sessions = Counter(subject for subject, _, _ in sessions)
        jobs = []
        for subject, session, folder in sessions:
            # the coding file has no session column: every row of the subject goes to each of
            # its sessions, which keeps those it matches when there are several
            a = ann[ann["subject"] == subject]
            jobs.append(
                SessionJob(
                    subject,
                    session,
                    folder,
                    root,
                    w.session_dir(subject, session),
                    a,
                    check_frames,
                    allow_truncated,
                    claim=n_sessions[subject] > 1,
                )
            )
        ex = executor or Executor()
        results = ex.map(_run_job, jobs, desc="import sessions")
        _check_claims(ann, results, n_sessions)
        for res in results:
            w.add_session(
                res["subject"],
                res["session"],
                clocks=res["clocks"],
                reference=res["reference"],
                markers=res["markers"],
                streams=res["streams"],
                frames=res["frames"],
                video=res["video"],
                extra={"problems": res["problems"]},
            )
            w.add_trials(res["trials"])
            w.add_annotations(res["annotations"])
            w.report["sync"].append(
                {
                    "subject": res["subject"],
                    "session": res["session"],
                    "reference": res["reference"],
                    **{k: v.to_dict() for k, v in res["clocks"].items()},
                }
            )
        rest = ann[~ann["subject"].isin(list(n_sessions))]
        if len(rest):
            if sessions:
                rest = _flag_without_recordings(rest, sorted(n_sessions), w.report)
            w.add_annotations(rest)
    return Store(store)


def _flag_without_recordings(
    rest: pd.DataFrame, recorded: list[str], report: dict[str, Any]
) -> pd.DataFrame:
    """Flag the coding rows of subjects that have no session folder (a misspelled ``S1`` for
    ``S01`` would otherwise detach them silently) and report each subject, with a guess."""
    import difflib

    rest = rest.copy()
    rest["flags"] = [
        ";".join(filter(None, [str(f) if isinstance(f, str) else "", "no_recording"]))
        for f in rest["flags"]
    ]
    for subj, rows in rest.groupby("subject", sort=True):
        guess = _same_subject(str(subj), recorded) or difflib.get_close_matches(
            str(subj), recorded, n=1
        )
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        report["skipped"].append(
            {
                "subject": str(subj),
                "rows": [str(x) for x in rows["source"]],
                "problem": "subject_without_recordings",
                "reason": f"{len(rows)} coding row(s) of subject {subj}, which has no session "
                f"folder{hint}; kept with trial-relative times only, flagged no_recording",
            }
        )
    return rest


def _same_subject(name: str, recorded: list[str]) -> list[str]:
    """Recorded subjects that differ from ``name`` only in zero padding or case (``S1``/``s01``)."""

    def norm(x: str) -> str:
        return re.sub(r"(?<!\d)0+(?=\d)", "", x.strip().lower())

    return [r for r in recorded if norm(r) == norm(name)]


def _check_claims(
    ann: pd.DataFrame, results: list[dict[str, Any]], n_sessions: Counter[str]
) -> None:
    """Every coding row of a subject with several sessions must match exactly one of them.

    A session whose frames matched the row's stamps wins over sessions without video of that
    trial (they can only say they have the trial); the row is dropped from those.
    """
    claims: dict[Any, list[str]] = {}
    by_frames: dict[Any, list[str]] = {}
    for res in results:
        if n_sessions[res["subject"]] > 1:
            a = res["annotations"]
            for i, framed in zip(a.index, a["onset_frame"].notna(), strict=True):
                claims.setdefault(i, []).append(res["session"])
                if framed:
                    by_frames.setdefault(i, []).append(res["session"])
    for i, r in ann[ann["subject"].map(lambda s: n_sessions.get(s, 0) > 1)].iterrows():
        got = claims.get(i, [])
        if len(got) > 1 and len(by_frames.get(i, [])) == 1:
            got = by_frames[i]
            for res in results:
                if res["subject"] == r["subject"] and res["session"] != got[0]:
                    res["annotations"] = res["annotations"].drop(index=i, errors="ignore")
        if len(got) == 1:
            continue
        file, row = str(r["source"]).rsplit(":", 1)
        sessions = sorted(res["session"] for res in results if res["subject"] == r["subject"])
        if not got:
            msg = (
                f"matches no session of {r['subject']} (sessions {', '.join(sessions)}): no "
                f"trial {r['trial']} with frames {r['onset_stamp']}..{r['offset_stamp']}"
            )
        else:
            msg = (
                f"matches sessions {' and '.join(sorted(got))} of {r['subject']} (trial "
                f"{r['trial']}); cannot tell which"
            )
        raise InputError(msg, file=file, row=int(row))


def _run_job(job: SessionJob) -> dict[str, Any]:
    try:
        return import_session(job)
    except MMMEError as exc:
        raise exc.add_context(f"subject {job.subject}, session {job.session}") from None
    except Exception as exc:
        raise InputError(
            f"session {job.subject}/{job.session}: {exc}", file=str(job.folder)
        ) from exc


__all__ = [
    "import_mmme",
    "import_session",
    "parse_frame_name",
    "read_biopac_mat",
    "scan_frames",
]
