"""CAS(ME)^3 (Li et al. 2022) part C: the mock-crime task, face video at 30 fps + physiology.

``CAS(ME)3_part_C_ME.xlsx``, sheet ``mockCrimeME``: ``sub, count, onset, offset, au, emotion``
(no Filename, no apex: the apex is estimated as the middle frame, flag ``apex_estimated``,
reported once; ``count`` is kept in the notes). Each subject has one video, the trial
``mock_crime``: frames ``<sub>/color/N.jpg`` (or ``<sub>/N.jpg``). Physiology: one tab-separated
text file per subject at 200 Hz (in the subject's folder, or named after the subject anywhere
below the root), columns ``time, PPG, RSP, ECG, EDA`` and a sixth column whose first value 5
marks the video start: sample ``s0 + frame / 30 * 200`` is recorded with video frame ``frame``.
The physiology is written as stream ``physio`` on the video's clock (common time 0 = the video
start), so ``mmme physio`` and the fusion stages run on it. A subject without a physiology file,
without the mark, or whose file holds a value that is not a number (named by row and channel) keeps
its video and is listed under ``skipped``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.store import StoreWriter
from mmme.data.sync import ClockMap
from mmme.errors import InputError
from mmme.io.classic._base import (
    ClassicFormat,
    SheetRow,
    classic_importer,
    pick_sheet,
    rows_from_header_sheet,
)

FPS = 30.0
#: Sampling rate of the physiology text files.
PHYSIO_SFREQ = 200.0
#: Columns 2-5 of the physiology files; column 1 is the time, column 6 the marks.
CHANNELS = ("PPG", "RSP", "ECG", "EDA")
#: The value in the sixth column that marks the video start.
VIDEO_START_MARK = 5
TRIAL = "mock_crime"
ALIASES = {
    "subject": ("sub", "Subject"),
    "count": ("count",),
    "onset": ("onset", "Onset Frame"),
    "offset": ("offset", "Offset Frame"),
    "aus": ("au", "AUs", "Action Units"),
    "emotion": ("emotion", "Estimated Emotion"),
}
REQUIRED = ("subject", "onset", "offset")
_CHUNK = 60_000  # rows of a physiology file read at a time (5 min at 200 Hz)


def clip_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``("sub01", "color")`` or ``("sub01",)`` -> ``("sub01", "mock_crime")``."""
    last = parts[-1].lower()
    if last in ("color", "colour", "rgb"):
        return (parts[-2], TRIAL) if len(parts) >= 2 else None
    if last in ("depth", "ir", "infrared") or len(parts) > 2:
        return None
    return parts[-1], TRIAL


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    sheet = pick_sheet(path, ("mockCrimeME",), ALIASES, REQUIRED)
    rows = rows_from_header_sheet(
        path, report, {**ALIASES, "filename": ("sub", "Subject")}, REQUIRED, sheet=sheet,
        note_fields=("count",),
    )  # fmt: skip
    for r in rows:  # no Filename column: every row is on the subject's one video
        r.filename = TRIAL
        r.clip_parts = [("color",), ("colour",), ()]
    report["quirks"].append(
        {
            "file": path.name,
            "quirk": "no apex column: the apex of every expression estimated as the middle frame "
            "of onset..offset (flag apex_estimated)",
        }
    )
    return rows


