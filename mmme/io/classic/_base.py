"""The engine shared by the classic micro-expression data set readers.

Every classic data set is a tree of clip folders holding one image per frame, plus a sheet with one
row per coded expression. A reader (one module per data set) turns its sheet into
:class:`SheetRow` records; :func:`import_classic` indexes every clip folder of the tree (coded or
not), resolves each row's clip folder, repairs what the field's loaders repair, maps the data set's
frame numbers to frame indices and writes the store.

One policy for real-world mess: a bad row never aborts an import. A row the field's loaders repair
(apex missing or outside onset..offset, offset 0, onset = apex, a frame number beyond the clip) is
imported with its flag and listed in ``import_report.json`` under ``repaired``; a row that cannot
be used (no frames, unreadable cells) is listed under ``skipped``; both with file, row and reason.
Damaged frame files are listed under ``damaged_frames``. ``strict=True`` makes any of them an error.

Data model of a video-only data set: one session ``"1"`` per subject; each clip is a trial named
after its folder (marker ``<NA>``); the clips of a subject are laid on one timeline at the data
set's frame rate, clip *k* starting 1 s after clip *k-1* ends; frames stay files under the data set
root. A data set with physiology (CAS(ME)^3 part C) adds signal streams on the same clock.
"""

from __future__ import annotations

import fnmatch
import inspect
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import pandas as pd

from mmme._logging import logger
from mmme.data.annotations import (
    _EMOTION_SYNONYMS,
    format_au_groups,
    make_annotations,
    normalize_emotion,
    normalize_type,
    parse_au_groups,
)
from mmme.data.store import Store, StoreWriter
from mmme.data.streams import frame_intact
from mmme.data.sync import ClockMap
from mmme.errors import InputError
from mmme.executor import Executor
from mmme.io.sheets import read_sheet, sheet_names

#: Image files that are frames.
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
#: Seconds between the clips of a subject on its timeline.
CLIP_GAP_S = 1.0
#: Cell texts meaning "no value" in the sheets.
_EMPTY = {"", "/", "-", "--", "?", "nan", "none", "null", "n/a", "na", "<na>"}
_TRAILING_NUMBER = re.compile(r"(\d+)$")
_KNOWN_EMOTIONS = frozenset(_EMOTION_SYNONYMS)


def norm_header(name: Any) -> str:
    """Header text compared case-, space- and punctuation-insensitively."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def natural_key(text: str) -> list[Any]:
    """Sort key putting ``EP2`` before ``EP10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


@dataclass
class SheetRow:
    """One coded expression as a data set's sheet gives it (frame numbers as in its file names).

    ``apex``/``offset`` are ``None`` when the cell is empty or a "no value" sentinel; the engine
    fixes them (and reports it). ``file``, ``sheet`` and ``row`` (1-based, as a spreadsheet
    shows it) name the row in errors.
    """

    subject: str
    filename: str
    onset: int | None
    apex: int | None
    offset: int | None
    file: Path
    sheet: str | None
    row: int
    aus: Any = None
    emotion: Any = None
    type: Any = None
    notes: list[str] = field(default_factory=list)
    first_frame: int | None = None  # SMIC-E's FirstF
    raw: dict[str, Any] = field(default_factory=dict)  # the sentinel cells, for the report
    subject_dirs: list[str] | None = None  # overrides ClassicFormat.subject_dirs
    clip_parts: list[tuple[str, ...]] | None = None  # overrides ClassicFormat.clip_parts
    part: int = 1  # SMIC-E: the k-th expression of one sheet row

    @property
    def source(self) -> str:
        base = f"{self.file.name}:{self.row}"
        return base if self.part == 1 else f"{base}#{self.part}"

    def fail(self, msg: str) -> InputError:
        return InputError(msg, file=str(self.file), sheet=self.sheet, row=self.row)


@dataclass
class ClassicFormat:
    """What distinguishes one classic data set.

    Parameters
    ----------
    dataset : str
        Store data set name (``"casme-ii"``).
    fps : float
        Frame rate of the clips (the data set paper's).
    read_sheet : callable
        ``(path, report) -> list[SheetRow]``.
    subject_dirs : callable
        Subject cell -> candidate subject folder names, most likely first.
    clip_parts : callable
        A row -> candidate relative folder paths (tuples of names, below a subject folder or
        anywhere below the root) holding its frames, most likely first.
    default_type : str | None
        ``"ME"`` for micro-expression-only data sets whose sheet has no type column.
    sheet_glob : tuple of str
        File-name patterns of the annotation sheet below the root; with several matches, those
        of the earliest pattern are taken when they are a single file (reported).
    clip_id : callable
        Folder path (tuple of names, below the root) holding frames -> ``(subject, trial)``, or
        ``None`` when the folder is not a clip of the data set. Every clip folder is indexed, coded
        or not.
    anywhere : bool
        Whether a row's clip folder may be found by its name alone anywhere below the root (when
        it is unique), not only below one of the row's subject folders.
    releases : dict
        Release name -> folder-name patterns (lower case, ``*`` wildcards) of the folders holding
        that release's frames (``{"raw": ("casme2_raw*",), "cropped": ("cropped*",)}``).
    default_release : str | None
        The release taken when the tree holds several and none is asked for; ``None``: asking is
        required then.
    physio : callable | None
        ``(root, subject, clip folders, writer, report) -> (streams, clocks, markers)`` for data
        sets with physiology, else ``None``.
    """

    dataset: str
    fps: float
    read_sheet: Callable[[Path, dict[str, Any]], list[SheetRow]]
    subject_dirs: Callable[[str], list[str]]
    clip_parts: Callable[[SheetRow], list[tuple[str, ...]]]
    default_type: str | None = "ME"
    sheet_glob: tuple[str, ...] = ("*.xlsx", "*.xls", "*.csv")
    clip_id: Callable[[tuple[str, ...]], tuple[str, str] | None] = field(
        default=lambda parts: (parts[-2], parts[-1]) if len(parts) >= 2 else None
    )
    anywhere: bool = False
    releases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default_release: str | None = None
    physio: Callable[..., Any] | None = None


