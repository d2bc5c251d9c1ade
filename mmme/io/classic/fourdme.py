"""4DME (Li et al. 2022): the 2D grey-level clips of the 4D micro-expression set, 60 fps.

``4DME_Labelling_Micro_release v1.xlsx``: ``sub_ID, fold_name, Emotion, Onset, Apex, Offset,
AUs, ...``; frames ``gray_micro_crop/<sub_ID>/<fold_name>/N.jpg`` (every folder of frames below a
subject folder is a trial, coded or not). AU cells with static markers (``AU4(k)+L7``,
``AUR2+12(k)+45``) are read as written (``AU4(k)``). Combined emotions (``Surprise+Positive``)
are kept as their normalised parts (``surprise+positive``, no three-class label) and flagged
``combined_emotion``.
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
REQUIRED = ("subject", "filename", "onset", "apex", "offset")


def subject_dirs(subject: str) -> list[str]:
    """The ``sub_ID`` as written first; ``"1"`` / ``"sub01"`` also as ``sub01``, ``sub1``, ``1``."""
    raw = subject.strip()
    s = raw.lower().removeprefix("sub").strip("_")
    more = [f"sub{int(s):02d}", f"sub{int(s)}", s] if s.isdigit() else []
    return list(dict.fromkeys([raw, *more]))


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    sheet = pick_sheet(path, (), ALIASES, REQUIRED)
    return rows_from_header_sheet(path, report, ALIASES, REQUIRED, sheet=sheet)


FOURDME = ClassicFormat(
    dataset="4dme",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
    sheet_glob=("4dme_labelling*.xls*", "4dme*.xls*", "*.xlsx", "*.xls", "*.csv"),
)


import_4dme = classic_importer(FOURDME, "import_4dme", "4DME", __doc__, __name__)
