"""CAS(ME)^3 (Li et al. 2022) part A, colour frames at 30 fps.

Two workbooks. ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx`` (sheets ``label``, ``Sheet1``,
``Sheet3``; header ``Subject, Filename, Onset, Apex, Offset, AU, Objective class, emotion``;
frame numbers are the jpg indices; every cell stored as text) is read by default;
``CAS(ME)3_part_A_v2.xls`` (legacy ``.xls``, sheets ``AU+Emotion`` and ``eye blink``; adds
``Expression type``) with ``sheet``. Frames ``part_A/spNO.1/a/color/N.jpg`` (the depth frames
beside ``color`` are not read); the trial is the clip folder (``a``; a capital ``J`` in the sheet
finds folder ``j``), every clip folder is a trial, coded or not. AU cells with letter prefixes
(``T28+14``, ``B28``) are read as written. Repairs: apex before onset or after offset (estimated,
``apex_out_of_range``), offset ``0`` (the apex, ``offset_from_apex``), apex equal to the onset
(kept, ``apex_equals_onset``); damaged images (the repository lists some) are listed, not read.
Part C (mock crime, with physiology) is :mod:`mmme.io.classic.casme_3c`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmme.io.classic._base import (
    ClassicFormat,
    SheetRow,
    classic_importer,
    pick_sheet,
    rows_from_header_sheet,
)

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
    "type": ("Expression type", "Type"),
}
REQUIRED = ("subject", "filename", "onset", "apex", "offset")
#: Offset 0: not coded, the apex is used.
SENTINELS = {"offset": (0,)}


def subject_dirs(subject: str) -> list[str]:
    """``"spNO.1"`` -> ``["spNO.1"]``; ``"1"`` -> ``["spNO.1"]``."""
    s = subject.strip()
    return [f"spNO.{int(s)}"] if s.isdigit() else [s]


def clip_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(..., "spNO.1", "a", "color")`` -> ``("spNO.1", "a")``."""
    if len(parts) >= 3 and parts[-1].lower() in ("color", "colour", "rgb"):
        return parts[-3], parts[-2]
    return None


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    sheet = pick_sheet(path, ("label", "AU+Emotion"), ALIASES, REQUIRED)
    return rows_from_header_sheet(
        path,
        report,
        ALIASES,
        REQUIRED,
        sentinels=SENTINELS,
        note_fields=("objective_class",),
        sheet=sheet,
    )


CASME_3 = ClassicFormat(
    dataset="cas-me-3",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename, "color"), (row.filename, "colour")],
    default_type="ME",
    sheet_glob=("*jpgindex*.xlsx", "*part_a*label*.xls*", "*part_a*.xls*", "*.xlsx", "*.xls"),
    clip_id=clip_id,
)


import_casme3 = classic_importer(CASME_3, "import_casme3", "CAS(ME)^3 part A", __doc__, __name__)