def find_physio_file(root: Path, subject: str, folders: list[tuple[str, Path]]) -> list[Path]:
    """The physiology text files of a subject: ``.txt`` files in its folder, else those below the
    root named after it (``sub01.txt``, ``sub01_physio.txt``)."""
    subj_dirs = {(root / rel).parent if rel.name.lower() in ("color", "colour", "rgb")
                 else root / rel for _, rel in folders}  # fmt: skip
    inside = sorted(p for d in subj_dirs for p in d.glob("*.txt"))
    if inside:
        return inside
    pat = re.compile(rf"{re.escape(subject.lower())}(?:[^0-9a-z].*)?", re.IGNORECASE)
    return sorted(p for p in root.rglob("*.txt") if pat.fullmatch(p.stem.lower()))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_physio(
    path: Path, w: StoreWriter, subject: str
) -> tuple[int, int, bool]:
    """Copy a physiology text file chunk by chunk into the stream ``physio``.

    Returns
    -------
    n_samples : int
    start_sample : int
        Index of the first sample whose sixth column is the video-start mark, -1 if none.
    header : bool
        Whether the first line was a header.

    Raises
    ------
    InputError
        Naming file, row and channel of a value that is not a number, or a row with fewer than six
        columns.
    """
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline().rstrip("\n").split("\t")
        n = sum(1 for line in fh if line.strip()) + 1
    header = not all(_is_number(x) for x in first[:6] if x.strip())
    n -= header
    mm = w.signal_file(subject, "1", "physio", n, len(CHANNELS))
    start, done = -1, 0
    reader = pd.read_csv(path, sep="\t", header=None, skiprows=int(header), dtype=str,
                         chunksize=_CHUNK, skip_blank_lines=True)  # fmt: skip
    for chunk in reader:
        if chunk.shape[1] < 6:
            raise InputError(
                f"{chunk.shape[1]} column(s), expected 6 (time, {', '.join(CHANNELS)}, mark)",
                file=str(path),
                row=done + 1 + int(header),
            )
        vals = chunk.iloc[:, :6].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        bad = np.argwhere(~np.isfinite(vals[:, 1:5]))
        if len(bad):
            r, j = bad[0]
            raise InputError(
                f"not a number: {chunk.iat[int(r), int(j) + 1]!r}",
                file=str(path),
                row=done + int(r) + 1 + int(header),
                channel=CHANNELS[int(j)],
            )
        mm[done : done + len(vals)] = vals[:, 1:5]
        if start < 0:
            hit = np.flatnonzero(vals[:, 5] == VIDEO_START_MARK)
            if len(hit):
                start = done + int(hit[0])
        done += len(vals)
    if done != n:  # a line pandas read differently from the count (stray quotes)
        raise InputError(f"{done} rows read, {n} lines counted", file=str(path))
    mm.flush()
    del mm
    return done, start, header


def physio(
    root: Path,
    subject: str,
    folders: list[tuple[str, Path]],
    w: StoreWriter,
    report: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, ClockMap], pd.DataFrame] | None:
    """The physiology of one subject on the video's clock: ``(streams, clocks, markers)``, or
    ``None`` (listed under ``skipped``) without a file or a video-start mark."""
    files = find_physio_file(root, subject, folders)
    if len(files) != 1:
        why = "no physiology file" if not files else (
            f"several physiology files {[str(p.relative_to(root)) for p in files]}")
        report["skipped"].append({"subject": subject, "file": subject,
                                  "reason": f"{why}: video imported without physiology"})
        return None  # fmt: skip
    path = files[0]
    npy = w.session_dir(subject, "1") / "signals" / "physio.npy"
    try:
        n, start, _ = read_physio(path, w, subject)
    except InputError as exc:  # one bad file leaves its subject without physiology, listed
        npy.unlink(missing_ok=True)
        report["skipped"].append({"subject": subject, "file": str(path.relative_to(root)),
                                  "reason": f"{exc}: physiology not imported"})  # fmt: skip
        return None
    if start < 0:
        npy.unlink()
        report["skipped"].append(
            {
                "subject": subject,
                "file": str(path.relative_to(root)),
                "reason": f"no video-start mark (value {VIDEO_START_MARK} in the sixth column): "
                "physiology not imported",
            }
        )
        return None
    t_mark = start / PHYSIO_SFREQ
    # common time = video time: the marked sample is video frame 0
    clock = ClockMap(offset=-t_mark, scale=1.0, n_markers=1)
    report["sync"].append(
        {
            "subject": subject,
            "device": "physio",
            "file": str(path.relative_to(root)),
            "detail": f"video start at sample {start} ({t_mark:.3f} s) of {n}; sample = "
            f"{start} + frame / {FPS:g} * {PHYSIO_SFREQ:g}",
        }
    )
    stream = {
        "ch_names": list(CHANNELS),
        "units": [""] * len(CHANNELS),
        "sfreq": PHYSIO_SFREQ,
        "device": "physio",
        "kind": "physio",
        "source": str(path.relative_to(root)),
    }
    markers = pd.DataFrame(
        {
            "device": pd.Series(["physio"], dtype="string"),
            "code": pd.Series([VIDEO_START_MARK], dtype="int64"),
            "device_time_s": [t_mark],
            "time_s": [0.0],
        }
    )
    return {"physio": stream}, {"physio": clock}, markers


CASME_3C = ClassicFormat(
    dataset="cas-me-3-c",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=lambda s: [s.strip()],
    clip_parts=lambda row: [("color",), ()],
    default_type="ME",
    sheet_glob=("*part_c*.xls*", "*.xlsx", "*.xls"),
    clip_id=clip_id,
    physio=physio,
)


import_casme3_c = classic_importer(
    CASME_3C, "import_casme3_c", "CAS(ME)^3 part C (face + physiology)", __doc__, __name__
)
