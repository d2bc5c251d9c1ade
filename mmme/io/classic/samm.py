"""SAMM (Davison et al. 2018) clips and SAMM long videos (SAMM-LV, Yap et al. 2020), 200 fps.

Clips: sheet with a preamble whose length varies by release, header ``Subject, Filename,
Inducement Code, Onset Frame, Apex Frame, Offset Frame, Duration, Type, Action Units, Estimated
Emotion, Objective Classes, Notes``; frames ``006/006_1_2/006_05562.jpg`` numbered as in the long
video. Long videos: ~10 preamble rows, ``Type`` ``"Micro - 1/2"`` or ``"Macro"``, ``Filename``
``006_1_3`` (video ``006_1``, event 3), frames ``006_1/006_1_0001.jpg``. Quirks fixed: the header
row found wherever it is, ``-1`` apex/offset cells (not coded): apex estimated as the middle
frame, offset taken from the apex; subject ``6`` for folder ``006``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mmme.io.classic._base import ClassicFormat, SheetRow, classic_importer, rows_from_header_sheet

FPS = 200.0
ALIASES = {
    "subject": ("Subject",),
    "filename": ("Filename", "File name"),
    "inducement": ("Inducement Code",),
    "onset": ("Onset Frame", "OnsetFrame", "Onset"),
    "apex": ("Apex Frame", "ApexFrame", "Apex"),
    "offset": ("Offset Frame", "OffsetFrame", "Offset"),
    "type": ("Type",),
    "aus": ("Action Units", "AU", "AUs"),
    "emotion": ("Estimated Emotion", "Emotion"),
    "objective_class": ("Objective Classes", "Objective Class"),
    "notes": ("Notes",),
}
#: SAMM writes -1 for a frame that was not coded.
SENTINELS = {"apex": (-1,), "offset": (-1,)}
_REQUIRED = ("subject", "filename", "onset", "apex", "offset")


def subject_dirs(subject: str) -> list[str]:
    """``"6"`` -> ``["006", "6"]``."""
    s = subject.strip()
    return [f"{int(s):03d}", s] if s.isdigit() else [s]


def long_video_parts(row: SheetRow) -> list[tuple[str, ...]]:
    """``006_1_3`` -> the folder itself, then ``006_1`` (its video)."""
    out, name = [(row.filename,)], row.filename
    while re.search(r"_\d+$", name):
        name = re.sub(r"_\d+$", "", name)
        if "_" in name:
            out.append((name,))
    return out


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    return rows_from_header_sheet(
        path,
        report,
        ALIASES,
        _REQUIRED,
        sentinels=SENTINELS,
        note_fields=("objective_class", "inducement"),
    )


SAMM = ClassicFormat(
    dataset="samm",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
)
SAMM_LV = ClassicFormat(
    dataset="samm-lv",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=long_video_parts,
    default_type=None,  # the Type column; else the ME rule
)


import_samm = classic_importer(SAMM, "import_samm", "the SAMM clips", __doc__, __name__)
import_samm_lv = classic_importer(
    SAMM_LV, "import_samm_lv", "the SAMM long videos", __doc__, __name__
)
