"""A user's own recording: a video (file or image folder), signals and an annotation sheet.

- Video: ``.mp4/.avi/.mov/.mkv`` read with OpenCV (frames written losslessly as PNG into the
  store, since frames stay files), or a folder of images (kept where they are, ordered by the
  number in their names). Frame ``k`` is at ``k / fps`` (``fps`` from the container unless given).
- Signals: EDF/BDF (MNE; markers from integer-coded annotations or a ``Trigger``/``STI`` channel),
  XDF from Lab Streaming Layer (``pyxdf``, its ClockOffset synchronisation applied: each regular
  stream gets a linear clock map fitted from its sample numbers to its LSL stamps, arrival jitter
  averaged out, a gap an error; voltage channels converted to volts; string and irregular streams
  become markers, integer codes kept), or CSV/TSV with a time column (seconds); all read by
  :mod:`mmme.io.signals`, by the same rules as ``mmme signals``.
- Annotations: CSV/XLSX, columns named by a mapping (``onset=OnsetF,apex=ApexF,...``); frame
  numbers (as in the image names, or 0-based video frame indices plus ``first_frame``) or seconds
  from the start of the video.

Without shared markers the devices are taken to start together at 0 s (the report says so);
XDF streams share the LSL clock, so their offsets are kept. One subject, one session, one trial.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.annotations import (
    _EMOTION_SYNONYMS,
    format_aus,
    make_annotations,
    normalize_emotion,
    normalize_type,
    parse_aus,
)
from mmme.data.store import Store, StoreWriter
from mmme.data.sync import ClockMap
from mmme.errors import InputError
from mmme.io.classic._base import (
    FRAME_SUFFIXES,
    SheetRow,
    _sheet_label,
    cell_or_none,
    cell_text,
    fix_row,
    frame_cell,
    frame_number,
    is_empty,
    natural_key,
    read_header_sheet,
)
from mmme.io.signals import SignalData, open_edf, read_csv_signals, read_xdf

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".wmv")
SIGNAL_SUFFIXES = (".edf", ".bdf", ".xdf", ".xdfz", ".csv", ".tsv")
#: Annotation fields and the column names tried when the mapping does not name them.
FIELDS: dict[str, tuple[str, ...]] = {
    "onset": ("onset", "OnsetFrame", "OnsetF", "Onset Frame", "onset_frame", "onset_s"),
    "apex": ("apex", "ApexFrame", "ApexF", "Apex Frame", "apex_frame", "apex_s"),
    "offset": ("offset", "OffsetFrame", "OffsetF", "Offset Frame", "offset_frame", "offset_s"),
    "emotion": ("emotion", "Estimated Emotion"),
    "aus": ("aus", "Action Units", "AU", "AUs"),
    "type": ("type", "Macro/Micro", "Type"),
    "notes": ("notes", "Notes"),
}


def parse_mapping(text: str | Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``"onset=OnsetF,apex=ApexF"`` (or a list of such) -> ``{"onset": "OnsetF", ...}``.

    Raises
    ------
    InputError
        For an entry without ``=`` or an unknown field.
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        items = list(text.items())
    else:
        parts = [text] if isinstance(text, str) else list(text)
        items = []
        for part in parts:
            for entry in filter(None, (e.strip() for e in part.split(","))):
                if "=" not in entry:
                    raise InputError(f"--map entry {entry!r} is not FIELD=COLUMN")
                k, v = entry.split("=", 1)
                items.append((k.strip(), v.strip()))
    out = {}
    for k, v in items:
        if k not in FIELDS:
            raise InputError(f"--map field {k!r} unknown; fields: {', '.join(FIELDS)}")
        out[k] = v
    return out


# --- video --------------------------------------------------------------------------------------


def extract_video(path: Path, out_dir: Path, fps: float | None) -> tuple[list[str], float, tuple]:
    """Write every frame of a video file as PNG; return names, fps and frame size.

    Raises
    ------
    InputError
        If OpenCV cannot open or decode the file, or it has no frame rate and none is given.
    """
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InputError("OpenCV cannot open the video", file=str(path))
    try:
        native = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        rate = float(fps) if fps else native
        if not rate or not np.isfinite(rate):
            raise InputError("the video has no frame rate; give --fps", file=str(path))
        out_dir.mkdir(parents=True, exist_ok=True)
        names: list[str] = []
        size: tuple = ()
        while True:
            ok, img = cap.read()
            if not ok:
                break
            name = f"{len(names):06d}.png"
            if not cv2.imwrite(str(out_dir / name), img, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
                raise InputError(f"cannot write frame {name}", file=str(out_dir))
            names.append(name)
            size = img.shape[1::-1]
    finally:
        cap.release()
    if not names:
        raise InputError("no frame could be decoded", file=str(path))
    return names, rate, size


def image_folder(path: Path) -> list[tuple[int | None, str]]:
    """``(number in the name, relative path)`` of the images below a folder, in frame order."""
    files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES]
    if not files:
        raise InputError("no image files in the frame folder", file=str(path))
    rel = sorted((str(p.relative_to(path).as_posix()) for p in files), key=natural_key)
    return [(frame_number(Path(r).stem), r) for r in rel]


# --- signals ------------------------------------------------------------------------------------


def _name(label: str, taken: set[str]) -> str:
    """A store stream name from a file stem or an LSL stream name, unique among ``taken``."""
    base = re.sub(r"[^0-9A-Za-z]+", "_", label).strip("_").lower() or "signal"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def read_signal_file(
    path: Path, w: StoreWriter, subject: str, session: str, taken: set[str], report: dict
) -> list[dict[str, Any]]:
    """Write the streams of one signal file; return ``{name, meta, clock, markers}`` of each.

    The file is read by :mod:`mmme.io.signals`, the rules ``mmme signals`` reads it by.
    """
    suffix = path.suffix.lower()
    if suffix in (".edf", ".bdf"):
        return [_write_edf(path, w, subject, session, taken, report)]
    if suffix in (".xdf", ".xdfz"):
        content = read_xdf(path)
        report["skipped"].extend(content.skipped)
        out = [_write_stream(sd, w, subject, session, taken, report) for sd in content.streams]
        if len(content.markers):
            # marker stamps are on the LSL clock already: a device with the identity map
            out.append({"name": "lsl_markers", "meta": None, "clock": ClockMap.identity(),
                        "markers": content.markers})
        return out
    if suffix in (".csv", ".tsv"):
        # the store holds complete signals (validate flags NaN): empty cells are an error
        sd = read_csv_signals(path, allow_missing=False, sfreq_option=None)
        if sd.clock is None:  # pragma: no cover - read_csv_signals needs a rate
            raise InputError("a CSV signal needs a time column", file=str(path))
        return [_write_stream(sd, w, subject, session, taken, report)]
    raise InputError(
        f"unknown signal format {suffix!r} (EDF, BDF, XDF, CSV or TSV)", file=str(path)
    )


def _write_stream(
    sd: SignalData, w: StoreWriter, subject: str, session: str, taken: set[str], report: dict
) -> dict[str, Any]:
    name = _name(sd.name, taken)
    mm = w.signal_file(subject, session, name, sd.data.shape[0], sd.data.shape[1])
    mm[:] = sd.data
    mm.flush()
    file = Path(sd.source).name
    for note in sd.notes:
        report["quirks"].append({"file": file, "quirk": note})
    meta = {
        "ch_names": [str(c) for c in sd.ch_names],
        "units": list(sd.units),
        "sfreq": sd.sfreq,
        "device": name,
        "kind": sd.kind,
        "source": f"{file}:{sd.stream}" if sd.stream else file,
    }
    return {"name": name, "meta": meta, "clock": sd.clock, "markers": None}


def _write_edf(
    path: Path, w: StoreWriter, subject: str, session: str, taken: set[str], report: dict
) -> dict[str, Any]:
    edf = open_edf(path)
    if edf.n_other_annotations:
        report["skipped"].append(
            {"file": path.name,
             "reason": f"{edf.n_other_annotations} annotation(s) without an integer code"}
        )
    name = _name(path.stem, taken)
    mm = w.signal_file(subject, session, name, edf.n_times, len(edf.ch_names))
    for a, block in edf.iter_blocks(int(60 * edf.sfreq)):
        if np.isnan(block).any():
            j = int(np.flatnonzero(np.isnan(block).any(axis=0))[0])
            raise InputError(
                f"NaN values near {a / edf.sfreq:.1f} s", file=str(path), channel=edf.ch_names[j]
            )
        mm[a : a + block.shape[0]] = block
    mm.flush()
    meta = {
        "ch_names": edf.ch_names,
        "units": edf.units,
        "sfreq": edf.sfreq,
        "device": name,
        "kind": edf.kind,
        "source": path.name,
    }
    return {"name": name, "meta": meta, "clock": None, "markers": edf.markers}


# --- annotations --------------------------------------------------------------------------------


def read_annotation_rows(
    path: Path, mapping: Mapping[str, str], report: dict[str, Any], units: str
) -> list[tuple[SheetRow, dict[str, float | None]]]:
    """Rows of a user's annotation sheet: frame numbers (``units="frames"``) or seconds."""
    aliases = {f: ((mapping[f],) if f in mapping else names) for f, names in FIELDS.items()}
    rows = read_header_sheet(path, aliases, ("onset", "offset"), report, max_scan=1)
    sheet = None if path.suffix.lower() == ".csv" else _sheet_label(path, 0)
    out = []
    for r, vals in rows:
        secs: dict[str, float | None] = {}
        nums: dict[str, int | None] = {}
        for f in ("onset", "apex", "offset"):
            v = vals.get(f)
            if units == "seconds":
                secs[f] = None if is_empty(v) else _seconds(v, aliases[f][0], path, sheet, r)
                nums[f] = None
            else:
                nums[f] = frame_cell(v, aliases[f][0], path, sheet, r)
        row = SheetRow(
            subject="",
            filename="",
            onset=nums["onset"],
            apex=nums["apex"],
            offset=nums["offset"],
            file=path,
            sheet=sheet,
            row=r,
            aus=cell_or_none(vals, "aus"),
            emotion=cell_or_none(vals, "emotion"),
            type=cell_or_none(vals, "type"),
            notes=[] if is_empty(vals.get("notes")) else [cell_text(vals["notes"])],
            raw={"apex": "no column"} if "apex" not in vals else {},
        )
        out.append((row, secs))
    return out


