"""4DME (Li et al. 2022): the 2D grey-level clips of the 4D micro-expression set, 60 fps.

Sheet ``sub_ID, fold_name, Emotion, Onset, Apex, Offset, AUs`` (possibly more columns); frames in
a folder named ``fold_name`` below a subject folder (``sub01``) or anywhere below the root.
Multi-label emotions (``Negative+Surprise``) are kept as the raw label and flagged
``unknown_emotion``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmme.io.classic._base import ClassicFormat, SheetRow, classic_importer, rows_from_header_sheet

FPS = 60.0
ALIASES = {
    "subject": ("sub_ID", "Subject", "sub"),
    "filename": ("fold_name", "Filename", "folder"),
    "emotion": ("Emotion", "Estimated Emotion"),
    "onset": ("Onset", "Onset Frame"),
    "apex": ("Apex", "Apex Frame"),
    "offset": ("Offset", "Offset Frame"),
    "aus": ("AUs", "AU", "Action Units"),
    "type": ("Type", "Expression type"),
}


def subject_dirs(subject: str) -> list[str]:
    """``"1"`` / ``"sub01"`` -> ``["sub01", "sub1", "1"]``."""
    s = subject.strip().lower().removeprefix("sub").strip("_")
    return [f"sub{int(s):02d}", f"sub{int(s)}", s] if s.isdigit() else [subject]


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    rows = rows_from_header_sheet(
        path, report, ALIASES, ("subject", "filename", "onset", "apex", "offset")
    )
    for r in rows:
        r.subject = subject_dirs(r.subject)[0]
    return rows


FOURDME = ClassicFormat(
    dataset="4dme",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
)


import_4dme = classic_importer(FOURDME, "import_4dme", "4DME", __doc__, __name__)
