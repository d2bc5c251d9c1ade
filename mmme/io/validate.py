"""``mmme validate PATH``: a store, a raw MMME folder or a coding file, every problem named.

A store is checked file by file, then its content (:mod:`mmme.data.validate`); a raw folder is
imported into a temporary store first, after every bad coding row has been listed (the import
would stop at the first).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mmme.data.store import Store, is_store, recover_store
from mmme.data.validate import (
    Problem,
    annotation_problems,
    store_file_problems,
    store_without_meta,
    validate_store,
)
from mmme.errors import MMMEError
from mmme.executor import Executor
from mmme.io.coding import duplicate_reason, read_coding_file
from mmme.io.mmme import find_coding_file, import_mmme


def validate_path(path: str | Path) -> list[Problem]:
    """Validate a store, a raw MMME folder or a coding file; never raises on bad data."""
    path = Path(path)
    if is_store(path) or store_without_meta(path) or recover_store(path):
        damaged = store_file_problems(path)
        if damaged:  # the content checks below need intact files
            return damaged
        return validate_store(Store(path))
    if path.is_file():
        errors: list[dict[str, Any]] = []
        try:
            coding = read_coding_file(path, errors=errors)
        except MMMEError as exc:
            return [Problem("error", "unreadable", str(path), str(exc))]
        out = [Problem("error", "bad_row", e["source"], e["error"]) for e in errors]
        out += [
            Problem("warning", "duplicate_row", d["source"], duplicate_reason(d))
            for d in coding.duplicates
        ]
        return out + annotation_problems(coding.annotations)
    if not path.is_dir():
        return [Problem("error", "missing", str(path), "no such file or folder")]
    # the import stops at the first bad coding row: list them all first
    coding_errors: list[Problem] = []
    cf = find_coding_file(path.absolute())
    if cf is not None:
        errors: list[dict[str, Any]] = []
        try:
            read_coding_file(cf, errors=errors)
        except MMMEError as exc:
            return [Problem("error", "unreadable", str(cf), str(exc))]
        coding_errors = [Problem("error", "bad_row", e["source"], e["error"]) for e in errors]
    if coding_errors:
        return coding_errors
    with tempfile.TemporaryDirectory(prefix="mmme-validate-") as tmp:
        try:
            store = import_mmme(
                path, Path(tmp) / "store", executor=Executor(n_jobs=1, progress=False)
            )
        except MMMEError as exc:
            return [Problem("error", type(exc).__name__, str(path), str(exc))]
        return validate_store(store)