def _seconds(v: Any, col: str, path: Path, sheet: str | None, row: int) -> float:
    try:
        x = float(str(v).strip())
    except ValueError:
        raise InputError(
            f"column {col!r}: {v!r} is not a time in seconds", file=str(path), sheet=sheet, row=row
        ) from None
    if not np.isfinite(x) or x < 0:
        raise InputError(f"column {col!r}: bad time {v!r}", file=str(path), sheet=sheet, row=row)
    return x


# --- the import ---------------------------------------------------------------------------------


def import_generic(
    src: str | Path | None,
    store: str | Path,
    *,
    signals: Sequence[str | Path] = (),
    annotations: str | Path | None = None,
    mapping: str | Sequence[str] | Mapping[str, str] | None = None,
    units: str = "frames",
    first_frame: int = 0,
    fps: float | None = None,
    subject: str = "S01",
    session: str = "1",
    trial: str | None = None,
    pseudonymize: bool = False,
    salt: str | None = None,
) -> Store:
    """Import a user's recording into a store (see the module docstring).

    Parameters
    ----------
    src : str | Path | None
        Video file or image folder (``None`` or a signal file for signals only).
    store : str | Path
        The store to write; replaced only when the import succeeds.
    signals : sequence of paths
        EDF/BDF/XDF/CSV files.
    annotations : str | Path | None
        CSV/XLSX with one row per expression.
    mapping : str | list | dict | None
        Annotation field -> column (``"onset=OnsetF,apex=ApexF,offset=OffsetF"``).
    units : {"frames", "seconds"}
        Unit of the onset/apex/offset columns.
    first_frame : int
        Number of the first frame in the annotation's numbering, for a video file (``1`` when
        frames are counted from 1); image folders use the numbers in the file names.
    fps : float | None
        Frame rate (required for an image folder; overrides the container's).
    subject, session, trial : str
        Names in the store (``trial`` defaults to the video's name).
    pseudonymize, salt
        See :mod:`mmme.io.pseudonym`.

    Raises
    ------
    InputError
        Naming the file, sheet, row or channel at fault; nothing is written then.
    """
    if units not in ("frames", "seconds"):
        raise InputError(f"units must be 'frames' or 'seconds', not {units!r}")
    if pseudonymize:
        from mmme.io.pseudonym import with_pseudonyms

        kw = dict(signals=signals, annotations=annotations, mapping=mapping, units=units)
        kw |= dict(first_frame=first_frame, fps=fps, subject=subject, session=session, trial=trial)
        return with_pseudonyms(lambda tmp: import_generic(src, tmp, **kw), store, salt, [subject])
    sig_paths = [Path(p) for p in signals]
    video_path = None if src is None else Path(src)
    if video_path is not None and video_path.suffix.lower() in SIGNAL_SUFFIXES:
        sig_paths.insert(0, video_path)
        video_path = None
    for p in [*sig_paths, *([video_path] if video_path else [])]:
        if not p.exists():
            raise InputError("no such file or folder", file=str(p))
    if video_path is None and not sig_paths:
        raise InputError("nothing to import: give a video, an image folder or signal files")
    mapping = parse_mapping(mapping)
    with StoreWriter(
        store, dataset="generic", source=str((video_path or sig_paths[0]).absolute())
    ) as w:
        report = w.report
        sdir = w.session_dir(subject, session)
        clocks: dict[str, ClockMap] = {}
        frames = None
        video = None
        numbers: list[int | None] = []
        trial = trial or (video_path.stem if video_path is not None else "1")
        rate = None
        if video_path is not None:
            if video_path.is_dir():
                if not fps:
                    raise InputError("an image folder needs --fps", file=str(video_path))
                rate = float(fps)
                listed = image_folder(video_path)
                numbers = [n for n, _ in listed]
                paths = [p for _, p in listed]
                root = str(video_path.absolute())
            elif video_path.suffix.lower() in VIDEO_SUFFIXES:
                names, rate, size = extract_video(video_path, sdir / "video" / "frames", fps)
                paths, numbers = names, [i + first_frame for i in range(len(names))]
                root = "video/frames"
                report["quirks"].append(
                    {
                        "file": video_path.name,
                        "quirk": f"{len(names)} frames decoded to PNG in the store; "
                        f"frame k at k / {rate:g} s",
                    }
                )
            else:
                raise InputError(
                    f"not a video ({', '.join(VIDEO_SUFFIXES)}) or an image folder",
                    file=str(video_path),
                )
            n = len(paths)
            times = np.arange(n) / rate
            frames = pd.DataFrame(
                {
                    "trial": trial,
                    "frame": np.arange(n, dtype=np.int64),
                    "device_time_s": times,
                    "time_s": times,
                    "stamp": [str(x) if x is not None else str(i) for i, x in enumerate(numbers)],
                    "path": paths,
                }
            )
            video = {"frames_root": root, "fps": rate, "n_frames": n}
            clocks["video"] = ClockMap.identity()
        streams: dict[str, dict[str, Any]] = {}
        mk_rows = []
        taken = {"video"}
        lsl_devices: set[str] = set()
        for p in sig_paths:
            for s in read_signal_file(p, w, subject, session, taken, report):
                if p.suffix.lower() in (".xdf", ".xdfz"):
                    lsl_devices.add(s["name"])
                clock = s["clock"] or ClockMap.identity()
                clocks[s["name"]] = clock
                if s["meta"] is not None:
                    streams[s["name"]] = s["meta"]
                if s["markers"] is not None:
                    for code, t in zip(s["markers"]["code"], s["markers"]["time"], strict=True):
                        mk_rows.append((s["name"], int(code), float(t), clock.to_common(t)))
        # XDF streams share the LSL clock; the video and each other file have their own
        lsl = [p.name for p in sig_paths if p.suffix.lower() in (".xdf", ".xdfz")]
        apart = sorted(d for d in clocks if d not in lsl_devices)
        if len(apart) + bool(lsl) > 1:
            together = apart + ([f"the LSL streams of {', '.join(lsl)}"] if lsl else [])
            report["quirks"].append(
                {"quirk": f"no shared markers: {together} taken to start together at 0 s"}
            )
        reference = next(iter(streams), "video") if streams else "video"
        markers = pd.DataFrame(mk_rows, columns=["device", "code", "device_time_s", "time_s"])
        w.add_session(
            subject,
            session,
            clocks=clocks,
            reference=reference,
            markers=markers,
            streams=streams,
            frames=frames,
            video=video,
        )
        if frames is not None:
            stop = len(frames) / rate
        else:
            stop = max(
                float(clocks[k].to_common(_n_samples(w, subject, session, k) / m["sfreq"]))
                for k, m in streams.items()
            )
        w.add_trials(
            [
                {
                    "subject": subject,
                    "session": session,
                    "trial": trial,
                    "marker": pd.NA,
                    "category": pd.NA,
                    "start_s": 0.0,
                    "stop_s": stop,
                    "n_frames": 0 if frames is None else len(frames),
                    "video_start_s": 0.0 if frames is not None else np.nan,
                }
            ]
        )
        if annotations is not None:
            rows = read_annotation_rows(Path(annotations), mapping, report, units)
            w.add_annotations(
                _place(rows, numbers, rate, stop, subject, session, trial, units, report)
            )
    return Store(store)