def skip_row(
    report: dict[str, Any],
    file: Path,
    sheet: str | None,
    row: int,
    reason: str,
    source: str | None = None,
) -> None:
    """List a row that cannot be used under ``skipped`` (file, sheet, row, reason)."""
    report["skipped"].append(
        {
            "file": file.name,
            "sheet": sheet,
            "row": row,
            "source": source or f"{file.name}:{row}",
            "reason": reason,
        }
    )


def repair_row(report: dict[str, Any], row: SheetRow, flag: str, reason: str) -> None:
    """List a row imported with a repair under ``repaired`` (file, sheet, row, flag, reason)."""
    report.setdefault("repaired", []).append(
        {
            "file": row.file.name,
            "sheet": row.sheet,
            "row": row.row,
            "source": row.source,
            "flag": flag,
            "reason": reason,
        }
    )


# --- sheets -------------------------------------------------------------------------------------


def read_raw_sheet(path: Path, sheet: str | int = 0) -> pd.DataFrame:
    """All cells of a sheet as objects, no header (row ``i`` is spreadsheet row ``i + 1``)."""
    return read_sheet(path, sheet)


def pick_sheet(
    path: Path,
    preferred: Sequence[str],
    aliases: dict[str, Sequence[str]],
    required: Sequence[str],
    max_scan: int = 40,
) -> str | int:
    """The sheet to read: the first of ``preferred`` (names compared as headers) that the workbook
    has, else the first sheet holding a header row with the required columns, else sheet 0."""
    if path.suffix.lower() == ".csv":
        return 0
    names = sheet_names(path)
    by_norm = {norm_header(n): n for n in names}
    for want in preferred:
        if norm_header(want) in by_norm:
            return by_norm[norm_header(want)]
    for n in names:
        if find_header(read_raw_sheet(path, n), aliases, required, max_scan)[0] >= 0:
            return n
    return 0


def find_header(
    cells: pd.DataFrame, aliases: dict[str, Sequence[str]], required: Sequence[str], max_scan: int
) -> tuple[int, dict[str, int]]:
    """Locate the header row (its position varies by release) and each field's column.

    Returns
    -------
    header_index : int
        0-based row index of the header.
    columns : dict
        Field -> column position, for the fields found.
    """
    wanted = {f: {norm_header(a) for a in al} for f, al in aliases.items()}
    for i in range(min(max_scan, len(cells))):
        cols: dict[str, int] = {}
        for j, v in enumerate(cells.iloc[i].tolist()):
            key = norm_header(v)
            for f, names in wanted.items():
                if key in names and f not in cols:
                    cols[f] = j
        if all(f in cols for f in required):
            return i, cols
    return -1, {}


def read_header_sheet(
    path: Path,
    aliases: dict[str, Sequence[str]],
    required: Sequence[str],
    report: dict[str, Any],
    sheet: str | int = 0,
    max_scan: int = 40,
) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a sheet with a header row somewhere in its first ``max_scan`` rows.

    Returns ``(spreadsheet row number, {field: cell})`` of every non-empty data row; preamble rows
    above the header are reported as a quirk.

    Raises
    ------
    InputError
        If no row holds all required column names.
    """
    cells = read_raw_sheet(path, sheet)
    sheet_name = None if path.suffix.lower() == ".csv" else _sheet_label(path, sheet)
    h, cols = find_header(cells, aliases, required, max_scan)
    if h < 0:
        names = [aliases[f][0] for f in required]
        raise InputError(
            f"no header row with columns {names} in the first {max_scan} rows",
            file=str(path),
            sheet=sheet_name,
        )
    if h > 0:
        report["quirks"].append(
            {
                "file": path.name,
                "sheet": sheet_name,
                "row": h + 1,
                "quirk": f"header on row {h + 1}: {h} preamble row(s) above it skipped",
            }
        )
    out = []
    for i in range(h + 1, len(cells)):
        vals = {f: cells.iat[i, j] for f, j in cols.items()}
        if all(is_empty(v) for v in cells.iloc[i].tolist()):
            continue
        out.append((i + 1, vals))
    return out


def _sheet_label(path: Path, sheet: str | int) -> str:
    if isinstance(sheet, str):
        return sheet
    names = sheet_names(path)
    return names[sheet] if 0 <= sheet < len(names) else f"#{sheet}"


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def is_empty(v: Any) -> bool:
    """Whether a cell holds no value (NaN, blank, ``/``, ``-``)."""
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        if pd.isna(v):
            return True
    except (TypeError, ValueError):
        pass
    return str(v).strip().lower() in _EMPTY


def cell_or_none(vals: dict[str, Any], key: str) -> Any:
    """The value of an optional column, ``None`` where the cell is empty or the column absent."""
    v = vals.get(key)
    return None if is_empty(v) else v


def frame_cell(
    v: Any,
    what: str,
    path: Path,
    sheet: str | None,
    row: int,
    sentinels: Iterable[int] = (),
) -> int | None:
    """A frame-number cell as an int; ``None`` for empty cells and the data set's sentinels.

    Raises
    ------
    InputError
        Naming file, sheet, row and column for text that is not a frame number.
    """
    if is_empty(v):
        return None
    try:
        x = float(str(v).strip())
    except ValueError:
        raise InputError(
            f"column {what!r}: {v!r} is not a frame number", file=str(path), sheet=sheet, row=row
        ) from None
    if not math.isfinite(x) or x != int(x):
        raise InputError(
            f"column {what!r}: {v!r} is not a whole frame number",
            file=str(path),
            sheet=sheet,
            row=row,
        )
    n = int(x)
    if n in set(sentinels):
        return None
    if n < 0:
        raise InputError(
            f"column {what!r}: negative frame number {n}", file=str(path), sheet=sheet, row=row
        )
    return n


def cell_text(v: Any) -> str:
    """A cell as stripped text (integers without ``.0``)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def check_relative(name: str, row: SheetRow) -> None:
    """Refuse ``Filename`` values that would escape the data set root."""
    if not name:
        raise row.fail("empty Filename")
    for flavour in (PurePosixPath, PureWindowsPath):
        p = flavour(name)
        if p.is_absolute() or p.drive or p.anchor or ".." in p.parts:
            raise row.fail(f"Filename {name!r} escapes the data set root; refused")


