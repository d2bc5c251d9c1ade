"""CASME II (Yan et al. 2014): 255 micro-expression clips of 26 subjects at 200 fps.

Sheet ``CASME2-coding-*.xlsx``: ``Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame,
Action Units, Estimated Emotion``; frames ``subXX/EPxx_xx/imgN.jpg`` (``reg_imgN.jpg`` in the
cropped release), ``N`` the number the sheet's frame columns use. Quirks fixed: apex cells that are
``"/"`` or empty (apex estimated as the middle frame, flagged ``apex_estimated``), subject given as
``1`` for folder ``sub01``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmme.io.classic._base import ClassicFormat, SheetRow, classic_importer, rows_from_header_sheet

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


def subject_dirs(subject: str) -> list[str]:
    """``"1"`` / ``"01"`` / ``"sub01"`` -> ``["sub01", "sub1"]``."""
    s = subject.strip().lower().removeprefix("sub")
    return [f"sub{int(s):02d}", f"sub{int(s)}"] if s.isdigit() else [subject]


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    return rows_from_header_sheet(
        path, report, ALIASES, ("subject", "filename", "onset", "apex", "offset")
    )


CASME2 = ClassicFormat(
    dataset="casme-ii",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
    sheet_glob=("*.xlsx", "*.xls", "*.csv"),
)


import_casme2 = classic_importer(CASME2, "import_casme2", "CASME II", __doc__, __name__)
