"""The engine shared by the classic micro-expression data set readers.

Every classic data set is a tree of clip folders holding one image per frame, plus a sheet with one
row per coded expression. A reader (one module per data set) turns its sheet into
:class:`SheetRow` records; :func:`import_classic` resolves each row's clip folder, fixes the known
quirks (and says so in the import report), maps the data set's frame numbers to frame indices and
writes the store.

Data model of a video-only data set: one session ``"1"`` per subject; each clip is a trial named
after its folder (marker ``<NA>``); the clips of a subject are laid on one timeline at the data
set's frame rate, clip *k* starting 1 s after clip *k-1* ends; frames stay files under the data set
root.
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
    format_aus,
    make_annotations,
    normalize_emotion,
    normalize_type,
    parse_aus,
)
from mmme.data.store import Store, StoreWriter
from mmme.data.streams import frame_intact
from mmme.data.sync import ClockMap
from mmme.errors import InputError
from mmme.executor import Executor

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

    @property
    def source(self) -> str:
        return f"{self.file.name}:{self.row}"

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
        File-name patterns of the annotation sheet below the root.
    """

    dataset: str
    fps: float
    read_sheet: Callable[[Path, dict[str, Any]], list[SheetRow]]
    subject_dirs: Callable[[str], list[str]]
    clip_parts: Callable[[SheetRow], list[tuple[str, ...]]]
    default_type: str | None = "ME"
    sheet_glob: tuple[str, ...] = ("*.xlsx", "*.xls", "*.csv")


# --- sheets -------------------------------------------------------------------------------------


def read_raw_sheet(path: Path, sheet: str | int = 0) -> pd.DataFrame:
    """All cells of a sheet as objects, no header (row ``i`` is spreadsheet row ``i + 1``)."""
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, header=None, dtype=object, keep_default_na=False)
        return pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    except FileNotFoundError:
        raise InputError("annotation sheet not found", file=str(path)) from None
    except Exception as exc:  # openpyxl/xlrd/zipfile raise many types for damaged files
        raise InputError(f"cannot read annotation sheet: {exc}", file=str(path)) from exc


def sheet_names(path: Path) -> list[str]:
    """Sheet names of a workbook (``[""]`` for a CSV)."""
    if path.suffix.lower() == ".csv":
        return [""]
    try:
        return list(pd.ExcelFile(path).sheet_names)
    except Exception as exc:  # damaged workbook
        raise InputError(f"cannot read workbook: {exc}", file=str(path)) from exc


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

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dirs: list[tuple[str, ...]] = []
        for dirpath, dirnames, _ in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(root).parts
            if rel:
                self.dirs.append(tuple(rel))
        self._by_last: dict[str, list[tuple[str, ...]]] = {}
        for d in self.dirs:
            self._by_last.setdefault(d[-1].lower(), []).append(d)

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

    Raises
    ------
    InputError
        A frame file without a number, or a truncated frame (with ``check_frames``), named.
    """
    out: dict[str, pd.DataFrame] = {}
    quirks: list[dict[str, Any]] = []
    for trial, rel in job.clips:
        folder = job.root / rel
        rows = []
        for p in sorted(folder.iterdir()):
            if not p.is_file() or p.suffix.lower() not in FRAME_SUFFIXES:
                continue
            n = frame_number(p.stem)
            if n is None:
                raise InputError("frame file name has no frame number", file=str(p))
            if job.check_frames and not frame_intact(p):
                raise InputError("frame image is truncated or damaged", file=str(p))
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
    return {"subject": job.subject, "frames": out, "quirks": quirks}


# --- the import ---------------------------------------------------------------------------------


def find_sheet(root: Path, fmt: ClassicFormat, sheet: str | Path | None) -> Path:
    """The annotation sheet: the one given, else the single match of the format's patterns."""
    if sheet is not None:
        p = Path(sheet)
        p = p if p.is_absolute() or p.exists() else root / p
        if not p.is_file():
            raise InputError("annotation sheet not found", file=str(p))
        return p
    found: list[Path] = []
    for pat in fmt.sheet_glob:
        found += [p for p in sorted(root.rglob(pat)) if not p.name.startswith(("~$", "."))]
    found = list(dict.fromkeys(found))
    if not found:
        raise InputError(
            f"no annotation sheet ({', '.join(fmt.sheet_glob)}) found; pass it with --sheet",
            file=str(root),
        )
    if len(found) > 1:
        raise InputError(
            f"several annotation sheets {[str(p.relative_to(root)) for p in found]}; "
            "pass one with --sheet",
            file=str(root),
        )
    return found[0]


