"""CASME II (Yan et al. 2014): 255 micro-expression clips of 26 subjects at 200 fps.

Sheet ``CASME2-coding-20140508.xlsx``, header on row 1: ``Subject, Filename, (blank), OnsetFrame,
ApexFrame, OffsetFrame, (blank), Action Units, Estimated Emotion``; Subject an integer (``1`` for
folder ``sub01``). Two releases, chosen with ``release``: ``raw``
(``CASME2_RAW_selected/sub01/EP02_01f/img46.jpg``) and ``cropped``
(``Cropped/sub01/EP02_01f/reg_img46.jpg``); ``N`` in the file name is the number the sheet's frame
columns use. A tree holding both needs the choice. Repairs: apex ``/`` (21 rows: estimated as the
middle frame, ``apex_estimated``); offset ``0`` (the apex, ``offset_from_apex``); an offset beyond
the clip's last frame (clamped, ``frame_clamped``). The offset the field's loaders correct by hand
is repaired by these rules when it lies beyond the clip or is 0; one before its onset is skipped
(listed).
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

FPS = 200.0
ALIASES = {
    "subject": ("Subject",),
    "filename": ("Filename", "File name"),
    "onset": ("OnsetFrame", "Onset Frame", "Onset"),
    "apex": ("ApexFrame", "Apex Frame", "Apex"),
    "offset": ("OffsetFrame", "Offset Frame", "Offset"),
    "aus": ("Action Units", "AU", "AUs"),
    "emotion": ("Estimated Emotion", "Emotion"),
}
REQUIRED = ("subject", "filename", "onset", "apex", "offset")
#: Frames are numbered from 1 (or later): an offset 0 was not coded, the apex is used.
SENTINELS = {"offset": (0,)}
RELEASES = {
    "raw": ("casme2_raw*", "casme2-raw*", "casme_ii_raw*", "raw*"),
    "cropped": ("cropped*", "casme2_cropped*", "casme2-cropped*", "casme_ii_cropped*"),
}


def subject_dirs(subject: str) -> list[str]:
    """``"1"`` / ``"01"`` / ``"sub01"`` -> ``["sub01", "sub1"]``."""
    s = subject.strip().lower().removeprefix("sub")
    return [f"sub{int(s):02d}", f"sub{int(s)}"] if s.isdigit() else [subject]


def clip_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(..., "sub01", "EP02_01f")`` -> ``("sub01", "EP02_01f")``."""
    if len(parts) >= 2 and re.fullmatch(r"sub\d+", parts[-2], re.IGNORECASE):
        return parts[-2], parts[-1]
    return None


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    sheet = pick_sheet(path, (), ALIASES, REQUIRED)
    return rows_from_header_sheet(
        path, report, ALIASES, REQUIRED, sentinels=SENTINELS, sheet=sheet
    )


CASME2 = ClassicFormat(
    dataset="casme-ii",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
    sheet_glob=("casme2-coding*.xls*", "*coding*.xls*", "*.xlsx", "*.xls", "*.csv"),
    clip_id=clip_id,
    releases=RELEASES,
)


import_casme2 = classic_importer(CASME2, "import_casme2", "CASME II", __doc__, __name__)
