"""The MMME coding file (``coding_file.xlsx``): one row per coded expression.

Columns ``Subject, Filename, Marker, OnsetTime, ApexTime, OffsetTime, OnsetFrame, ApexFrame,
OffsetFrame, Action Units, Estimated Emotion, [Macro/Micro], Date, dif``. ``*Time`` are seconds from
the start of the trial's video, ``*Frame`` are frame file-name stamps ``HH-MM-SS-mmm-code``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mmme.data.annotations import format_aus, make_annotations, normalize_type, parse_aus
from mmme.errors import InputError
from mmme.io.sheets import read_sheet

REQUIRED_COLUMNS = (
    "Subject",
    "Filename",
    "Marker",
    "OnsetTime",
    "ApexTime",
    "OffsetTime",
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    "Action Units",
    "Estimated Emotion",
)
TYPE_COLUMN = "Macro/Micro"
#: Cells a row cannot do without (the others may be blank).
_NEEDED_CELLS = (
    "Subject",
    "Marker",
    "OnsetTime",
    "ApexTime",
    "OffsetTime",
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
)
# The frame code is missing in part of the real sample ("15-10-22-548").
STAMP_RE = re.compile(r"^(\d{1,2})-(\d{2})-(\d{2})-(\d{3})(?:-(\d+))?$")
#: Coded times and frame stamps differ by rounding (2 decimals) and a few frames in the real sample
#: (95th percentile 35 ms); beyond this the row is flagged.
TIME_STAMP_TOLERANCE_S = 0.05


@dataclass
class CodingFile:
    """A parsed coding file: the annotation table and what was noticed on the way."""

    path: Path
    annotations: pd.DataFrame
    has_type_column: bool
    quirks: list[dict[str, Any]] = field(default_factory=list)
    #: Rows left out because they repeat an earlier row's event (same subject, marker and
    #: onset/apex/offset stamps): ``{"source", "duplicate_of", "identical"}``.
    duplicates: list[dict[str, Any]] = field(default_factory=list)


def stamp_seconds(stamp: str) -> float:
    """Seconds since midnight of a ``HH-MM-SS-mmm[-code]`` stamp (the code is ignored)."""
    m = STAMP_RE.match(str(stamp).strip())
    if not m:
        raise ValueError(f"not a frame stamp HH-MM-SS-mmm[-code]: {stamp!r}")
    h, mi, s, ms_ = (int(m.group(i)) for i in range(1, 5))
    return h * 3600 + mi * 60 + s + ms_ / 1000


def read_coding_file(
    path: str | Path, sheet: str | int = 0, errors: list[dict[str, Any]] | None = None
) -> CodingFile:
    """Read an MMME coding file into the annotation table.

    Parameters
    ----------
    path : str | Path
        The ``.xlsx`` (or ``.csv``) coding file.
    sheet : str | int
        Sheet name or index.
    errors : list | None
        If given, bad rows are appended here (``{"row", "error"}``) and skipped instead of
        raising: ``mmme validate`` lists every bad row this way.

    Returns
    -------
    CodingFile
        Annotations (``type`` from ``Macro/Micro`` when present, else the ME rule), the flag list of
        each row, and the quirks noticed.

    Raises
    ------
    InputError
        Naming file, sheet and row, for a missing column, an unreadable cell, or onset/apex/offset
        out of order.
    """
    path = Path(path)
    raw = read_sheet(path, sheet, header=0, dtype=str, keep_na=True, what="coding file")
    if path.suffix.lower() == ".csv":
        sheet_name = None
    else:
        sheet_name = str(sheet) if isinstance(sheet, str) else f"#{sheet}"
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", file=str(path), sheet=sheet_name)
    has_type = TYPE_COLUMN in raw.columns
    records, quirks = [], []
    for i, row in raw.iterrows():
        excel_row = int(i) + 2  # 1-based, after the header row
        try:
            rec = _parse_row(row, excel_row, path, sheet_name, has_type, quirks)
        except InputError as exc:
            if errors is None:
                raise
            errors.append(
                {"row": excel_row, "source": f"{path.name}:{excel_row}", "error": str(exc)}
            )
            continue
        if rec is not None:
            records.append(rec)
    records, duplicates = _drop_duplicates(records)
    ann = make_annotations(records)
    known = {"anger", "disgust", "fear", "happiness", "sadness", "surprise", "contempt", "tense"}
    for i in ann.index[~ann["emotion"].isin(known)]:
        ann.loc[i, "flags"] = ";".join(filter(None, [ann.loc[i, "flags"], "unknown_emotion"]))
    return CodingFile(
        path=path,
        annotations=ann,
        has_type_column=has_type,
        quirks=quirks,
        duplicates=duplicates,
    )


#: What makes two coding rows the same event.
_EVENT_KEY = ("subject", "marker", "onset_stamp", "apex_stamp", "offset_stamp")


def _drop_duplicates(
    records: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep the first row of each event; the others are listed (a repeated row would be counted
    twice in every statistic and benchmark)."""
    first: dict[tuple[Any, ...], dict[str, Any]] = {}
    kept, dups = [], []
    for rec in records:
        key = tuple(rec[k] for k in _EVENT_KEY)
        if key not in first:
            first[key] = rec
            kept.append(rec)
            continue
        other = first[key]
        same = all(rec[k] == other[k] for k in rec if k != "source")
        dups.append(
            {"source": rec["source"], "duplicate_of": other["source"], "identical": same}
        )
    return kept, dups


