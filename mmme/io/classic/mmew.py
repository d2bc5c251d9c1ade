"""MMEW (Ben et al. 2021): micro-expression clips at 90 fps, 1920x1080.

Sheet ``Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, AU, Estimated Emotion`` (spelling
varies); frames ``Micro_Expression/<emotion>/<Filename>/N.jpg``: clip folders are grouped by
emotion, not by subject, and are found by name anywhere below the root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmme.io.classic._base import ClassicFormat, SheetRow, classic_importer, rows_from_header_sheet

FPS = 90.0
ALIASES = {
    "subject": ("Subject",),
    "filename": ("Filename", "File name"),
    "onset": ("OnsetFrame", "Onset Frame", "Onset"),
    "apex": ("ApexFrame", "Apex Frame", "Apex"),
    "offset": ("OffsetFrame", "Offset Frame", "Offset"),
    "aus": ("AU", "AUs", "Action Units"),
    "emotion": ("Estimated Emotion", "Emotion"),
}


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    return rows_from_header_sheet(
        path, report, ALIASES, ("subject", "filename", "onset", "apex", "offset")
    )


MMEW = ClassicFormat(
    dataset="mmew",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=lambda s: [s.strip()],
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
)


import_mmew = classic_importer(MMEW, "import_mmew", "MMEW", __doc__, __name__)
