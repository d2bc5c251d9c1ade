"""CAS(ME)^2 (Qu et al. 2018): long videos with macro- and micro-expressions at 30 fps.

``CAS(ME)^2code_final.xlsx``. First sheet (``CASFEcode_final``; ``CASMEcode_final`` in some
copies), no header, one row per expression: subject number (1-22), clip (``anger1_1``: clip name,
then the expression's number), onset, apex, offset, AUs, emotion,
``micro-expression``/``macro-expression``, self-report. Sheet ``naming rule1`` has three columns
(``15, s15, 1``): folder number, folder name, and the subject number the first sheet uses - the
subject of a row is the folder name of its subject number (third column, never the first). Sheet
``naming rule2`` pairs the 4-digit clip codes of the folder names with clip names (``0101`` -
``disgust1``; codes that lost their leading zero in Excel are padded). Frames
``rawpic/s15/15_0101disgustingteeth/img001.jpg``, beside the ``cropped`` and ``selectedpic``
releases (``release``; default ``raw``); every video folder is a trial, coded or not. Repairs:
offset ``0`` means "use the apex" (``offset_from_apex``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mmme.errors import InputError
from mmme.io.classic._base import (
    ClassicFormat,
    SheetRow,
    _reason,
    cell_text,
    classic_importer,
    frame_cell,
    is_empty,
    norm_header,
    read_raw_sheet,
    sheet_names,
    skip_row,
)

FPS = 30.0
COLUMNS = ("subject", "video", "onset", "apex", "offset", "aus", "emotion", "type", "self_report")
#: CAS(ME)^2 writes offset 0 when the offset was not coded: the apex is used.
SENTINELS = {"offset": (0,)}
RELEASES = {"raw": ("rawpic",), "cropped": ("cropped*",), "selected": ("selectedpic",)}


def _number(v: Any) -> int | None:
    if is_empty(v):
        return None
    s = cell_text(v).lower().removeprefix("s")
    try:
        x = float(s)
    except ValueError:
        return None
    return int(x) if x.is_integer() else None


def clip_id(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """``(..., "s15", "15_0101disgustingteeth")`` -> ``("s15", "15_0101disgustingteeth")``."""
    if len(parts) >= 2 and re.fullmatch(r"s\d+", parts[-2], re.IGNORECASE):
        if re.match(r"\d+_\d{4}", parts[-1]):
            return parts[-2], parts[-1]
    return None


def subject_folders(path: Path, sheet: str) -> dict[int, str]:
    """Sheet ``naming rule1``: subject number of the first sheet (3rd column) -> folder name
    (2nd column). Rows without a number in the 3rd column (a header) are passed over."""
    cells = read_raw_sheet(path, sheet)
    if cells.shape[1] < 3:
        raise InputError(
            f"{cells.shape[1]} column(s), expected 3 (folder number, folder name, subject number)",
            file=str(path),
            sheet=sheet,
        )
    out: dict[int, str] = {}
    for i in range(len(cells)):
        folder, subject = cells.iat[i, 1], _number(cells.iat[i, 2])
        if subject is None or is_empty(folder):
            continue
        name = cell_text(folder)
        if re.fullmatch(r"\d+", name):  # a folder number without its "s"
            name = f"s{int(name)}"
        if subject in out and out[subject] != name:
            raise InputError(
                f"subject {subject} named twice ({out[subject]}, {name})",
                file=str(path),
                sheet=sheet,
                row=i + 1,
            )
        out[subject] = name
    return out


def clip_codes(path: Path, sheet: str) -> dict[str, str]:
    """Sheet ``naming rule2``: clip name (``disgust1``) -> 4-digit code (``0101``), either
    column order."""
    cells = read_raw_sheet(path, sheet)
    out: dict[str, str] = {}
    for _, r in cells.iterrows():
        vals = [v for v in r.tolist() if not is_empty(v)]
        if len(vals) < 2:
            continue
        a, b = cell_text(vals[0]), cell_text(vals[1])
        na, nb = _number(a), _number(b)
        if na is not None and re.fullmatch(r"[A-Za-z]+\d*", b):
            out[b.lower()] = f"{na:04d}"
        elif nb is not None and re.fullmatch(r"[A-Za-z]+\d*", a):
            out[a.lower()] = f"{nb:04d}"
    return out


def _main_sheet(path: Path, names: list[str]) -> str:
    for want in ("CASFEcode_final", "CASMEcode_final"):
        for n in names:
            if norm_header(n) == norm_header(want):
                return n
    others = [n for n in names if not norm_header(n).startswith("namingrule")]
    if not others:
        raise InputError("no expression sheet (only naming sheets)", file=str(path))
    return others[0]


def read_sheet(path: Path, report: dict[str, Any]) -> list[SheetRow]:
    """Rows of the headerless main sheet, with clip and subject folders from the naming sheets."""
    names = sheet_names(path)
    main_name = _main_sheet(path, names)
    main = read_raw_sheet(path, main_name)
    by_norm = {norm_header(n): n for n in names}
    if "namingrule1" in by_norm:
        smap = subject_folders(path, by_norm["namingrule1"])
    else:
        smap = {}
        report["quirks"].append(
            {"file": path.name, "quirk": "no sheet 'naming rule1': subject numbers taken as "
             "folder numbers (s<N>)"}  # fmt: skip
        )
    codes = clip_codes(path, by_norm["namingrule2"]) if "namingrule2" in by_norm else {}
    report["quirks"].append(
        {
            "file": path.name,
            "sheet": main_name,
            "quirk": f"headerless sheet read as columns {list(COLUMNS)}; {len(codes)} clip "
            f"code(s) and {len(smap)} subject folder(s) from the naming sheets",
        }
    )
    out = []
    for i in range(len(main)):
        r = main.iloc[i].tolist()
        if all(is_empty(v) for v in r):
            continue
        try:
            row = _row(path, main_name, i + 1, r, smap, codes, report)
        except InputError as exc:
            skip_row(report, path, main_name, i + 1, _reason(exc))
            continue
        if row is not None:
            out.append(row)
    return out


def _row(
    path: Path,
    sheet: str,
    row_no: int,
    r: list[Any],
    smap: dict[int, str],
    codes: dict[str, str],
    report: dict[str, Any],
) -> SheetRow | None:
    cell = dict(zip(COLUMNS, r + [None] * (len(COLUMNS) - len(r)), strict=False))
    subj_no = _number(cell["subject"])
    if subj_no is None:
        if row_no == 1 and _number(cell["onset"]) is None:  # a header row in some copies
            report["quirks"].append(
                {"file": path.name, "sheet": sheet, "row": 1, "quirk": "header row skipped"}
            )
            return None
        raise InputError(
            f"subject {cell['subject']!r} is not a number", file=str(path), sheet=sheet, row=row_no
        )
    nums = {
        f: frame_cell(cell[f], f, path, sheet, row_no, SENTINELS.get(f, ()))
        for f in ("onset", "apex", "offset")
    }
    raw = {f: cell_text(cell[f]) for f in ("apex", "offset") if nums[f] is None}
    video = cell_text(cell["video"])
    folder = smap.get(subj_no, f"s{subj_no}")
    if smap and subj_no not in smap:
        raise InputError(
            f"subject {subj_no} is not in sheet 'naming rule1'", file=str(path), sheet=sheet,
            row=row_no,
        )  # fmt: skip
    clip = re.sub(r"_\d+$", "", video)
    code = codes.get(clip.lower())
    if code is None and re.fullmatch(r"\d{3,4}", clip):
        code = f"{int(clip):04d}"
    folder_no = folder.lower().removeprefix("s")
    parts: list[tuple[str, ...]] = [(video,)]
    if code is not None:
        parts = [(f"{folder_no}_{code}*",), (f"*_{code}*",), (video,)]
    notes = []
    if not is_empty(cell["self_report"]):
        notes.append(f"self_report={cell_text(cell['self_report'])}")
    return SheetRow(
        subject=folder,
        filename=video,
        onset=nums["onset"],
        apex=nums["apex"],
        offset=nums["offset"],
        file=path,
        sheet=sheet,
        row=row_no,
        aus=None if is_empty(cell["aus"]) else cell["aus"],
        emotion=None if is_empty(cell["emotion"]) else cell["emotion"],
        type=None if is_empty(cell["type"]) else cell["type"],
        notes=notes,
        raw=raw,
        subject_dirs=[folder],
        clip_parts=parts,
    )


CASME_SQ = ClassicFormat(
    dataset="cas-me-2",
    fps=FPS,
    read_sheet=read_sheet,
    subject_dirs=lambda s: [s],
    clip_parts=lambda row: [(row.filename,)],
    default_type=None,
    sheet_glob=("*code_final*.xls*", "*code*.xls*"),
    clip_id=clip_id,
    releases=RELEASES,
    default_release="raw",
)


import_casme_sq = classic_importer(CASME_SQ, "import_casme_sq", "CAS(ME)^2", __doc__, __name__)