def _n_samples(w: StoreWriter, subject: str, session: str, name: str) -> int:
    p = w.session_dir(subject, session) / "signals" / f"{name}.npy"
    return int(np.load(p, mmap_mode="r", allow_pickle=False).shape[0])


def _fix_seconds(
    row: SheetRow, secs: dict[str, float | None], report: dict[str, Any]
) -> tuple[list[float], list[str]]:
    """Onset/apex/offset seconds with a missing apex or offset fixed as for frames."""
    flags: list[str] = []
    on, ap, off = secs["onset"], secs["apex"], secs["offset"]
    if on is None:
        raise row.fail("onset missing")
    if off is None and ap is not None:
        off = ap
        flags.append("offset_from_apex")
        report["quirks"].append(
            {"file": row.file.name, "row": row.row, "quirk": "offset empty: apex used"}
        )
    if off is None:
        raise row.fail("offset missing (and no apex to use instead)")
    if ap is None:
        ap = (on + off) / 2
        flags.append("apex_estimated")
        report["quirks"].append(
            {
                "file": row.file.name,
                "row": row.row,
                "quirk": f"apex empty: estimated as the middle {ap:.3f} s of onset..offset",
            }
        )
    if not on <= ap <= off:
        raise row.fail(f"onset {on} s, apex {ap} s, offset {off} s out of order")
    return [on, ap, off], flags


