"""``mmme physio STORE``: event-locked physiology and EEG features for every trial, cached.

Each trial is one job of :class:`mmme.executor.Executor`: its peripheral channels (and EEG) over
the trial span plus a padding are processed, and every annotation of the trial gets baseline /
response window features (:func:`mmme.physio.events.event_features`; EEG: band power and
differential entropy per channel in a baseline and a response window), plus sliding-window
peripheral features over the whole trial for spotting. Results go to
``STORE/derived/physio/<key>.events.parquet`` and ``<key>.sliding.parquet``, where ``key`` hashes
the trial's input files and the parameters; an existing key is reused, so an interrupted run
resumes where it stopped. ``index.parquet`` lists the trials and their keys, ``events.parquet``
holds all trials' event features (tidy).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.physio.events import TIDY_COLUMNS, event_features, event_table, sliding_features
from mmme.physio.peripheral import CHANNEL_KINDS, process_signal
from mmme.utils import merge_params, write_parquet

#: Parameters of a store run.
DEFAULT_PARAMS: dict[str, Any] = {
    "pad_s": 20.0,  # processed around the trial so filters and SCR windows settle
    "max_bad": 0.2,
    "sliding_win_s": 2.0,
    "sliding_step_s": 0.5,
    "eeg": True,
    "eeg_baseline": [-2.0, 0.0],
    "eeg_response": [0.0, 2.0],
    "eeg_sfreq": 250.0,
}
INDEX_COLUMNS = ("subject", "session", "trial", "key", "n_events", "n_channels", "cached")


def _identity(paths: list[Path]) -> list[list[Any]]:
    out = []
    for p in paths:
        st = p.stat()
        out.append([p.name, st.st_size, st.st_mtime_ns])
    return out


def trial_key(store: Any, subject: str, session: str, trial: str, params: dict[str, Any]) -> str:
    """Hash of a trial's inputs (signal files, annotations, trial table) and the parameters."""
    ses = store.session(subject, session)
    files = sorted((ses.path / "signals").glob("*.npy"))
    files += [store.path / "annotations.parquet", store.path / "trials.parquet",
              ses.path / "session.json"]
    src = {"trial": [subject, session, trial],
           "files": _identity([f for f in files if f.exists()])}
    blob = json.dumps({"source": src, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _eeg_event_rows(stream: Any, start_s: float, stop_s: float, events: pd.DataFrame,
                    params: dict[str, Any]) -> list[tuple[Any, ...]]:
    from mmme.eeg.channels import make_raw
    from mmme.eeg.features import BANDS, band_power, differential_entropy
    from mmme.eeg.preprocess import preprocess_raw

    data, times = stream.get_data(start_s, stop_s)
    if data.shape[1] < 10 * stream.sfreq:
        return []
    # samples are uniform on the device clock: filter at its nominal rate
    raw = make_raw(data, stream.sfreq, stream.ch_names)
    raw = preprocess_raw(raw, resample_sfreq=params["eeg_sfreq"], copy=False)
    fs = raw.info["sfreq"]
    eeg_names = [c for c, t in zip(raw.ch_names, raw.get_channel_types(), strict=True)
                 if t == "eeg" and c.upper() not in ("M1", "M2")]
    x = raw.get_data(picks=eeg_names)
    rows: list[tuple[Any, ...]] = []
    for wname in ("baseline", "response"):
        w0, w1 = params[f"eeg_{wname}"]
        n = int(round((w1 - w0) * fs))
        for e, t in zip(events["event"], events["onset_s"], strict=True):
            a = int(round((t + w0 - times[0]) * fs))
            if a < 0 or a + n > x.shape[1]:
                power = np.full((len(eeg_names), len(BANDS)), np.nan)
            else:
                power = band_power(x[:, a : a + n], fs)
            de = differential_entropy(power)
            for j, ch in enumerate(eeg_names):
                for k, band in enumerate(BANDS):
                    for fname, val in ((f"{band}_power", power[j, k]), (f"{band}_de", de[j, k])):
                        rows.append((e, ch, "eeg", wname, "onset", t + w0, t + w1, fname,
                                     float(val)))
    return rows


def process_trial(store_path: str, subject: str, session: str, trial: str,
                  params: dict[str, Any], force: bool = False) -> dict[str, Any]:
    """Event-locked and sliding features of one trial (or its cache entry); picklable.

    Returns
    -------
    dict
        One row of ``index.parquet``.
    """
    from mmme.data.store import Store

    store = Store(store_path)
    key = trial_key(store, subject, session, trial, params)
    root = store.cache_dir("physio")
    ev_path, sl_path = root / f"{key}.events.parquet", root / f"{key}.sliding.parquet"
    tr = store.trial(subject, session, trial)
    ann = tr.annotations
    row = {"subject": subject, "session": session, "trial": trial, "key": key,
           "n_events": len(ann)}
    if ev_path.exists() and sl_path.exists() and not force:
        return {**row, "n_channels": int(pd.read_parquet(ev_path, columns=["channel"])
                                         ["channel"].nunique()), "cached": True}
    ses = store.session(subject, session)
    pad = float(params["pad_s"])
    procs = []
    # the EEG amplifier's EKG/EMG are used only when there is no peripheral recorder
    has_physio = any(s.kind != "eeg" for s in ses.streams.values())
    for s in ses.streams.values():
        chans = [c for c in s.ch_names if c in CHANNEL_KINDS and
                 not (s.kind == "eeg" and has_physio)]
        if not chans:
            continue
        data, times = s.get_data(tr.start_s - pad, tr.stop_s + pad, chans)
        if data.shape[1] == 0:
            continue
        for i, c in enumerate(chans):
            procs.append(process_signal(data[i], s.sfreq, CHANNEL_KINDS[c], channel=c,
                                        t0=float(times[0])))
    events = event_table(ann[["event", "onset_s", "apex_s"]].dropna(subset=["onset_s"])) \
        if len(ann) else event_table([])
    tidy = event_features(procs, events, max_bad=params["max_bad"]) if procs else \
        pd.DataFrame(columns=list(TIDY_COLUMNS))
    if params.get("eeg") and "eeg" in ses.streams and len(events):
        extra = _eeg_event_rows(ses.streams["eeg"], tr.start_s - pad, tr.stop_s + pad, events,
                                params)
        tidy = pd.concat([tidy, pd.DataFrame(extra, columns=list(TIDY_COLUMNS))],
                         ignore_index=True)
    tidy.insert(0, "trial", trial)
    tidy.insert(0, "session", session)
    tidy.insert(0, "subject", subject)
    sliding = sliding_features(procs, tr.start_s, tr.stop_s, win_s=params["sliding_win_s"],
                               step_s=params["sliding_step_s"], max_bad=params["max_bad"])
    sliding.insert(0, "trial", trial)
    write_parquet(sl_path, sliding)
    write_parquet(ev_path, tidy)  # written last: its presence marks the trial done
    return {**row, "n_channels": int(tidy["channel"].nunique()), "cached": False}


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
    """Physiology features of every trial of a store; cached trials are reused.

    Returns
    -------
    pandas.DataFrame
        ``index.parquet``: one row per trial (:data:`INDEX_COLUMNS`). All event features are
        concatenated into ``derived/physio/events.parquet``.
    """
    from mmme.data.store import Store
    from mmme.executor import Executor

    store = Store(store_path)
    p = merge_params(DEFAULT_PARAMS, params, "physio")
    jobs = [(str(store.path), *key, p, force) for key in store.trial_keys()]
    with Executor(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers,
                  progress=progress) as ex:
        rows = ex.map(process_trial, jobs, desc="physio", star=True)
    index = pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
    root = store.cache_dir("physio")
    parts = [pd.read_parquet(root / f"{k}.events.parquet") for k in index["key"]]
    allev = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["subject", "session", "trial", *TIDY_COLUMNS])
    write_parquet(root / "events.parquet", allev)
    write_parquet(root / "index.parquet", index)
    return index