def resolve_clip(
    row: SheetRow, fmt: ClassicFormat, index: DirIndex
) -> tuple[str, tuple[str, ...]] | None:
    """``(subject id, clip folder parts)`` of a row, or ``None`` when its frames are absent."""
    subjects = row.subject_dirs if row.subject_dirs is not None else fmt.subject_dirs(row.subject)
    clip_parts = row.clip_parts if row.clip_parts is not None else fmt.clip_parts(row)
    for parts in clip_parts:
        for subj in subjects:
            hits = [h for h in index.find((subj, *parts)) if has_frames(index.root.joinpath(*h))]
            if hits:
                return subj, hits[0]
        hits = [h for h in index.find(parts) if has_frames(index.root.joinpath(*h))]
        if len(hits) == 1:
            return subjects[0] if subjects else hits[0][0], hits[0]
    return None


def fix_row(row: SheetRow, report: dict[str, Any]) -> tuple[int, int, int, list[str]]:
    """Onset/apex/offset numbers with the known quirks fixed, and the row's flags.

    Raises
    ------
    InputError
        Onset missing, or onset/apex/offset out of order.
    """
    flags: list[str] = []

    def quirk(text: str) -> None:
        report["quirks"].append(
            {"file": row.file.name, "sheet": row.sheet, "row": row.row, "quirk": text}
        )

    if row.onset is None:
        raise row.fail("onset frame missing")
    onset, apex, offset = row.onset, row.apex, row.offset
    if offset is None and apex is not None:
        cell = row.raw.get("offset", "empty")
        quirk(f"offset cell {cell!r}: apex frame {apex} used as offset")
        offset = apex
        flags.append("offset_from_apex")
    if offset is None:
        raise row.fail("offset frame missing (and no apex to use instead)")
    if apex is None:
        cell = row.raw.get("apex", "empty")
        apex = (onset + offset) // 2
        what = "no apex column" if cell == "no column" else f"apex cell {cell!r}"
        quirk(f"{what}: apex estimated as the middle frame {apex} of onset..offset")
        flags.append("apex_estimated")
    if not onset <= offset:
        raise row.fail(f"onset frame {onset} after offset frame {offset}")
    if not onset <= apex <= offset:
        raise row.fail(f"apex frame {apex} outside onset {onset} .. offset {offset}")
    if apex == onset and "apex_estimated" not in flags:
        quirk(f"apex equals onset ({onset}); kept, flagged")
        flags.append("apex_equals_onset")
    if apex == offset and "offset_from_apex" not in flags and "apex_estimated" not in flags:
        flags.append("apex_equals_offset")
    return onset, apex, offset, flags


