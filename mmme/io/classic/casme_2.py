"""CAS(ME)^2 (Qu et al. 2018): long videos with macro- and micro-expressions at 30 fps.

``CAS(ME)^2code_final.xlsx``: a headerless first sheet, one row per expression, columns
``subject, video, onset, apex, offset, AU, emotion, type, selfReport`` (``video`` like
``anger1_1``: clip name, then the expression's number), plus id-mapping sheets: one pairing clip
names with the 4-digit clip codes of the folder names (``anger1`` - ``0401``), one pairing the
sheet's subject numbers with the folder numbers (``1`` - ``15``). Frames
``rawpic/s15/15_0401girlcrashing/imgN.jpg``.

Quirks fixed: offset ``0`` means "use the apex" (flagged ``offset_from_apex``); codes that lost
their leading zero in Excel (``401``) are padded. Which column of the subject mapping holds the
sheet's numbers is inferred (the one holding all of them; the smaller numbers if both do).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from mmme.errors import InputError
from mmme.io.classic._base import (
    ClassicFormat,
    SheetRow,
    cell_text,
    classic_importer,
    frame_cell,
    is_empty,
    read_raw_sheet,
    sheet_names,
)

FPS = 30.0
COLUMNS = ("subject", "video", "onset", "apex", "offset", "aus", "emotion", "type", "self_report")
#: CAS(ME)^2 writes offset 0 when the offset was not coded: the apex is used.
SENTINELS = {"offset": (0,)}


def _number(v: Any) -> int | None:
    s = cell_text(v).lower().removeprefix("s")
    return int(s) if s.isdigit() else None


def _is_main(cells: pd.DataFrame) -> bool:
    if cells.shape[1] < 5 or not len(cells):
        return False
    first = cells.iloc[0]
    return all(_number(first.iloc[j]) is not None for j in (0, 2, 3, 4))


def read_mappings(
    path: Path, names: list[str], subjects: set[int]
) -> tuple[dict[str, str], dict[int, int]]:
    """Clip name -> 4-digit code, and sheet subject -> folder number, from the mapping sheets."""
    clips: dict[str, str] = {}
    pairs: list[tuple[int, int]] = []
    for name in names:
        cells = read_raw_sheet(path, name)
        if _is_main(cells) or cells.shape[1] < 2:
            continue
        for _, r in cells.iterrows():
            vals = [v for v in r.tolist() if not is_empty(v)]
            if len(vals) < 2:
                continue
            a, b = cell_text(vals[0]), cell_text(vals[1])
            na, nb = _number(a), _number(b)
            if na is not None and nb is not None:
                pairs.append((na, nb))
            elif na is not None and re.fullmatch(r"[A-Za-z]+\d*", b):
                clips[b.lower()] = f"{na:04d}"
            elif nb is not None and re.fullmatch(r"[A-Za-z]+\d*", a):
                clips[a.lower()] = f"{nb:04d}"
    col_a = {a for a, _ in pairs}
    col_b = {b for _, b in pairs}
    a_keys = subjects <= col_a
    b_keys = subjects <= col_b
    if a_keys and b_keys:
        a_keys = sum(col_a) <= sum(col_b)
    smap = {a: b for a, b in pairs} if a_keys else {b: a for a, b in pairs} if b_keys else {}
    return clips, smap


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    """Rows of the headerless main sheet, with clip and subject folders from the mapping sheets."""
    names = sheet_names(path)
    main = None
    for name in names:
        cells = read_raw_sheet(path, name)
        if _is_main(cells):
            main, main_name = cells, name
            break
    if main is None:
        raise InputError(
            "no sheet with rows 'subject, video, onset, apex, offset, ...' (numbers in columns "
            "1, 3, 4, 5)",
            file=str(path),
        )
    if main.shape[1] < 7:
        raise InputError(
            f"main sheet has {main.shape[1]} columns, expected at least 7 ({', '.join(COLUMNS)})",
            file=str(path),
            sheet=main_name,
        )
    subjects = {n for n in (_number(v) for v in main.iloc[:, 0]) if n is not None}
    clip_codes, smap = read_mappings(path, [n for n in names if n != main_name], subjects)
    report["quirks"].append(
        {
            "file": path.name,
            "sheet": main_name,
            "row": 1,
            "quirk": f"headerless sheet read as columns {list(COLUMNS)}; "
            f"{len(clip_codes)} clip code(s) and {len(smap)} subject number(s) from the "
            "mapping sheets",
        }
    )
    out = []
    for i in range(len(main)):
        r = main.iloc[i]
        if all(is_empty(v) for v in r.tolist()):
            continue
        row_no = i + 1
        cell = dict(zip(COLUMNS, r.tolist(), strict=False))
        subj_no = _number(cell["subject"])
        if subj_no is None:
            raise InputError(
                f"subject {cell['subject']!r} is not a number",
                file=str(path),
                sheet=main_name,
                row=row_no,
            )
        nums = {
            f: frame_cell(cell[f], f, path, main_name, row_no, SENTINELS.get(f, ()))
            for f in ("onset", "apex", "offset")
        }
        raw = {f: cell_text(cell[f]) for f in ("apex", "offset") if nums[f] is None}
        video = cell_text(cell["video"])
        folder_no = smap.get(subj_no, subj_no)
        clip = re.sub(r"_\d+$", "", video)
        code = clip_codes.get(clip.lower())
        if code is None and re.fullmatch(r"\d{3,4}", clip):
            code = f"{int(clip):04d}"
        parts: list[tuple[str, ...]] = [(video,)]
        if code is not None:
            parts.insert(0, (f"{folder_no}_{code}*",))
            parts.insert(1, (f"*_{code}*",))
        notes = []
        if len(cell) > 8 and not is_empty(cell["self_report"]):
            notes.append(f"self_report={cell_text(cell['self_report'])}")
        out.append(
            SheetRow(
                subject=f"s{folder_no}",
                filename=video,
                onset=nums["onset"],
                apex=nums["apex"],
                offset=nums["offset"],
                file=path,
                sheet=main_name,
                row=row_no,
                aus=None if is_empty(cell["aus"]) else cell["aus"],
                emotion=None if is_empty(cell["emotion"]) else cell["emotion"],
                type=None if len(cell) < 8 or is_empty(cell["type"]) else cell["type"],
                notes=notes,
                raw=raw,
                subject_dirs=[f"s{folder_no}", f"s{folder_no:02d}"],
                clip_parts=parts,
            )
        )
    return out


CASME_SQ = ClassicFormat(
    dataset="cas-me-2",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=lambda s: [s],
    clip_parts=lambda row: [(row.filename,)],
    default_type=None,
    sheet_glob=("*code*.xlsx", "*code*.xls"),
)


import_casme_sq = classic_importer(CASME_SQ, "import_casme_sq", "CAS(ME)^2", __doc__, __name__)
