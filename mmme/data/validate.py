"""``mmme validate``: every problem of a store, raw folder or coding file, named."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmme.data.annotations import FLAGS, has_flag
from mmme.data.store import (
    FRAME_COLUMNS,
    Store,
    check_npy,
    parquet_rows,
    read_store_json,
    read_store_parquet,
)
from mmme.data.streams import SignalStream
from mmme.errors import StoreFileError

#: Flags that are errors; the others are warnings.
ERROR_FLAGS: frozenset[str] = frozenset()
#: Flags listed once per subject from the import report (with a guess at the intended subject)
#: rather than once per row.
_REPORTED_FLAGS: frozenset[str] = frozenset({"no_recording"})


@dataclass
class Problem:
    """One finding: ``level`` is ``"error"`` or ``"warning"``; ``where`` names file/row/channel."""

    level: str
    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.level.upper():7s} {self.kind}: {self.where}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def annotation_problems(ann: Any) -> list[Problem]:
    out = []
    for flag, meaning in FLAGS.items():
        if flag in _REPORTED_FLAGS:
            continue
        for _, r in ann[has_flag(ann, flag)].iterrows():
            detail = meaning
            if flag == "type_disagrees_with_rule":
                detail = f"coders say {r['type_coder']}, the ME rule says {r['type_rule']}"
            out.append(
                Problem(
                    "error" if flag in ERROR_FLAGS else "warning", flag, str(r["source"]), detail
                )
            )
    for _, r in ann.iterrows():
        ts = [r[f"{p}_rel_s"] for p in ("onset", "apex", "offset")]
        if all(np.isfinite(ts)) and not ts[0] <= ts[1] <= ts[2]:
            out.append(
                Problem("error", "order", str(r["source"]), f"onset/apex/offset out of order: {ts}")
            )
    return out


def _report_problems(report: dict[str, Any]) -> list[Problem]:
    """The rows an import repaired or skipped, and the damaged frames it listed
    (``import_report.json``), as warnings naming file:row and the reason."""
    out = []
    for r in report.get("repaired", []):
        where = r.get("source") or f"{r.get('file')}:{r.get('row')}"
        out.append(Problem("warning", "repaired_row", where, f"{r['flag']}: {r['reason']}"))
    for r in report.get("skipped", []):
        if "problem" in r:  # a coding row left out or not attached, with its own kind
            out.append(_coding_row_problem(r))
            continue
        if r.get("row") is not None:
            kind, where = "skipped_row", r.get("source") or f"{r.get('file')}:{r['row']}"
        else:  # a file, stream or subject left out
            kind = "skipped"
            where = str(r.get("file") or r.get("subject") or r.get("stream") or "import")
        out.append(Problem("warning", kind, where, str(r.get("reason", ""))))
    for r in report.get("damaged_frames", []):
        out.append(Problem("warning", "damaged_frame", str(r["file"]), str(r["reason"])))
    return out


def _coding_row_problem(r: dict[str, Any]) -> Problem:
    """A duplicate row, or the rows of a subject without recordings ("file rows 2, 5, 9")."""
    where = r.get("source") or f"subject {r.get('subject')}"
    rows = r.get("rows")
    if rows:
        where = f"{rows[0].rsplit(':', 1)[0]} rows " + ", ".join(
            x.rsplit(":", 1)[-1] for x in rows
        )
    return Problem(r.get("level", "warning"), r["problem"], where, r.get("reason", ""))


def _channel_problems(stream: SignalStream, label: str) -> list[Problem]:
    """NaN and flat channels of a stream, scanned once in 5-minute chunks of all channels."""
    n = len(stream.ch_names)
    nan, lo, hi = np.zeros(n, bool), np.full(n, np.inf), np.full(n, -np.inf)
    for data, _ in stream.iter_chunks(chunk_s=300.0):
        if data.size:
            nan |= np.isnan(data).any(axis=1)
            with warnings.catch_warnings():  # an all-NaN channel is reported below
                warnings.simplefilter("ignore", RuntimeWarning)
                lo = np.fmin(lo, np.nanmin(data, axis=1))
                hi = np.fmax(hi, np.nanmax(data, axis=1))
    out = []
    for j, ch in enumerate(stream.ch_names):
        where = f"{label}, channel {ch!r}"
        if nan[j]:
            out.append(Problem("error", "nan_channel", where, "contains NaN"))
        elif lo[j] == hi[j]:
            out.append(Problem("warning", "flat_channel", where, f"constant {lo[j]!r}"))
    return out


def validate_store(store: Store, check_signals: bool = True) -> list[Problem]:
    """Problems of an imported store: annotations, frames, channels, markers."""
    report = store.report
    # a repaired row is listed once, with the import's reason, not again by its flag
    repaired = {(r.get("source"), r.get("flag")) for r in report.get("repaired", [])}
    out = [p for p in annotation_problems(store.annotations) if (p.where, p.kind) not in repaired]
    out += _report_problems(report)
    for subject, session in store.sessions:
        ses = store.session(subject, session)
        for p in ses.meta.get("problems", []):
            if check_signals and p["problem"] == "flat_channel":
                continue  # the full scan below reports it again
            where = p.get("file") or p.get("source") or f"{subject}/{session}"
            if p.get("channel"):
                where = f"{where}, channel {p['channel']!r}"
            out.append(Problem(p.get("level", "warning"), p["problem"], where, p.get("detail", "")))
        for dev, clock in ses.clocks.items():
            if dev != ses.reference and clock.residual_max_s > 0.010:
                out.append(
                    Problem(
                        "warning",
                        "marker_jitter",
                        f"{subject}/{session} {dev}",
                        f"marker residual up to {clock.residual_max_s * 1e3:.1f} ms",
                    )
                )
        if check_signals:
            for name, s in ses.streams.items():
                out.extend(_channel_problems(s, f"{subject}/{session} {name}"))
    return out


def store_without_meta(path: Path) -> bool:
    """A store whose ``store.json`` is gone (its other files are there)."""
    tables = ("trials.parquet", "annotations.parquet", "import_report.json")
    return (path / "sessions").is_dir() and any((path / f).is_file() for f in tables)


#: Columns each table of a store must have.
_TABLE_COLUMNS = {
    "markers.parquet": ("device", "code", "device_time_s", "time_s"),
    "frames.parquet": FRAME_COLUMNS,
}


def store_file_problems(path: str | Path) -> list[Problem]:
    """Every missing or damaged file of a store, each named (``damaged_file``).

    Reads every JSON and Parquet file whole, checks each ``.npy`` header against its size and
    the channels ``session.json`` lists, the frame and marker tables' columns, and that the
    frame files the frame table names exist. An empty list means the files are intact.
    """
    path = Path(path)
    out: list[Problem] = []

    def bad(exc: StoreFileError) -> None:
        out.append(Problem("error", "damaged_file", exc.file, exc.what))

    def table(file: Path, required: bool = True) -> Any:
        if not required and not file.exists():
            return None
        try:
            df = read_store_parquet(file)
        except StoreFileError as exc:
            return bad(exc)
        missing = [c for c in _TABLE_COLUMNS.get(file.name, ()) if c not in df.columns]
        if missing:
            bad(StoreFileError(file, f"lacks column(s) {missing}"))
        return df

    try:
        meta = read_store_json(path / "store.json")
    except StoreFileError as exc:
        bad(exc)
        meta = None
    table(path / "annotations.parquet", required=False)
    table(path / "trials.parquet", required=False)
    if (path / "import_report.json").exists():
        try:
            read_store_json(path / "import_report.json")
        except StoreFileError as exc:
            bad(exc)
    if meta is None:
        return out
    try:
        store = Store(path)
        sessions = store.sessions
    except StoreFileError as exc:
        bad(exc)
        return out
    for subject, session in sessions:
        d = path / "sessions" / str(subject) / str(session)
        try:
            smeta = read_store_json(d / "session.json")
            _ = store.session(subject, session).clocks  # its required entries
        except StoreFileError as exc:
            bad(exc)
            continue
        table(d / "markers.parquet")
        for name, m in (smeta.get("streams") or {}).items():
            try:
                check_npy(d / "signals" / f"{name}.npy", len(m.get("ch_names", [])) or None)
            except StoreFileError as exc:
                bad(exc)
        video = smeta.get("video")
        if video:
            out.extend(_frame_problems(store, subject, session, d))
    return out


def _frame_problems(store: Store, subject: str, session: str, d: Path) -> list[Problem]:
    """The frame table of a session, and the frame files it names (missing ones counted)."""
    file = d / "video" / "frames.parquet"
    try:
        parquet_rows(file)
        ses = store.session(subject, session)
        ft = ses.frames
        assert ft is not None
        df = read_store_parquet(file)
    except StoreFileError as exc:
        return [Problem("error", "damaged_file", exc.file, exc.what)]
    missing_cols = [c for c in FRAME_COLUMNS if c not in df.columns]
    if missing_cols:
        return [Problem("error", "damaged_file", str(file), f"lacks column(s) {missing_cols}")]
    if not ft.root.is_dir():
        return [Problem("error", "missing_frames", str(file),
                        f"frames_root {ft.root} is not a folder ({len(df)} frames)")]
    gone = [p for p in df["path"].astype(str) if not (ft.root / p).is_file()]
    if gone:
        return [Problem("error", "missing_frames", str(file),
                        f"{len(gone)} of {len(df)} frame files missing, first {ft.root / gone[0]}")]
    return []
