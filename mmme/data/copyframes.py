"""Self-contained stores: the frame files moved inside the store (``mmme import --copy-frames``).

An imported store refers to its frames where they lie (``frames_root`` in ``session.json``, the
raw folder). :func:`copy_frames_store` writes a copy of a store whose frames are hard-linked (on
another file system: copied, after a free-space check) into
``sessions/<subject>/<session>/video/frames/`` with ``frames_root`` set to ``video/frames``, so
the store survives the raw folder moving or going away.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from mmme.data.store import Store, StoreWriter, ensure_free_space
from mmme.errors import StoreError

#: Where the frames go inside a session folder (relative ``frames_root``).
FRAMES_DIR = "video/frames"


def _inside(rel: str, frames_table: Path) -> PurePosixPath:
    p = PurePosixPath(str(rel).replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise StoreError(f"{frames_table}: frame path {rel!r} is not relative to frames_root")
    return p


def _try_link(src: Path, dst: Path) -> bool:
    """Hard-link ``src`` at ``dst``; False when links are impossible (another file system)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except FileNotFoundError:
        raise StoreError(f"file missing: {src}") from None
    except FileExistsError:  # the same file listed twice
        pass
    except OSError:
        return False
    return True


def _copy(src: Path, dst: Path) -> int:
    shutil.copy2(src, dst)
    return dst.stat().st_size


def copy_frames_store(src: str | Path, dst: str | Path) -> Store:
    """Write a copy of the store ``src`` at ``dst`` with every frame file inside it.

    Parameters
    ----------
    src : str | Path
        An imported store.
    dst : str | Path
        The store to write (replaced atomically, like an import).

    Returns
    -------
    Store
        The self-contained store; ``import_report.json`` says how many frames were linked and
        copied.

    Raises
    ------
    StoreError
        A frame file is missing or its path leaves ``frames_root``.
    DiskFullError
        Copies (not links) would not fit on the disk.
    """
    st = Store(src)
    counts = {"frames": 0, "linked": 0, "copied": 0, "bytes_copied": 0}
    meta = st.meta
    with StoreWriter(dst, dataset=meta.get("dataset", ""), source=meta.get("source", "")) as w:
        for subject, session in st.sessions:
            ses = st.session(subject, session)
            out = w.session_dir(subject, session)
            for name in ses.meta.get("streams", {}):
                npy = f"signals/{name}.npy"
                src_npy, dst_npy = ses.path / npy, out / npy
                if not _try_link(src_npy, dst_npy):  # the intermediate store is a sibling
                    _copy(src_npy, dst_npy)
            frames, video = None, ses.meta.get("video")
            ft = ses.frames
            if video and ft is not None:
                frames = ft.table
                rels = [_inside(r, ft.parquet) for r in frames["path"].astype(str)]
                _link_or_copy_frames(ft.root, rels, out / FRAMES_DIR, counts)
                frames["path"] = [str(r) for r in rels]
                video = {**video, "frames_root": FRAMES_DIR}
            skip = {"subject", "session", "reference", "clocks", "streams", "video"}
            w.add_session(
                subject,
                session,
                clocks=ses.clocks,
                reference=ses.reference,
                markers=ses.markers,
                streams=ses.meta.get("streams", {}),
                frames=frames,
                video=video,
                extra={k: v for k, v in ses.meta.items() if k not in skip},
            )
        w.add_trials(st.trials.to_dict("records"))
        w.add_annotations(st.annotations)
        w.report.clear()
        w.report.update(st.report)
        w.report["frames_copied"] = counts
    return Store(dst)


def _link_or_copy_frames(
    root: Path, rels: list[PurePosixPath], out: Path, counts: dict[str, int]
) -> None:
    """Hard links take no room; when they fail (another file system) the copies of the
    remaining frames must fit on the disk, checked before the first copy."""
    checked = False
    for i, rel in enumerate(rels):
        src, dst = root / rel, out / rel
        if _try_link(src, dst):
            counts["linked"] += 1
            continue
        if not checked:
            need = sum((root / r).stat().st_size for r in rels[i:] if (root / r).is_file())
            ensure_free_space(out, need, f"copying {len(rels) - i} frame files into {out}")
            checked = True
        if not src.is_file():
            raise StoreError(f"file missing: {src}")
        counts["bytes_copied"] += _copy(src, dst)
        counts["copied"] += 1
    counts["frames"] += len(rels)


def with_copied_frames(run: Callable[[Path], Any], store: str | Path) -> Store:
    """Import with ``run(tmp_store)`` into a hidden sibling, then copy it with its frames into
    ``store``; the intermediate store is removed whatever happens."""
    store = Path(store).absolute()
    tmp = store.with_name(f".{store.name}.copy-{os.getpid()}")
    try:
        run(tmp)
        return copy_frames_store(tmp, store)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
