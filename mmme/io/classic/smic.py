"""SMIC-E (Li et al. 2013, extended clips), high-speed camera (HS) at 100 fps.

``SMIC-HS-E_annotation.xlsx``: ``Subject, Filename, OnsetF, OffsetF, TotalMF1, Onset2F, Offset2F,
TotalMF2, Onset3F, Offset3F, TotalMF3, Emotion, FirstF, LastF, TotalVL``: one row holds up to
three expressions (the second and third are sources ``file:row#2``, ``#3``); onset/offset are
numbered as the frame files, ``FirstF`` the number of the clip's first frame (sometimes text:
then unused, reported). Free-text rows below the table are reported, not read. Frames
``SMIC-HS-E/s01/s1_ne_01/image000123.jpg``; the subject is the clip name's prefix (``s01``);
listed clips absent from the release are skipped (listed). SMIC codes no apex: it is estimated as
the middle frame of onset..offset (flag ``apex_estimated``, reported once); frame files numbered
from another origin than ``FirstF`` are indexed relative to ``FirstF`` (reported).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mmme.io.classic._base import (
    ClassicFormat,
    SheetRow,
    classic_importer,
    pick_sheet,
    rows_from_header_sheet,
)

FPS = 100.0
ALIASES = {
    "subject": ("Subject",),
    "filename": ("Filename", "File name"),
    "onset": ("OnsetF", "Onset1F", "Onset Frame", "Onset"),
    "offset": ("OffsetF", "Offset1F", "Offset Frame", "Offset"),
    "onset2": ("Onset2F",),
    "offset2": ("Offset2F",),
    "onset3": ("Onset3F",),
    "offset3": ("Offset3F",),
    "emotion": ("Emotion", "Estimated Emotion"),
    "first_frame": ("FirstF", "First Frame"),
}
REQUIRED = ("subject", "filename", "onset", "offset")
EXTRA = (("onset2", "offset2", "2nd expression"), ("onset3", "offset3", "3rd expression"))


def subject_dirs(subject: str) -> list[str]:
    """``"1"`` / ``"s1"`` / ``"s01"`` -> ``["s01", "s1"]``."""
    s = subject.strip().lower().removeprefix("s")
    return [f"s{int(s):02d}", f"s{int(s)}"] if s.isdigit() else [subject]


def clip_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(..., "s01", "s1_ne_01")`` -> ``("s01", "s1_ne_01")``: the subject folder holding the
    clip, else the clip name's prefix (``s01``)."""
    m = re.match(r"s(\d+)_", parts[-1], re.IGNORECASE)
    if not m:
        return None
    n = int(m.group(1))
    parent = parts[-2] if len(parts) >= 2 else ""
    p = re.fullmatch(r"s(\d+)", parent, re.IGNORECASE)
    return (parent if p and int(p.group(1)) == n else f"s{n:02d}"), parts[-1]


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    sheet = pick_sheet(path, (), ALIASES, REQUIRED)
    rows = rows_from_header_sheet(path, report, ALIASES, REQUIRED, sheet=sheet, extra=EXTRA)
    report["quirks"].append(
        {
            "file": path.name,
            "quirk": "no apex column: the apex of every expression estimated as the middle frame "
            "of onset..offset (flag apex_estimated)",
        }
    )
    return rows


SMIC_E = ClassicFormat(
    dataset="smic-e",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
    sheet_glob=("smic*annotation*.xls*", "smic*.xls*", "*.xlsx", "*.xls", "*.csv"),
    clip_id=clip_id,
    anywhere=True,
)


import_smic_e = classic_importer(SMIC_E, "import_smic_e", "SMIC-E", __doc__, __name__)
