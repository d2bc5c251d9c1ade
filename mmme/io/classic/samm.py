"""SAMM (Davison et al. 2018) clips and SAMM long videos (SAMM-LV, Yap et al. 2020), 200 fps.

Clips: ``SAMM_Micro_FACS_Codes_v2.xlsx``, 13 preamble rows, header on row 14: ``Subject, Filename,
Inducement Code, Onset Frame, Apex Frame, Offset Frame, Duration, Micro, Action Units, Estimated
Emotion, Objective Classes, Notes``; frames ``006/006_1_2/006_05562.jpg`` numbered as in the long
video; subject ``6`` for folder ``006``; the ``Micro`` column is the coders' type. Long videos:
``SAMM_LongVideos_V3_Release.xlsx``, header on row 10: ``Subject, Filename, Inducement Code,
Onset, Apex, Offset, Duration, Type, Action Units, Notes``; ``Type`` ``"Micro - 1/2"`` or
``"Macro"``; ``Filename`` ``006_1_3`` (video ``006_1``, event 3); frames
``006_1/006_1_0001.jpg``; every video folder is a trial, coded or not. Repairs: AU cells with
alternatives (``R12 or R15``: kept joined by ``|``, ``au_alternatives``); apex outside
onset..offset (estimated, ``apex_out_of_range``); ``-1`` apex/offset cells (not coded: apex
estimated, offset from the apex). Emotions ``Other`` and ``Others`` are one label.
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
    "inducement": ("Inducement Code",),
    "onset": ("Onset Frame", "OnsetFrame", "Onset"),
    "apex": ("Apex Frame", "ApexFrame", "Apex"),
    "offset": ("Offset Frame", "OffsetFrame", "Offset"),
    "type": ("Micro", "Type"),
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


def clip_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(..., "006", "006_1_2")`` -> ``("006", "006_1_2")``."""
    m = re.fullmatch(r"(\d+)_\d+_\d+", parts[-1])
    return (m.group(1), parts[-1]) if m else None


def video_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(..., "006_1")`` -> ``("006", "006_1")``."""
    m = re.fullmatch(r"(\d+)_\d+", parts[-1])
    return (m.group(1), parts[-1]) if m else None


def long_video_parts(row: SheetRow) -> list[tuple[str, ...]]:
    """``006_1_3`` -> the folder itself, then ``006_1`` (its video)."""
    out, name = [(row.filename,)], row.filename
    while re.search(r"_\d+$", name):
        name = re.sub(r"_\d+$", "", name)
        if "_" in name:
            out.append((name,))
    return out


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    sheet = pick_sheet(path, (), ALIASES, _REQUIRED)
    return rows_from_header_sheet(
        path,
        report,
        ALIASES,
        _REQUIRED,
        sentinels=SENTINELS,
        note_fields=("objective_class", "inducement"),
        sheet=sheet,
    )


SAMM = ClassicFormat(
    dataset="samm",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=lambda row: [(row.filename,)],
    default_type="ME",
    sheet_glob=("samm_micro*.xls*", "*facs*.xls*", "*.xlsx", "*.xls", "*.csv"),
    clip_id=clip_id,
)
SAMM_LV = ClassicFormat(
    dataset="samm-lv",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=subject_dirs,
    clip_parts=long_video_parts,
    default_type=None,  # the Type column; else the ME rule
    sheet_glob=("samm_longvideos*.xls*", "*long*.xls*", "*.xlsx", "*.xls", "*.csv"),
    clip_id=video_id,
    anywhere=True,
)


import_samm = classic_importer(SAMM, "import_samm", "the SAMM clips", __doc__, __name__)
import_samm_lv = classic_importer(
    SAMM_LV, "import_samm_lv", "the SAMM long videos", __doc__, __name__
)