def _place(
    rows: list[tuple[SheetRow, dict[str, float | None]]],
    numbers: list[int | None],
    rate: float | None,
    stop: float,
    subject: str,
    session: str,
    trial: str,
    units: str,
    report: dict[str, Any],
) -> pd.DataFrame:
    """Frame indices and times of the annotation rows on the single trial."""
    index = {n: i for i, n in enumerate(numbers) if n is not None}
    records = []
    for row, secs in rows:
        if units == "seconds":
            rel, flags = _fix_seconds(row, secs, report)
            idx = [int(round(t * rate)) if rate else None for t in rel]
        else:
            onset, apex, offset, flags = fix_row(row, report)
            idx = []
            for n, what in zip((onset, apex, offset), ("onset", "apex", "offset"), strict=True):
                if n not in index:
                    raise row.fail(f"{what} frame {n} is not a frame of the video")
                idx.append(index[n])
            rel = [i / rate for i in idx]
        if rel[2] > stop + 1e-9:
            raise row.fail(f"offset {rel[2]:.3f} s after the end of the recording ({stop:.3f} s)")
        try:
            aus = format_aus(parse_aus(row.aus))
            coder = normalize_type(row.type)
        except ValueError as exc:
            raise row.fail(str(exc)) from None
        emotion = normalize_emotion(row.emotion)
        if row.emotion is not None and emotion not in _EMOTION_SYNONYMS:
            flags.append("unknown_emotion")
        records.append(
            {
                "subject": subject,
                "session": session,
                "trial": trial,
                "onset_frame": idx[0],
                "apex_frame": idx[1],
                "offset_frame": idx[2],
                "onset_s": rel[0],
                "apex_s": rel[1],
                "offset_s": rel[2],
                "onset_rel_s": rel[0],
                "apex_rel_s": rel[1],
                "offset_rel_s": rel[2],
                "aus": aus,
                "emotion": emotion,
                "emotion_raw": None if row.emotion is None else cell_text(row.emotion),
                "type_coder": coder,
                "flags": ";".join(flags),
                "notes": "; ".join(row.notes) or None,
                "source": row.source,
            }
        )
    return make_annotations(records)