# --- the tree -----------------------------------------------------------------------------------


class DirIndex:
    """Every folder below a root, looked up by the names at the end of its path."""

    def __init__(self, root: Path, dirs: list[tuple[str, ...]] | None = None) -> None:
        self.root = root
        if dirs is None:
            dirs = []
            for dirpath, dirnames, _ in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                rel = Path(dirpath).relative_to(root).parts
                if rel:
                    dirs.append(tuple(rel))
        self.dirs: list[tuple[str, ...]] = dirs
        self._by_last: dict[str, list[tuple[str, ...]]] = {}
        for d in self.dirs:
            self._by_last.setdefault(d[-1].lower(), []).append(d)

    def below(self, patterns: Sequence[str]) -> DirIndex:
        """The folders with a name on their path matching one of ``patterns`` (lower case)."""
        keep = [d for d in self.dirs if any(_matches(x, patterns) for x in d)]
        return DirIndex(self.root, keep)

    def find(self, parts: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Folders whose path ends with ``parts`` (case-insensitive, ``*`` wildcards), shortest
        first."""
        low = tuple(p.lower() for p in parts)
        cands = self.dirs if any("*" in p for p in low[-1:]) else self._by_last.get(low[-1], [])
        hits = [
            d
            for d in cands
            if len(d) >= len(low)
            and all(
                fnmatch.fnmatchcase(x.lower(), p) for x, p in zip(d[-len(low) :], low, strict=True)
            )
        ]
        return sorted(hits, key=lambda d: (len(d), d))


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p) for p in patterns)


def frame_number(stem: str) -> int | None:
    """The frame number at the end of a file name (``img46`` -> 46, ``006_05562`` -> 5562)."""
    m = _TRAILING_NUMBER.search(stem)
    return int(m.group(1)) if m else None


def has_frames(folder: Path) -> bool:
    return any(p.suffix.lower() in FRAME_SUFFIXES for p in folder.iterdir() if p.is_file())


@dataclass
class ClipJob:
    """Frame scanning of one subject's clips (one worker job)."""

    subject: str
    clips: list[tuple[str, Path]]  # (trial, folder relative to root)
    root: Path
    check_frames: bool = True


def scan_clips(job: ClipJob) -> dict[str, Any]:
    """Frame files of each clip ordered by frame number: ``{trial: DataFrame(number, path)}``.

    Image files without a frame number are left out (reported); truncated or damaged frames
    (with ``check_frames``) are kept in their place, so that later frames keep their times, and
    listed under ``damaged``.
    """
    out: dict[str, pd.DataFrame] = {}
    quirks: list[dict[str, Any]] = []
    damaged: list[dict[str, Any]] = []
    for trial, rel in job.clips:
        folder = job.root / rel
        rows = []
        for p in sorted(folder.iterdir()):
            if not p.is_file() or p.suffix.lower() not in FRAME_SUFFIXES:
                continue
            n = frame_number(p.stem)
            if n is None:
                quirks.append(
                    {"file": str(rel / p.name), "quirk": "image without a frame number ignored"}
                )
                continue
            if job.check_frames and not frame_intact(p):
                damaged.append(
                    {"file": str(PurePosixPath(*rel.parts, p.name)),
                     "reason": "frame image is truncated or damaged"}
                )  # fmt: skip
            rows.append((n, p.name))
        df = pd.DataFrame(rows, columns=["number", "name"]).sort_values(
            ["number", "name"], kind="stable"
        )
        dup = df.duplicated("number", keep="first")
        for _, r in df[dup].iterrows():
            quirks.append(
                {
                    "file": str(rel / r["name"]),
                    "quirk": f"second file with frame number {r['number']} ignored",
                }
            )
        df = df[~dup].reset_index(drop=True)
        df["path"] = [str(PurePosixPath(*rel.parts, n)) for n in df["name"]]
        out[trial] = df[["number", "path"]]
    return {"subject": job.subject, "frames": out, "quirks": quirks, "damaged": damaged}


# --- the import ---------------------------------------------------------------------------------


def find_sheet(root: Path, fmt: ClassicFormat, sheet: str | Path | None) -> Path:
    """The annotation sheet: the one given, else the single match of the format's patterns
    (with several, the single match of the earliest pattern that has one)."""
    return _find_sheet(root, fmt, sheet)[0]


def _find_sheet(
    root: Path, fmt: ClassicFormat, sheet: str | Path | None
) -> tuple[Path, list[Path]]:
    if sheet is not None:
        p = Path(sheet)
        p = p if p.is_absolute() or p.exists() else root / p
        if not p.is_file():
            raise InputError("annotation sheet not found", file=str(p))
        return p, []
    sheets = _sheet_files(root)
    per_pattern = [
        [p for p in sheets if fnmatch.fnmatchcase(p.name.lower(), pat.lower())]
        for pat in fmt.sheet_glob
    ]
    found = list(dict.fromkeys(p for ps in per_pattern for p in ps))
    if not found:
        raise InputError(
            f"no annotation sheet ({', '.join(fmt.sheet_glob)}) found; pass it with --sheet",
            file=str(root),
        )
    if len(found) == 1:
        return found[0], []
    first = next(ps for ps in per_pattern if ps)
    if len(first) == 1:
        return first[0], [p for p in found if p != first[0]]
    raise InputError(
        f"several annotation sheets {[str(p.relative_to(root)) for p in found]}; "
        "pass one with --sheet",
        file=str(root),
    )


def _sheet_files(root: Path) -> list[Path]:
    """Spreadsheet files below the root (any case of suffix), not Office lock files."""
    out = []
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [
            Path(dirpath) / f
            for f in sorted(files)
            if f.lower().endswith((".xlsx", ".xls", ".csv")) and not f.startswith(("~$", "."))
        ]
    return sorted(out)


def choose_release(
    index: DirIndex, fmt: ClassicFormat, release: str | None, report: dict[str, Any]
) -> DirIndex:
    """The folders of the chosen release (``--release``) of a data set shipped in several.

    Raises
    ------
    InputError
        An unknown release, one absent from the tree, or several present and none chosen (for a
        data set without a default).
    """
    if not fmt.releases:
        if release is not None:
            raise InputError(f"{fmt.dataset} has no releases to choose from (--release)")
        return index
    if release is not None and release not in fmt.releases:
        raise InputError(
            f"unknown release {release!r} of {fmt.dataset} (one of {', '.join(fmt.releases)})"
        )
    present = [r for r, pats in fmt.releases.items() if index.below(pats).dirs]
    if release is None:
        if not present:
            report["quirks"].append(
                {"quirk": f"no release folder ({', '.join(fmt.releases)}) found: all folders read"}
            )
            return index
        if len(present) > 1 and fmt.default_release is None:
            raise InputError(
                f"the tree holds the {' and the '.join(present)} releases of {fmt.dataset}: "
                "choose one with --release",
                file=str(index.root),
            )
        release = fmt.default_release if len(present) > 1 else present[0]
        report["quirks"].append(
            {"quirk": f"release {release!r} read (present: {', '.join(present)})"}
        )
    elif release not in present:
        pats = ", ".join(fmt.releases[release])
        raise InputError(
            f"no folder of the {release!r} release ({pats}) below the root", file=str(index.root)
        )
    report["dataset"]["release"] = release
    return index.below(fmt.releases[release])


def clip_folders(
    index: DirIndex, fmt: ClassicFormat, report: dict[str, Any]
) -> dict[tuple[str, ...], tuple[str, str]]:
    """Every clip folder of the tree, coded or not: folder parts -> ``(subject, trial)``."""
    out: dict[tuple[str, ...], tuple[str, str]] = {}
    seen: dict[tuple[str, str], tuple[str, ...]] = {}
    for d in index.dirs:
        ident = fmt.clip_id(d)
        if ident is None or not has_frames(index.root.joinpath(*d)):
            continue
        if ident in seen:
            report["quirks"].append(
                {
                    "file": str(Path(*d)),
                    "quirk": f"second folder of clip {ident[1]!r} of subject {ident[0]!r} "
                    f"(first: {Path(*seen[ident])}) ignored",
                }
            )
            continue
        seen[ident] = d
        out[d] = ident
    return out


def resolve_clip(
    row: SheetRow,
    fmt: ClassicFormat,
    index: DirIndex,
    clips: dict[tuple[str, ...], tuple[str, str]] | None = None,
) -> tuple[str, tuple[str, ...]] | None:
    """``(subject id, clip folder parts)`` of a row, or ``None`` when its frames are absent.

    The folder is looked for below one of the row's subject folders; with ``fmt.anywhere`` also
    by its name alone anywhere below the root, when that name is unique.
    """
    if clips is None:
        clips = clip_folders(index, fmt, {"quirks": []})
    subjects = row.subject_dirs if row.subject_dirs is not None else fmt.subject_dirs(row.subject)
    clip_parts = row.clip_parts if row.clip_parts is not None else fmt.clip_parts(row)
    for parts in clip_parts:
        for subj in subjects:
            hits = [h for h in index.find((subj, *parts)) if h in clips]
            if hits:
                return clips[hits[0]][0], hits[0]
        if fmt.anywhere:
            hits = [h for h in index.find(parts) if h in clips]
            if len(hits) == 1:
                return clips[hits[0]][0], hits[0]
    return None


def fix_row(row: SheetRow, report: dict[str, Any]) -> tuple[int, int, int, list[str]]:
    """Onset/apex/offset numbers with the repairs of the field's loaders, and the row's flags.

    Repairs (each listed under ``report["repaired"]``): offset missing or 0 -> the apex
    (``offset_from_apex``); apex missing -> the middle frame (``apex_estimated``; not listed when
    the data set has no apex column); apex outside onset..offset -> the middle frame
    (``apex_out_of_range``); apex equal to the onset is kept (``apex_equals_onset``).

    Raises
    ------
    InputError
        Onset missing, offset missing without an apex, or onset after offset: the row cannot be
        used.
    """
    flags: list[str] = []

    def repair(flag: str, text: str) -> None:
        flags.append(flag)
        repair_row(report, row, flag, text)

    if row.onset is None:
        raise row.fail("onset frame missing")
    onset, apex, offset = row.onset, row.apex, row.offset
    if offset is None and apex is not None:
        cell = row.raw.get("offset", "empty")
        offset = apex
        repair("offset_from_apex", f"offset cell {cell!r}: apex frame {apex} used as offset")
    if offset is None:
        raise row.fail("offset frame missing (and no apex to use instead)")
    if not onset <= offset:
        raise row.fail(f"onset frame {onset} after offset frame {offset}")
    if apex is None:
        cell = row.raw.get("apex", "empty")
        apex = (onset + offset) // 2
        if cell == "no column":  # the data set codes no apex: reported once, by its reader
            flags.append("apex_estimated")
        else:
            repair(
                "apex_estimated",
                f"apex cell {cell!r}: apex estimated as the middle frame {apex} of onset..offset",
            )
    elif not onset <= apex <= offset:
        mid = (onset + offset) // 2
        repair(
            "apex_out_of_range",
            f"apex frame {apex} outside onset {onset} .. offset {offset}: estimated as the "
            f"middle frame {mid}",
        )
        apex = mid
    if apex == onset and "apex_estimated" not in flags and onset != offset:
        repair("apex_equals_onset", f"apex equals onset ({onset}); kept")
    if apex == offset and not {"offset_from_apex", "apex_estimated"} & set(flags):
        flags.append("apex_equals_offset")
    return onset, apex, offset, flags


def map_frames(
    numbers: tuple[int, int, int],
    frames: pd.DataFrame,
    row: SheetRow,
    report: dict[str, Any],
    flags: list[str],
) -> list[int]:
    """Indices within the clip of the frames the data set numbers onset/apex/offset.

    With SMIC-E's ``FirstF`` and frame files numbered from another origin, numbers count from
    ``FirstF`` (a quirk). A number inside the clip's range without a file takes the nearest frame
    (``nearest_frame``); an onset before the first or an offset after the last frame is clamped
    (``frame_clamped``); an apex left outside onset..offset is re-estimated
    (``apex_out_of_range``). Each repair is listed.

    Raises
    ------
    InputError
        The expression lies wholly outside the clip's frames.
    """
    nums = frames["number"].to_numpy()
    if not len(nums):
        raise row.fail("the clip has no frames")
    lo, hi = int(nums[0]), int(nums[-1])
    if row.first_frame is not None and row.first_frame not in nums:
        ks = [n - row.first_frame for n in numbers]
        if all(0 <= k < len(nums) for k in ks):
            report["quirks"].append(
                {
                    "file": row.file.name,
                    "sheet": row.sheet,
                    "row": row.row,
                    "quirk": f"frame files start at {lo}, not at FirstF {row.first_frame}: "
                    f"frames counted from FirstF (indices {ks})",
                }
            )
            return [int(k) for k in ks]
    onset, _, offset = numbers
    if onset > hi or offset < lo:
        raise row.fail(
            f"frames {onset}..{offset} lie outside the clip's frames {lo}..{hi} "
            f"({frames['path'].iloc[0]!r})"
        )

    def repair(flag: str, text: str) -> None:
        if flag not in flags:
            flags.append(flag)
        repair_row(report, row, flag, text)

    idx = []
    for n, what in zip(numbers, ("onset", "apex", "offset"), strict=True):
        hit = np.flatnonzero(nums == n)
        if len(hit):
            idx.append(int(hit[0]))
        elif lo <= n <= hi:
            k = int(np.argmin(np.abs(nums - n)))
            repair("nearest_frame", f"{what} frame {n} has no file; nearest frame {nums[k]} used")
            idx.append(k)
        else:
            k = 0 if n < lo else len(nums) - 1
            repair("frame_clamped", f"{what} frame {n} beyond the clip's frames {lo}..{hi}: "
                   f"frame {nums[k]} used")  # fmt: skip
            idx.append(k)
    if not idx[0] <= idx[1] <= idx[2]:
        mid = (idx[0] + idx[2]) // 2
        repair("apex_out_of_range", f"apex index {idx[1]} outside onset..offset {idx[0]}.."
               f"{idx[2]} after mapping: estimated as the middle frame")  # fmt: skip
        idx[1] = mid
    return idx


def import_classic(
    fmt: ClassicFormat,
    src: str | Path,
    store: str | Path,
    *,
    sheet: str | Path | None = None,
    executor: Executor | None = None,
    check_frames: bool = True,
    pseudonymize: bool = False,
    salt: str | None = None,
    release: str | None = None,
    strict: bool = False,
) -> Store:
    """Import a classic data set tree into a store (see the module docstring for the model).

    Parameters
    ----------
    fmt : ClassicFormat
        The data set.
    src : str | Path
        The data set root (frames below it, the sheet anywhere below it unless ``sheet`` given).
    store : str | Path
        The store to write; an existing store is replaced only when the import succeeds.
    sheet : str | Path | None
        The annotation sheet, if not the one found below ``src``.
    executor : Executor | None
        Scans the subjects' frames; default: local processes.
    check_frames : bool
        Check every frame file for truncation (damaged frames are listed in the report).
    pseudonymize : bool
        Replace subject identifiers by salted codes everywhere (:mod:`mmme.io.pseudonym`).
    salt : str | None
        The salt of the codes (default ``$MMME_SALT``, else random).
    release : str | None
        Which release of a data set shipped in several to read (CASME II: ``"raw"`` or
        ``"cropped"``); required when the tree holds several and the data set has no default.
    strict : bool
        Make any repaired or skipped row, or damaged frame, an error (nothing is written then).

    Raises
    ------
    InputError
        No sheet, no clip folder at all, an ambiguous or unknown release, or (with ``strict``)
        the first repaired or skipped row, named by file and row; nothing is written then.
    """
    if pseudonymize:
        from mmme.io.pseudonym import with_pseudonyms

        return with_pseudonyms(
            lambda tmp: import_classic(
                fmt,
                src,
                tmp,
                sheet=sheet,
                executor=executor,
                check_frames=check_frames,
                release=release,
                strict=strict,
            ),
            store,
            salt,
        )
    root = Path(src).absolute()
    if not root.is_dir():
        raise InputError("data set root is not a folder", file=str(root))
    sheet_path, others = _find_sheet(root, fmt, sheet)
    with StoreWriter(store, dataset=fmt.dataset, source=str(root)) as w:
        report = w.report
        report.setdefault("repaired", [])
        report["damaged_frames"] = []
        report["dataset"] = {"name": fmt.dataset, "fps": fmt.fps, "sheet": sheet_path.name}
        if others:
            report["quirks"].append(
                {
                    "file": sheet_path.name,
                    "quirk": f"annotation sheet {sheet_path.name} read; also present: "
                    f"{[p.name for p in others]} (read one of those with --sheet)",
                }
            )
        index = choose_release(DirIndex(root), fmt, release, report)
        clips = clip_folders(index, fmt, report)
        if not clips:
            raise InputError("no clip folder with frames below the root", file=str(root))
        placed: list[tuple[SheetRow, str, str, tuple[int, int, int], list[str], dict]] = []
        for row in fmt.read_sheet(sheet_path, report):
            scratch: dict[str, Any] = {"quirks": [], "repaired": []}
            try:
                check_relative(row.filename, row)
                hit = resolve_clip(row, fmt, index, clips)
                if hit is None:
                    raise row.fail(
                        f"no frames found for subject {row.subject!r}, clip {row.filename!r}"
                    )
                onset, apex, offset, flags = fix_row(row, scratch)
            except InputError as exc:
                skip_row(report, row.file, row.sheet, row.row, _reason(exc), row.source)
                continue
            subject, trial = clips[hit[1]]
            placed.append((row, subject, trial, (onset, apex, offset), flags, scratch))
        by_subject_clips: dict[str, list[tuple[str, Path]]] = {}
        for parts, (subject, trial) in clips.items():
            by_subject_clips.setdefault(subject, []).append((trial, Path(*parts)))
        jobs = [
            ClipJob(s, sorted(c, key=lambda kv: natural_key(kv[0])), root, check_frames)
            for s, c in sorted(by_subject_clips.items(), key=lambda kv: natural_key(kv[0]))
        ]
        results = (executor or Executor()).map(scan_clips, jobs, desc=f"scan {fmt.dataset} frames")
        by_subject = {r["subject"]: r["frames"] for r in results}
        for r in results:
            report["quirks"].extend(r["quirks"])
            report["damaged_frames"].extend(r["damaged"])
        spans = _write_sessions(w, by_subject, by_subject_clips, root, fmt, report)
        ann = _annotations(placed, by_subject, spans, fmt, report)
        coded = {(s, t) for s, t in zip(ann["subject"], ann["trial"], strict=True)}
        report["clips"] = {
            "coded": len(coded),
            "uncoded": sum(len(c) for c in by_subject.values()) - len(coded),
        }
        for key in ("skipped", "repaired"):  # in sheet order, whichever stage listed them
            report[key].sort(key=lambda r: (str(r.get("file")), r.get("row") or 0,
                                            str(r.get("source"))))  # fmt: skip
        if strict:
            _strict(report, sheet_path)
        w.add_annotations(ann)
    return Store(store)


def _strict(report: dict[str, Any], sheet_path: Path) -> None:
    rep, sk, dmg = report["repaired"], report["skipped"], report["damaged_frames"]
    if not (rep or sk or dmg):
        return
    first = (
        f"{sk[0].get('source') or sk[0].get('file')}: skipped: {sk[0]['reason']}"
        if sk
        else f"{rep[0]['source']}: repaired ({rep[0]['flag']}): {rep[0]['reason']}"
        if rep
        else f"{dmg[0]['file']}: {dmg[0]['reason']}"
    )
    raise InputError(
        f"--strict: {len(rep)} repaired row(s), {len(sk)} skipped row(s), {len(dmg)} damaged "
        f"frame(s); first: {first}",
        file=str(sheet_path),
    )


def classic_importer(
    fmt: ClassicFormat, name: str, what: str, doc: str | None, module: str
) -> Callable[..., Store]:
    """The ``import_<name>(src, store, ...)`` function of one data set: :func:`import_classic`
    bound to ``fmt``, documented by the reader module's docstring (layout, fps and quirks).

    Parameters
    ----------
    fmt : ClassicFormat
        The data set.
    name : str
        The function's name (``"import_casme2"``).
    what : str
        What it imports, for the first docstring line (``"CASME II"``).
    doc : str | None
        The reader module's ``__doc__``.
    module : str
        The reader module's ``__name__``: the function pickles by reference from there.

    Returns
    -------
    callable
        ``(src, store, *, sheet=None, executor=None, check_frames=True, pseudonymize=False,
        salt=None, release=None, strict=False) -> Store``.
    """

    def importer(
        src: str | Path,
        store: str | Path,
        *,
        sheet: str | Path | None = None,
        executor: Executor | None = None,
        check_frames: bool = True,
        pseudonymize: bool = False,
        salt: str | None = None,
        release: str | None = None,
        strict: bool = False,
    ) -> Store:
        return import_classic(
            fmt,
            src,
            store,
            sheet=sheet,
            executor=executor,
            check_frames=check_frames,
            pseudonymize=pseudonymize,
            salt=salt,
            release=release,
            strict=strict,
        )

    # the parameters documented once, in import_classic, less its ``fmt``
    params = inspect.cleandoc(import_classic.__doc__ or "").split("Parameters\n----------\n")[-1]
    params = params.replace("fmt : ClassicFormat\n    The data set.\n", "")
    layout = inspect.cleandoc(doc or "")
    importer.__doc__ = (
        f"Import {what} (``{fmt.dataset}``, {fmt.fps:g} fps) into a store.\n\n"
        f"{layout}\n\nParameters\n----------\n{params}"
    )
    importer.__name__ = importer.__qualname__ = name
    importer.__module__ = module
    return importer


_EMPTY_MARKERS = {"device": "string", "code": "int64", "device_time_s": "float64",
                  "time_s": "float64"}  # fmt: skip


def _write_sessions(
    w: StoreWriter,
    by_subject: dict[str, dict[str, pd.DataFrame]],
    folders: dict[str, list[tuple[str, Path]]],
    root: Path,
    fmt: ClassicFormat,
    report: dict[str, Any],
) -> dict[tuple[str, str], float]:
    """Lay each subject's clips on one timeline (and its physiology, if any); return each clip's
    start (s)."""
    fps = fmt.fps
    spans: dict[tuple[str, str], float] = {}
    for subject, clips in by_subject.items():
        t0, frames, trials = 0.0, [], []
        for trial, df in clips.items():
            n = len(df)
            times = t0 + np.arange(n) / fps
            frames.append(
                pd.DataFrame(
                    {
                        "trial": trial,
                        "frame": np.arange(n, dtype=np.int64),
                        "device_time_s": times,
                        "time_s": times,
                        "stamp": df["number"].astype(str).to_numpy(),
                        "path": df["path"].to_numpy(),
                    }
                )
            )
            trials.append(
                {
                    "subject": subject,
                    "session": "1",
                    "trial": trial,
                    "marker": pd.NA,
                    "category": pd.NA,
                    "start_s": t0,
                    "stop_s": t0 + n / fps,
                    "n_frames": n,
                    "video_start_s": t0,
                }
            )
            spans[(subject, trial)] = t0
            t0 += n / fps + CLIP_GAP_S
        table = pd.concat(frames, ignore_index=True)
        clocks: dict[str, ClockMap] = {"video": ClockMap.identity()}
        streams: dict[str, dict[str, Any]] = {}
        markers = pd.DataFrame({k: pd.Series([], dtype=v) for k, v in _EMPTY_MARKERS.items()})
        if fmt.physio is not None:
            got = fmt.physio(root, subject, folders.get(subject, []), w, report)
            if got is not None:
                streams, more_clocks, markers = got
                clocks.update(more_clocks)
        w.add_session(
            subject,
            "1",
            clocks=clocks,
            reference="video",
            markers=markers,
            streams=streams,
            frames=table,
            video={"frames_root": str(root), "fps": fps, "n_frames": int(len(table))},
        )
        w.add_trials(trials)
    return spans


def _annotations(
    placed: list[tuple[SheetRow, str, str, tuple[int, int, int], list[str], dict]],
    by_subject: dict[str, dict[str, pd.DataFrame]],
    spans: dict[tuple[str, str], float],
    fmt: ClassicFormat,
    report: dict[str, Any],
) -> pd.DataFrame:
    records = []
    for row, subj, trial, numbers, flags, scratch in placed:
        frames = by_subject[subj][trial]
        flags = list(flags)
        try:
            idx = map_frames(numbers, frames, row, scratch, flags)
        except InputError as exc:
            skip_row(report, row.file, row.sheet, row.row, _reason(exc), row.source)
            continue
        aus, coder, emotion, notes = _labels(row, fmt, flags, scratch)
        report["quirks"].extend(scratch["quirks"])
        report["repaired"].extend(scratch["repaired"])
        if list(numbers) != idx:
            notes.insert(0, "frames {}/{}/{} in the data set's numbering".format(*numbers))
        t0 = spans[(subj, trial)]
        records.append(
            {
                "subject": subj,
                "session": "1",
                "trial": trial,
                "marker": pd.NA,
                "onset_frame": idx[0],
                "apex_frame": idx[1],
                "offset_frame": idx[2],
                "onset_s": t0 + idx[0] / fmt.fps,
                "apex_s": t0 + idx[1] / fmt.fps,
                "offset_s": t0 + idx[2] / fmt.fps,
                "onset_stamp": str(numbers[0]),
                "apex_stamp": str(numbers[1]),
                "offset_stamp": str(numbers[2]),
                "aus": aus,
                "emotion": emotion,
                "emotion_raw": None if row.emotion is None else cell_text(row.emotion),
                "type_coder": coder,
                "flags": ";".join(dict.fromkeys(flags)),
                "notes": "; ".join(notes) or None,
                "source": row.source,
            }
        )
    logger.info("%d annotations placed", len(records))
    return make_annotations(records, fps=fmt.fps)


def _labels(
    row: SheetRow, fmt: ClassicFormat, flags: list[str], scratch: dict[str, Any]
) -> tuple[str, str | None, str, list[str]]:
    """AUs, coders' type, emotion and notes of a row; cells not understood are flagged."""
    notes = list(row.notes)

    def repair(flag: str, text: str) -> None:
        flags.append(flag)
        repair_row(scratch, row, flag, text)

    try:
        groups = parse_au_groups(row.aus)
        aus = format_au_groups(groups)
        if any(len(g) > 1 for g in groups):
            repair(
                "au_alternatives",
                f"AU cell {cell_text(row.aus)!r} lists alternatives; kept as {aus!r}",
            )
    except ValueError as exc:
        aus = ""
        notes.append(f"aus={cell_text(row.aus)}")
        repair("aus_unreadable", f"AU cell: {exc}; kept in the notes")
    coder = fmt.default_type
    if row.type is not None:
        try:
            coder = normalize_type(row.type)
        except ValueError:
            repair(
                "type_unreadable",
                f"type cell {cell_text(row.type)!r} is not Micro/Macro; "
                f"{coder or 'the ME rule'} used",
            )
    emotion = _emotion(row.emotion)
    if "+" in emotion and all(p in _KNOWN_EMOTIONS for p in emotion.split("+")):
        flags.append("combined_emotion")
    elif emotion not in _KNOWN_EMOTIONS:
        flags.append("unknown_emotion")
    return aus, coder, emotion, notes


def _emotion(label: Any) -> str:
    """The fine label; a combined label (``Surprise+Positive``) as its normalised parts."""
    if label is not None and "+" in str(label):
        return "+".join(normalize_emotion(p) for p in str(label).split("+") if p.strip())
    return normalize_emotion(label)


def rows_from_header_sheet(
    path: Path,
    report: dict[str, Any],
    aliases: dict[str, Sequence[str]],
    required: Sequence[str],
    *,
    sentinels: dict[str, Iterable[int]] | None = None,
    note_fields: Sequence[str] = (),
    sheet: str | int = 0,
    extra: Sequence[tuple[str, str, str]] = (),
) -> list[SheetRow]:
    """:class:`SheetRow` records of a sheet with a header row (the common case).

    Fields: ``subject, filename, onset, apex, offset, aus, emotion, type, notes, first_frame`` plus
    ``note_fields`` (kept as ``name=value`` in the notes). ``extra`` names further expressions
    held by the same row as ``(onset field, offset field, label)`` (SMIC-E's second and third).

    A row whose cells cannot be read is skipped and listed (``report["skipped"]``); rows with no
    Filename and no frame numbers (free text below the table) are reported as quirks.
    """
    sheet_name = None if path.suffix.lower() == ".csv" else _sheet_label(path, sheet)
    out = []
    sentinels = sentinels or {}
    frame_fields = ("onset", "apex", "offset", *(f for e in extra for f in e[:2]))
    for r, vals in read_header_sheet(path, aliases, required, report, sheet=sheet):
        if is_empty(vals.get("filename")) and all(is_empty(vals.get(f)) for f in frame_fields):
            text = " ".join(cell_text(v) for v in vals.values() if not is_empty(v))
            report["quirks"].append(
                {
                    "file": path.name,
                    "sheet": sheet_name,
                    "row": r,
                    "quirk": f"row without Filename or frame numbers, not an expression: "
                    f"{text[:80]!r}",
                }
            )
            continue
        try:
            out += _header_rows(path, sheet_name, r, vals, aliases, sentinels, note_fields, extra,
                                report)  # fmt: skip
        except InputError as exc:
            skip_row(report, path, sheet_name, r, _reason(exc))
    return out


def _reason(exc: InputError) -> str:
    """The message of an error without its file/sheet/row prefix (listed beside it)."""
    where = []
    if exc.file is not None:
        where.append(f"file {exc.file}")
    if exc.sheet is not None:
        where.append(f"sheet {exc.sheet!r}")
    if exc.row is not None:
        where.append(f"row {exc.row}")
    text, prefix = str(exc), ", ".join(where) + ": "
    if exc.channel is not None:
        return text
    return text[len(prefix) :] if where and text.startswith(prefix) else text


def _header_rows(
    path: Path,
    sheet_name: str | None,
    r: int,
    vals: dict[str, Any],
    aliases: dict[str, Sequence[str]],
    sentinels: dict[str, Iterable[int]],
    note_fields: Sequence[str],
    extra: Sequence[tuple[str, str, str]],
    report: dict[str, Any],
) -> list[SheetRow]:
    def number(f: str, raw: dict[str, Any]) -> int | None:
        v = vals.get(f)
        col = aliases.get(f, (f,))[0]
        n = frame_cell(v, col, path, sheet_name, r, sentinels.get(f, ()))
        if f not in aliases:
            raw[f] = "no column"
        elif n is None:
            raw[f] = "empty" if v is None or _isnan(v) else cell_text(v)
        return n

    if is_empty(vals.get("subject")) or is_empty(vals.get("filename")):
        raise InputError("Subject or Filename empty", file=str(path), sheet=sheet_name, row=r)
    raw: dict[str, Any] = {}
    nums = {f: number(f, raw) for f in ("onset", "apex", "offset")}
    first = None
    if "first_frame" in aliases and not is_empty(vals.get("first_frame")):
        try:
            first = frame_cell(vals["first_frame"], aliases["first_frame"][0], path, sheet_name, r)
        except InputError:  # SMIC-E: FirstF is sometimes text; only the frame origin needs it
            report["quirks"].append(
                {
                    "file": path.name,
                    "sheet": sheet_name,
                    "row": r,
                    "quirk": f"{aliases['first_frame'][0]} {cell_text(vals['first_frame'])!r} is "
                    "not a frame number; frame files taken as numbered like the sheet",
                }
            )
    notes = []
    if not is_empty(vals.get("notes")):
        notes.append(cell_text(vals["notes"]))
    for f in note_fields:
        if not is_empty(vals.get(f)):
            notes.append(f"{f}={cell_text(vals[f])}")

    def make(onset: int | None, apex: int | None, offset: int | None, raw: dict, part: int):
        return SheetRow(
            subject=cell_text(vals["subject"]),
            filename=cell_text(vals["filename"]),
            onset=onset,
            apex=apex,
            offset=offset,
            file=path,
            sheet=sheet_name,
            row=r,
            aus=cell_or_none(vals, "aus"),
            emotion=cell_or_none(vals, "emotion"),
            type=cell_or_none(vals, "type"),
            notes=list(notes),
            first_frame=first,
            raw=raw,
            part=part,
        )

    out = [make(nums["onset"], nums["apex"], nums["offset"], raw, 1)]
    for k, (on_f, off_f, label) in enumerate(extra, start=2):
        if is_empty(vals.get(on_f)) and is_empty(vals.get(off_f)):
            continue
        raw_k: dict[str, Any] = {"apex": "no column"}
        on, off = number(on_f, raw_k), number(off_f, raw_k)
        row = make(on, None, off, raw_k, k)
        row.notes.insert(0, f"{label} of the row")
        out.append(row)
    return out
