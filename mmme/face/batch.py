"""Face front end over every trial of a store, cached and resumable, through the executor.

Results go to ``store.derived("face")`` (``STORE/derived/face/``, :mod:`mmme.data.derived`): per
trial one entry keyed by the parameters and the trial's frames (frame table rows, each file's
size and modification time), holding the arrays of
:meth:`~mmme.face.pipeline.FaceResult.to_arrays` plus ``rppg`` in ``<key>.npz``, the remote pulse
as a channel named ``rPPG`` on the session's common clock in ``<key>.rppg.parquet``, and its
figures in ``<key>.json``; the table ``index`` maps each trial to its key.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.derived import TrialInputs
from mmme.errors import InputError
from mmme.utils import merge_params

#: Parameters of :func:`mmme.face.pipeline.analyze_frames` a store run uses unless told otherwise.
DEFAULT_PARAMS: dict[str, Any] = {
    "backend": "auto", "size": 128, "flow": "tvl1_fast", "window": 0, "align": "segment",
    "realign_px": 3.0, "compensate": True, "flow_region": "rois", "rppg": "pos",
}


def trial_fps(times_s: np.ndarray) -> float:
    """Frame rate from frame time stamps (median interval, robust to dropped frames)."""
    t = np.asarray(times_s, dtype=np.float64)
    if len(t) < 2:
        raise InputError("a trial needs at least 2 frames to know its frame rate")
    dt = float(np.median(np.diff(t)))
    if not dt > 0:
        raise InputError("frame times do not increase")
    return 1.0 / dt


def trial_inputs(subject: str, session: str, trial: str) -> TrialInputs:
    """What the face stage reads of a trial: its frames (rows and files), nothing else."""
    return TrialInputs(subject, session, trial, frames=True)


def process_trial(store_path: str, subject: str, session: str, trial: str,
                  params: dict[str, Any], force: bool = False) -> dict[str, Any]:
    """Analyse one trial's video (or reuse its cache entry); top-level so it pickles.

    Returns
    -------
    dict
        ``subject, session, trial, key, n_frames, n_lost, heart_rate_bpm, cached``.
    """
    from mmme.data.store import Store
    from mmme.face.pipeline import analyze_frames
    from mmme.face.rppg import rppg

    store = Store(store_path)
    tr = store.trial(subject, session, trial)
    frames = tr.frames
    row = {"subject": subject, "session": session, "trial": trial}
    if len(frames) < 2:
        return {**row, "key": "", "n_frames": len(frames), "n_lost": 0,
                "heart_rate_bpm": float("nan"), "cached": False}
    results = store.derived("face")
    key = results.key(params, trial_inputs(subject, session, trial))
    entry = None if force else results.get(key)
    if entry is not None:
        meta = entry.meta
        return {**row, "key": key.id, "n_frames": meta["n_frames"], "n_lost": meta["n_lost"],
                "heart_rate_bpm": meta["heart_rate_bpm"], "cached": True}
    fps = trial_fps(frames["time_s"].to_numpy())
    kw = {k: v for k, v in params.items() if k != "rppg"}
    res = analyze_frames(tr.iter_frames(), fps, **kw)
    hr = float("nan")
    pulse = np.full(res.n_frames, np.nan)
    if res.face.sum() >= fps * 4 and params.get("rppg"):
        df = rppg(res.skin_rgb, fps, params["rppg"])
        pulse, hr = df["rPPG"].to_numpy(), float(df.attrs["heart_rate_bpm"])
    meta = {"subject": subject, "session": session, "trial": trial, "fps": fps,
            "n_frames": res.n_frames, "n_lost": int((~res.face).sum()),
            "lost_frames": res.lost_frames.tolist(), "heart_rate_bpm": hr,
            "roi_names": list(res.roi_names)}
    pulse_table = pd.DataFrame({"time_s": frames["time_s"].to_numpy(), "rPPG": pulse})
    results.put(key, arrays={**res.to_arrays(), "rppg": pulse}, tables={"rppg": pulse_table},
                  meta=meta)
    return {**row, "key": key.id, "n_frames": res.n_frames, "n_lost": meta["n_lost"],
            "heart_rate_bpm": hr, "cached": False}


def process_store(
    store_path: str | os.PathLike[str],
    params: dict[str, Any] | None = None,
    *,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    force: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Run the face front end on every trial with video; cached trials are skipped.

    Returns
    -------
    pandas.DataFrame
        One row per trial (``subject, session, trial, key, n_frames, n_lost, heart_rate_bpm,
        cached``), also the table ``index`` (``derived/face/index.parquet``).
    """
    from mmme.data.store import Store
    from mmme.executor import Executor

    store = Store(store_path)
    p = merge_params(DEFAULT_PARAMS, params, "face")
    jobs = [(str(store.path), *key, p, force) for key in store.trial_keys(with_video=True)]
    with Executor(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers,
                  progress=progress) as ex:
        rows = ex.map(process_trial, jobs, desc="faces", star=True)
    index = pd.DataFrame(rows, columns=["subject", "session", "trial", "key", "n_frames",
                                        "n_lost", "heart_rate_bpm", "cached"])
    store.derived("face").write_table("index", index, sources=[k for k in index["key"] if k])
    return index
