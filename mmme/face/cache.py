"""A resumable, pickle-free cache of per-trial face results.

Each entry is ``<key>.npz`` (arrays, loaded with ``allow_pickle=False``) plus ``<key>.json``
(parameters, source identity and summary figures). The key is a hash of the input's identity and
the parameters, so changing either computes a new entry and an interrupted run resumes where it
stopped: the JSON is written last, after the arrays, and marks the entry complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from mmme.errors import StoreError
from mmme.utils import _json_default, atomic_path, read_json, write_json


def cache_key(source: Any, params: Any) -> str:
    """Hex SHA-256 (first 20 characters) of the JSON of ``source`` and ``params``."""
    blob = json.dumps({"source": source, "params": params}, sort_keys=True,
                      default=_json_default)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def file_identity(paths: list[str | os.PathLike[str]]) -> str:
    """Hash of file paths, sizes and modification times (cheap: no pixel is read)."""
    h = hashlib.sha256()
    for p in paths:
        st = os.stat(p)
        h.update(f"{os.fspath(p)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


class FaceCache:
    """Cache directory of face results.

    Parameters
    ----------
    root : str | Path
        Directory (created), e.g. ``store.cache_dir("face")``.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def has(self, key: str) -> bool:
        """Whether a complete entry exists."""
        return (self.root / f"{key}.json").is_file() and (self.root / f"{key}.npz").is_file()

    def put(self, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Store an entry: arrays first, then the JSON that marks it complete."""
        for name, a in arrays.items():
            if np.asarray(a).dtype == object:
                raise StoreError(f"cache entry {key}: array {name!r} has object dtype")
        with atomic_path(self.root / f"{key}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)
        write_json(self.root / f"{key}.json", {"key": key, **meta})

    def get(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """``(arrays, meta)`` of an entry, or ``None`` when absent or incomplete."""
        if not self.has(key):
            return None
        with np.load(self.root / f"{key}.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        return arrays, read_json(self.root / f"{key}.json")

    def meta(self, key: str) -> dict[str, Any] | None:
        """Only the JSON of an entry (cheap), or ``None``."""
        return read_json(self.root / f"{key}.json") if self.has(key) else None
