"""Pseudonymization: participant identifiers replaced by stable salted codes, everywhere.

Real recordings carry participants' names in folder and file names (the MMME ``Filename`` column
holds them). :func:`pseudonymize_store` rewrites a freshly imported store so that no identifier
remains: subject fields, session folders, trial names, frame paths (the frames are hard-linked, or
copied, into the store under pseudonymous paths), stream sources, problems and the import report.
A code is ``P`` + the first 10 hex digits of HMAC-SHA256(salt, identifier): the same salt gives
the same codes in every import; without the salt the identifiers cannot be recovered by hashing
guessed names. The salt is never written to the store.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from mmme.data.store import Store, StoreWriter
from mmme.errors import InputError

#: Environment variable read when no salt is given.
SALT_ENV = "MMME_SALT"


class Pseudonymizer:
    """Stable salted codes for identifiers, and their replacement inside any text.

    Parameters
    ----------
    salt : str
        Secret salt; the same salt gives the same codes.
    identifiers : iterable of str
        The identifiers to replace inside texts (subjects, names).
    prefix : str
        Start of every code.

    Examples
    --------
    >>> p = Pseudonymizer("s3cret", ["S01"])
    >>> p.text("S01/video/x.tif") == p.code("S01") + "/video/x.tif"
    True
    """

    def __init__(self, salt: str, identifiers: Iterable[str] = (), prefix: str = "P") -> None:
        if not salt:
            raise InputError("pseudonymization needs a non-empty salt")
        self._key = salt.encode()
        self.prefix = prefix
        self.identifiers = sorted({str(i) for i in identifiers if str(i).strip()}, key=len)[::-1]
        self._re = (
            re.compile(
                r"(?<![A-Za-z0-9])(" + "|".join(re.escape(i) for i in self.identifiers) + ")"
                r"(?![A-Za-z0-9])",
                re.IGNORECASE,
            )
            if self.identifiers
            else None
        )
        self._lower = {i.lower(): i for i in self.identifiers}

    def code(self, identifier: str) -> str:
        """The code of one identifier (case-insensitive)."""
        digest = hmac.new(self._key, str(identifier).strip().lower().encode(), hashlib.sha256)
        return f"{self.prefix}{digest.hexdigest()[:10].upper()}"

    def text(self, s: Any) -> Any:
        """Replace every identifier inside a string (non-strings returned unchanged)."""
        if not isinstance(s, str) or self._re is None:
            return s
        return self._re.sub(lambda m: self.code(self._lower[m.group(1).lower()]), s)

    def obj(self, o: Any) -> Any:
        """:meth:`text` applied to every string of a JSON-like object."""
        if isinstance(o, dict):
            return {self.text(k): self.obj(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [self.obj(v) for v in o]
        return self.text(o)

    def column(self, s: pd.Series) -> pd.Series:
        return s.astype("object").map(lambda v: v if pd.isna(v) else self.text(str(v)))


def resolve_salt(salt: str | None) -> tuple[str, bool]:
    """``(salt, given)``: the salt given, else ``$MMME_SALT``, else a random one."""
    if salt:
        return salt, True
    env = os.environ.get(SALT_ENV)
    if env:
        return env, True
    return secrets.token_hex(16), False


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(src, dst)


def pseudonymize_store(
    src: str | Path,
    dst: str | Path,
    salt: str | None = None,
    identifiers: Iterable[str] = (),
) -> Store:
    """Write a pseudonymized copy of the store ``src`` at ``dst``.

    Parameters
    ----------
    src : str | Path
        An imported store (with the real identifiers).
    dst : str | Path
        The store to write (replaced atomically).
    salt : str | None
        Secret salt; default ``$MMME_SALT``, else random (codes then differ between imports,
        which the report says).
    identifiers : iterable of str
        Further identifiers to remove from texts, besides the subjects.

    Returns
    -------
    Store
        The pseudonymized store; its frames are hard links (or copies) inside it.
    """
    st = Store(src)
    salt, given = resolve_salt(salt)
    subjects = set(st.trials["subject"].dropna().astype(str))
    subjects |= set(st.annotations["subject"].dropna().astype(str))
    subjects |= {s for s, _ in st.sessions}
    pz = Pseudonymizer(salt, [*subjects, *identifiers])
    with StoreWriter(
        dst, dataset=st.meta.get("dataset", ""), source=pz.text(st.meta["source"])
    ) as w:
        for subject, session in st.sessions:
            ses = st.session(subject, session)
            code = pz.code(subject)
            out = w.session_dir(code, session)
            for name in ses.meta.get("streams", {}):
                _link(ses.path / "signals" / f"{name}.npy", out / "signals" / f"{name}.npy")
            frames, video = None, ses.meta.get("video")
            if video:
                ft = ses.frames
                assert ft is not None
                frames = ft.table.copy()
                new = [pz.text(p) for p in frames["path"].astype(str)]
                for old_rel, new_rel in zip(frames["path"].astype(str), new, strict=True):
                    _link(ft.path(old_rel), out / "video" / "frames" / PurePosixPath(new_rel))
                frames["path"] = new
                frames["trial"] = pz.column(frames["trial"])
                video = {**pz.obj(video), "frames_root": "video/frames"}
            skip = {"subject", "session", "reference", "clocks", "streams", "video"}
            extra = pz.obj({k: v for k, v in ses.meta.items() if k not in skip})
            w.add_session(
                code,
                session,
                clocks=ses.clocks,
                reference=ses.reference,
                markers=ses.markers,
                streams=pz.obj(ses.meta.get("streams", {})),
                frames=frames,
                video=video,
                extra=extra,
            )
        trials = st.trials.copy()
        trials["subject"] = trials["subject"].map(pz.code)
        trials["trial"] = pz.column(trials["trial"])
        w.add_trials(trials.to_dict("records"))
        ann = st.annotations.copy()
        ann["subject"] = (
            ann["subject"].astype("object").map(lambda s: pz.code(s) if pd.notna(s) else s)
        )
        for col in ("trial", "source", "notes", "emotion_raw"):
            ann[col] = pz.column(ann[col])
        w.add_annotations(ann)
        w.report.clear()
        w.report.update(pz.obj(st.report))
        w.report["pseudonymized"] = {
            "subjects": len(subjects),
            "salt": "given" if given else "random (codes differ between imports)",
            "code": "P + first 10 hex digits of HMAC-SHA256(salt, identifier)",
        }
    return Store(dst)


def with_pseudonyms(
    run: Callable[[Path], Any],
    store: str | Path,
    salt: str | None = None,
    identifiers: Iterable[str] = (),
) -> Store:
    """Import with ``run(tmp_store)`` into a hidden sibling, then pseudonymize into ``store``.

    The un-pseudonymized store is removed whatever happens.
    """
    store = Path(store).absolute()
    tmp = store.with_name(f".{store.name}.raw-{os.getpid()}")
    try:
        run(tmp)
        return pseudonymize_store(tmp, store, salt, identifiers)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
