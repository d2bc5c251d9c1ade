"""CAS(ME)^3 (Li et al. 2022) parts A and C, colour frames at 30 fps.

Part A sheet ``Subject, Filename, Onset, Apex, Offset, AU, Objective class, emotion``; frames
``spNO.1/b/color/N.jpg`` (the depth frames beside ``color`` are not read). Part C's sheet uses the
same columns (spelling and case vary); its frames ``<subject>/<clip>/[color/]N.jpg``. The trial is
the clip folder (``b``). Quirks fixed: rows whose apex equals the onset are kept and flagged
``apex_equals_onset`` (reported); empty apex cells are estimated (flagged ``apex_estimated``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmme.io.classic._base import ClassicFormat, SheetRow, classic_importer, rows_from_header_sheet

FPS = 30.0
ALIASES = {
    "subject": ("Subject", "sub", "subject_id"),
    "filename": ("Filename", "File name", "clip", "video"),
    "onset": ("Onset", "Onset Frame", "OnsetFrame"),
    "apex": ("Apex", "Apex Frame", "ApexFrame"),
    "offset": ("Offset", "Offset Frame", "OffsetFrame"),
    "aus": ("AU", "AUs", "Action Units"),
    "objective_class": ("Objective class", "Objective classes"),
    "emotion": ("emotion", "Estimated Emotion"),
    "type": ("Type", "Expression type"),
}


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    return rows_from_header_sheet(
        path,
        report,
        ALIASES,
        ("subject", "filename", "onset", "apex", "offset"),
        note_fields=("objective_class",),
    )


CASME_3 = ClassicFormat(
    dataset="cas-me-3",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=lambda s: [s.strip()],
    clip_parts=lambda row: [(row.filename, "color"), (row.filename,)],
    default_type="ME",
)


import_casme3 = classic_importer(
    CASME_3, "import_casme3", "CAS(ME)^3 (part A or C)", __doc__, __name__
)
