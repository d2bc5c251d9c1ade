"""MMEW (Ben et al. 2021): micro-expression clips at 90 fps, 1920x1080.

``MMEW_Micro_Exp.xlsx``: ``Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Action Units,
Estimated Emotion, remarks`` (remarks kept in the notes); frames
``Micro_Expression/<emotion>/S13-07-001/1.jpg``: clip folders are grouped by emotion, not by
subject, and are found by name anywhere below the micro release; the subject is the clip name's
prefix (``S13``). The macro-expression clips (``Macro_Expression/S01/anger/...``) are another
release (``release="macro"``), not read by default. Repairs: a wrong apex (outside onset..offset:
estimated, ``apex_out_of_range``) or an offset beyond the clip (clamped, ``frame_clamped``).
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

FPS = 90.0
ALIASES = {
    "subject": ("Subject",),
    "filename": ("Filename", "File name"),
    "onset": ("OnsetFrame", "Onset Frame", "Onset"),
    "apex": ("ApexFrame", "Apex Frame", "Apex"),
    "offset": ("OffsetFrame", "Offset Frame", "Offset"),
    "aus": ("Action Units", "AU", "AUs"),
    "emotion": ("Estimated Emotion", "Emotion"),
    "notes": ("remarks", "remark", "Notes"),
}
REQUIRED = ("subject", "filename", "onset", "apex", "offset")
RELEASES = {"micro": ("micro_expression*",), "macro": ("macro_expression*",)}


def subject_dirs(subject: str) -> list[str]:
    """``"13"`` / ``"S13"`` -> ``["S13"]``."""
    s = subject.strip().upper().removeprefix("S")
    return [f"S{int(s):02d}"] if s.isdigit() else [subject.strip()]


def clip_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(..., "happiness", "S13-07-001")`` -> ``("S13", "S13-07-001")``; a macro clip
    ``("Macro_Expression", "S01", "anger")`` -> ``("S01", "anger")``."""
    m = re.match(r"s(\d+)[-_]", parts[-1], re.IGNORECASE)
    if m:
        return f"S{int(m.group(1)):02d}", parts[-1]
    p = re.fullmatch(r"s(\d+)", parts[-2], re.IGNORECASE) if len(parts) >= 2 else None
    return (f"S{int(p.group(1)):02d}", parts[-1]) if p else None


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    sheet = pick_sheet(path, (), ALIASES, REQUIRED)
    return rows_from_header_sheet(path, report, ALIASES, REQUIRED, sheet=sheet)


MMEW = ClassicFormat(
    dataset="mmew",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
    sheet_glob=("mmew_micro*.xls*", "mmew*.xls*", "*.xlsx", "*.xls", "*.csv"),
    clip_id=clip_id,
    anywhere=True,
    releases=RELEASES,
    default_release="micro",
)


import_mmew = classic_importer(MMEW, "import_mmew", "MMEW", __doc__, __name__)