def duplicate_reason(dup: dict[str, Any]) -> str:
    """One line on a dropped duplicate row."""
    how = "repeats" if dup["identical"] else "codes the same event (frames) as, but differs from,"
    return f"{how} row {str(dup['duplicate_of']).rsplit(':', 1)[-1]}; imported once"


def _parse_row(
    row: pd.Series,
    excel_row: int,
    path: Path,
    sheet_name: str | None,
    has_type: bool,
    quirks: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """One coding-file row as an annotation record (``None`` for an empty row)."""

    def fail(msg: str) -> InputError:
        return InputError(msg, file=str(path), sheet=sheet_name, row=excel_row)

    if row.isna().all():
        quirks.append({"row": excel_row, "quirk": "empty row skipped"})
        return None
    empty = [c for c in _NEEDED_CELLS if pd.isna(row[c]) or not str(row[c]).strip()]
    if empty:  # else float("nan") passes on and the message would be about the order
        raise fail(f"empty cell(s) in column(s) {empty}")
    try:
        times = [float(row[c]) for c in ("OnsetTime", "ApexTime", "OffsetTime")]
        marker = int(float(row["Marker"]))
    except (TypeError, ValueError) as exc:
        raise fail(f"unreadable time or marker: {exc}") from None
    onset, apex, offset = times
    if not onset <= offset:
        raise fail(f"onset {onset} s after offset {offset} s")
    flags = []
    if not onset <= apex <= offset:
        raise fail(f"apex {apex} s outside onset {onset} s .. offset {offset} s")
    stamps = [str(row[c]).strip() for c in ("OnsetFrame", "ApexFrame", "OffsetFrame")]
    try:
        secs = [stamp_seconds(s) for s in stamps]
    except ValueError as exc:
        raise fail(str(exc)) from None
    # Stamps are wall clock: a trial crossing midnight wraps around.
    secs = [s + 86400 if s < secs[0] - 43200 else s for s in secs]
    if not secs[0] <= secs[1] <= secs[2]:
        raise fail(f"frame stamps out of order: {stamps}")
    if any(STAMP_RE.match(s).group(5) is None for s in stamps):
        quirks.append({"row": excel_row, "quirk": "frame stamp without frame code"})
    if stamps[1] == stamps[2]:
        flags.append("apex_equals_offset")
    if stamps[0] == stamps[1]:
        flags.append("apex_equals_onset")
    if any(abs((secs[k] - secs[0]) - (times[k] - onset)) > TIME_STAMP_TOLERANCE_S for k in (1, 2)):
        flags.append("time_frame_mismatch")
    try:
        aus = format_aus(parse_aus(row["Action Units"]))
    except ValueError as exc:
        raise fail(f"column 'Action Units': {exc}") from None
    coder = None
    if has_type:
        try:
            coder = normalize_type(row[TYPE_COLUMN])
        except ValueError as exc:
            raise fail(f"column {TYPE_COLUMN!r}: {exc}") from None
    subject = str(row["Subject"]).strip()
    return {
        "subject": subject,
        "session": "1",
        "trial": str(marker),
        "marker": marker,
        "onset_rel_s": onset,
        "apex_rel_s": apex,
        "offset_rel_s": offset,
        "onset_stamp": stamps[0],
        "apex_stamp": stamps[1],
        "offset_stamp": stamps[2],
        "aus": aus,
        "emotion": row["Estimated Emotion"],
        "emotion_raw": row["Estimated Emotion"],
        "type_coder": coder,
        "flags": ";".join(flags),
        "notes": None,
        "source": f"{path.name}:{excel_row}",
    }