def frame_index(
    number: int, frames: pd.DataFrame, row: SheetRow, what: str, report: dict[str, Any]
) -> int:
    """Index within the clip of the frame the data set numbers ``number``.

    With SMIC-E's ``FirstF`` and frame files numbered from another origin, numbers count from
    ``FirstF`` (reported). A number inside the clip's range without a file takes the nearest frame
    (reported); one outside the range is an error.
    """
    nums = frames["number"].to_numpy()
    hit = np.flatnonzero(nums == number)
    if len(hit):
        return int(hit[0])
    if row.first_frame is not None and row.first_frame not in nums:
        k = number - row.first_frame
        if 0 <= k < len(nums):
            report["quirks"].append(
                {
                    "file": row.file.name,
                    "sheet": row.sheet,
                    "row": row.row,
                    "quirk": f"{what} frame {number}: frame files start at {int(nums[0])}, not "
                    f"at FirstF {row.first_frame}; counted from FirstF (index {k})",
                }
            )
            return int(k)
    if len(nums) and nums[0] <= number <= nums[-1]:
        k = int(np.argmin(np.abs(nums - number)))
        report["quirks"].append(
            {
                "file": row.file.name,
                "sheet": row.sheet,
                "row": row.row,
                "quirk": f"{what} frame {number} has no file; nearest frame {int(nums[k])} used",
            }
        )
        return k
    rng = f"{int(nums[0])}..{int(nums[-1])}" if len(nums) else "none"
    raise row.fail(
        f"{what} frame {number} is outside the clip's frames ({rng}) in {frames['path'].iloc[0]!r}"
        if len(nums)
        else f"{what} frame {number}: the clip has no frames"
    )


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
        The annotation sheet, if not the single one found below ``src``.
    executor : Executor | None
        Scans the subjects' frames; default: local processes.
    check_frames : bool
        Check every frame file for truncation.
    pseudonymize : bool
        Replace subject identifiers by salted codes everywhere (:mod:`mmme.io.pseudonym`).
    salt : str | None
        The salt of the codes (default ``$MMME_SALT``, else random).

    Raises
    ------
    InputError
        Naming file, sheet and row of an unreadable or inconsistent row, or a ``Filename`` that
        escapes the root; nothing is written then.
    """
    if pseudonymize:
        from mmme.io.pseudonym import with_pseudonyms

        return with_pseudonyms(
            lambda tmp: import_classic(
                fmt, src, tmp, sheet=sheet, executor=executor, check_frames=check_frames
            ),
            store,
            salt,
        )
    root = Path(src).absolute()
    if not root.is_dir():
        raise InputError("data set root is not a folder", file=str(root))
    sheet_path = find_sheet(root, fmt, sheet)
    with StoreWriter(store, dataset=fmt.dataset, source=str(root)) as w:
        report = w.report
        report["dataset"] = {"name": fmt.dataset, "fps": fmt.fps, "sheet": sheet_path.name}
        rows = fmt.read_sheet(sheet_path, report)
        index = DirIndex(root)
        placed: list[tuple[SheetRow, str, str, tuple[int, int, int], list[str]]] = []
        clips: dict[str, dict[str, Path]] = {}
        for row in rows:
            check_relative(row.filename, row)
            onset, apex, offset, flags = fix_row(row, report)
            hit = resolve_clip(row, fmt, index)
            if hit is None:
                report["skipped"].append(
                    {
                        "file": row.file.name,
                        "sheet": row.sheet,
                        "row": row.row,
                        "reason": f"no frames found for subject {row.subject!r}, "
                        f"clip {row.filename!r}",
                    }
                )
                continue
            subj, parts = hit
            trial = _trial_name(parts, fmt)
            known = clips.setdefault(subj, {})
            if trial in known and known[trial] != Path(*parts):
                raise row.fail(f"two clip folders named {trial!r}: {known[trial]}, {Path(*parts)}")
            known[trial] = Path(*parts)
            placed.append((row, subj, trial, (onset, apex, offset), flags))
        if not clips:
            raise InputError(
                f"no clip folder with frames matches any row of {sheet_path.name}", file=str(root)
            )
        jobs = [
            ClipJob(s, sorted(c.items(), key=lambda kv: natural_key(kv[0])), root, check_frames)
            for s, c in sorted(clips.items(), key=lambda kv: natural_key(kv[0]))
        ]
        results = (executor or Executor()).map(scan_clips, jobs, desc=f"scan {fmt.dataset} frames")
        by_subject = {r["subject"]: r["frames"] for r in results}
        for r in results:
            report["quirks"].extend(r["quirks"])
        spans = _write_sessions(w, by_subject, root, fmt.fps)
        w.add_annotations(_annotations(placed, by_subject, spans, fmt, report))
    return Store(store)


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
        salt=None) -> Store``.
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


def _trial_name(parts: tuple[str, ...], fmt: ClassicFormat) -> str:
    # CAS(ME)^3 keeps frames in <clip>/color: the clip is the folder above
    skip = {"color", "colour", "rgb"}
    named = [p for p in parts if p.lower() not in skip]
    return named[-1] if named else parts[-1]


def _write_sessions(
    w: StoreWriter, by_subject: dict[str, dict[str, pd.DataFrame]], root: Path, fps: float
) -> dict[tuple[str, str], float]:
    """Lay each subject's clips on one timeline; return each clip's start (s)."""
    spans: dict[tuple[str, str], float] = {}
    empty_markers = pd.DataFrame(
        {
            "device": pd.Series([], dtype="string"),
            "code": pd.Series([], dtype="int64"),
            "device_time_s": pd.Series([], dtype="float64"),
            "time_s": pd.Series([], dtype="float64"),
        }
    )
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
        w.add_session(
            subject,
            "1",
            clocks={"video": ClockMap.identity()},
            reference="video",
            markers=empty_markers,
            streams={},
            frames=table,
            video={"frames_root": str(root), "fps": fps, "n_frames": int(len(table))},
        )
        w.add_trials(trials)
    return spans


def _annotations(
    placed: list[tuple[SheetRow, str, str, tuple[int, int, int], list[str]]],
    by_subject: dict[str, dict[str, pd.DataFrame]],
    spans: dict[tuple[str, str], float],
    fmt: ClassicFormat,
    report: dict[str, Any],
) -> pd.DataFrame:
    records = []
    for row, subj, trial, numbers, flags in placed:
        frames = by_subject[subj][trial]
        idx = [
            frame_index(n, frames, row, what, report)
            for n, what in zip(numbers, ("onset", "apex", "offset"), strict=True)
        ]
        if not idx[0] <= idx[1] <= idx[2]:
            raise row.fail(f"frame indices out of order after mapping: {idx}")
        try:
            aus = format_aus(parse_aus(row.aus))
        except ValueError as exc:
            raise row.fail(f"action units: {exc}") from None
        try:
            coder = normalize_type(row.type) if row.type is not None else fmt.default_type
        except ValueError as exc:
            raise row.fail(str(exc)) from None
        emotion = normalize_emotion(row.emotion)
        if emotion not in _KNOWN_EMOTIONS:
            flags = [*flags, "unknown_emotion"]
        notes = list(row.notes)
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
                "flags": ";".join(flags),
                "notes": "; ".join(notes) or None,
                "source": row.source,
            }
        )
    logger.info("%d annotations placed", len(records))
    return make_annotations(records, fps=fmt.fps)


def rows_from_header_sheet(
    path: Path,
    report: dict[str, Any],
    aliases: dict[str, Sequence[str]],
    required: Sequence[str],
    *,
    sentinels: dict[str, Iterable[int]] | None = None,
    note_fields: Sequence[str] = (),
    sheet: str | int = 0,
) -> list[SheetRow]:
    """:class:`SheetRow` records of a sheet with a header row (the common case).

    Fields: ``subject, filename, onset, apex, offset, aus, emotion, type, notes, first_frame`` plus
    ``note_fields`` (kept as ``name=value`` in the notes).
    """
    sheet_name = None if path.suffix.lower() == ".csv" else _sheet_label(path, sheet)
    out = []
    sentinels = sentinels or {}
    for r, vals in read_header_sheet(path, aliases, required, report, sheet=sheet):
        nums: dict[str, int | None] = {}
        raw: dict[str, Any] = {}
        for f in ("onset", "apex", "offset", "first_frame"):
            v = vals.get(f)
            col = aliases.get(f, (f,))[0]
            nums[f] = frame_cell(v, col, path, sheet_name, r, sentinels.get(f, ()))
            if f not in aliases:
                raw[f] = "no column"
            elif nums[f] is None:
                raw[f] = "empty" if v is None or _isnan(v) else cell_text(v)
        if is_empty(vals.get("subject")) or is_empty(vals.get("filename")):
            raise InputError("Subject or Filename empty", file=str(path), sheet=sheet_name, row=r)
        notes = []
        if not is_empty(vals.get("notes")):
            notes.append(cell_text(vals["notes"]))
        for f in note_fields:
            if not is_empty(vals.get(f)):
                notes.append(f"{f}={cell_text(vals[f])}")
        out.append(
            SheetRow(
                subject=cell_text(vals["subject"]),
                filename=cell_text(vals["filename"]),
                onset=nums["onset"],
                apex=nums["apex"],
                offset=nums["offset"],
                file=path,
                sheet=sheet_name,
                row=r,
                aus=cell_or_none(vals, "aus"),
                emotion=cell_or_none(vals, "emotion"),
                type=cell_or_none(vals, "type"),
                notes=notes,
                first_frame=nums["first_frame"],
                raw=raw,
            )
        )
    return out
