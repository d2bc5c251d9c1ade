"""``mmme physio STORE``: event-locked physiology and EEG features for every trial, cached.

Each trial is one job of :class:`mmme.executor.Executor`: its peripheral channels (and EEG) over
the trial span plus a padding are processed, and every annotation of the trial gets baseline /
response window features (:func:`mmme.physio.events.event_features`; EEG: band power and
differential entropy per channel in a baseline and a response window), plus sliding-window
peripheral features over the whole trial for spotting. Results go to ``store.derived("physio")``
(``STORE/derived/physio/``, :mod:`mmme.data.derived`): one entry per trial with the tables
``<key>.events.parquet`` and ``<key>.sliding.parquet``, keyed by the parameters and the trial's
inputs (:func:`trial_inputs`: its span, its annotations' ``event, onset_s, apex_s`` and every
stream's samples over the padded span); an existing key is reused, so an interrupted run resumes
where it stopped and a re-import keeps the trials whose inputs did not change. The tables
``index`` (the trials and their keys) and ``events`` (all trials' event features, tidy) are
rebuilt by every run.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from mmme.data.derived import DerivedKey, TrialInputs
from mmme.errors import StoreError
from mmme.physio.events import TIDY_COLUMNS, event_features, event_table, sliding_features
from mmme.physio.peripheral import CHANNEL_KINDS, process_signal
from mmme.utils import merge_params

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


def trial_inputs(subject: str, session: str, trial: str, params: dict[str, Any]) -> TrialInputs:
    """What the physio stage reads of a trial: its span, the annotation columns it uses, and
    every stream of the session over the span padded by ``pad_s``."""
    return TrialInputs(subject, session, trial, span=True, streams=True,
                       annotations=("event", "onset_s", "apex_s"), pad_s=float(params["pad_s"]))


def trial_key(store: Any, subject: str, session: str, trial: str,
              params: dict[str, Any]) -> DerivedKey:
    """The key of a trial's physio result (:meth:`mmme.data.derived.Derived.key`)."""
    return store.derived("physio").key(params, trial_inputs(subject, session, trial, params))


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
    results = store.derived("physio")
    key = trial_key(store, subject, session, trial, params)
    tr = store.trial(subject, session, trial)
    ann = tr.annotations
    row = {"subject": subject, "session": session, "trial": trial, "key": key.id,
           "n_events": len(ann)}
    entry = None if force else results.get(key)
    if entry is not None:
        return {**row, "n_channels": int(entry.meta["n_channels"]), "cached": True}
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
        from mmme.eeg.events import eeg_event_rows  # MNE loads only when needed

        extra = eeg_event_rows(ses.streams["eeg"], tr.start_s - pad, tr.stop_s + pad, events,
                                params)
        tidy = pd.concat([tidy, pd.DataFrame(extra, columns=list(TIDY_COLUMNS))],
                         ignore_index=True)
    tidy.insert(0, "trial", trial)
    tidy.insert(0, "session", session)
    tidy.insert(0, "subject", subject)
    sliding = sliding_features(procs, tr.start_s, tr.stop_s, win_s=params["sliding_win_s"],
                               step_s=params["sliding_step_s"], max_bad=params["max_bad"])
    sliding.insert(0, "trial", trial)
    n_channels = int(tidy["channel"].nunique())
    results.put(key, tables={"events": tidy, "sliding": sliding},
                meta={"subject": subject, "session": session, "trial": trial,
                      "n_events": len(ann), "n_channels": n_channels})
    return {**row, "n_channels": n_channels, "cached": False}


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
        The table ``index``: one row per trial (:data:`INDEX_COLUMNS`). All event features are
        concatenated into the table ``events`` (``derived/physio/events.parquet``).
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
    results = store.derived("physio")
    parts = []
    for k in index["key"]:
        entry = results.get(k)
        if entry is None:
            raise StoreError(f"{results.root}: the result {k} vanished during the run")
        parts.append(entry.table("events"))
    allev = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["subject", "session", "trial", *TIDY_COLUMNS])
    results.write_table("events", allev, sources=index["key"])
    results.write_table("index", index, sources=index["key"])
    return index
