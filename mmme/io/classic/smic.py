"""SMIC-E (Li et al. 2013, extended clips), high-speed camera (HS) at 100 fps.

Sheet ``Subject, Filename, OnsetF, OffsetF, Emotion, FirstF``: onset/offset numbered as the frame
files, ``FirstF`` the number of the clip's first frame; emotion negative/positive/surprise.
Frames ``HS/s1/s1_ne_01/image0012345.bmp`` (any depth). Quirks fixed: SMIC codes no apex, so the
apex is estimated as the middle frame of onset..offset and flagged ``apex_estimated``; frame files
numbered from another origin than ``FirstF`` are indexed relative to ``FirstF`` (reported).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmme.io.classic._base import ClassicFormat, SheetRow, classic_importer, rows_from_header_sheet

FPS = 100.0
ALIASES = {
    "subject": ("Subject",),
    "filename": ("Filename", "File name"),
    "onset": ("OnsetF", "Onset Frame", "Onset"),
    "offset": ("OffsetF", "Offset Frame", "Offset"),
    "emotion": ("Emotion", "Estimated Emotion"),
    "first_frame": ("FirstF", "First Frame"),
}


def subject_dirs(subject: str) -> list[str]:
    """``"1"`` / ``"s1"`` / ``"s01"`` -> ``["s1", "s01"]``."""
    s = subject.strip().lower().removeprefix("s")
    return [f"s{int(s)}", f"s{int(s):02d}"] if s.isdigit() else [subject]


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    rows = rows_from_header_sheet(path, report, ALIASES, ("subject", "filename", "onset", "offset"))
    for r in rows:
        r.subject = subject_dirs(r.subject)[0]
    return rows


SMIC_E = ClassicFormat(
    dataset="smic-e",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
)


import_smic_e = classic_importer(SMIC_E, "import_smic_e", "SMIC-E", __doc__, __name__)
