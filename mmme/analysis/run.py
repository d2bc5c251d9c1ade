"""``mmme analyze STORE``: the event-related analysis of a store, written to ``OUT/``.

What is tested, and how multiple comparisons are controlled
-----------------------------------------------------------
*Unit.* The independent observations are subjects: per-event values are averaged per subject
first and the tests run across subjects. A store with fewer than ``min_subjects`` subjects (the
tiny test sets) falls back on events as units; ``analysis.json`` says which (``"unit"``).

1. Peripheral measures (HR, EDA phasic, RSP amplitude, SKT). Response size = mean of the
   baseline-corrected curve over the response window. For each measure and lock: (a) the lock
   against its matched random times (paired: per-unit mean difference), one-sample t-test,
   Cohen's d_z; (b) the random times alone against 0 (the false-positive check). Family:
   all (a) and (b) tests, Holm-Bonferroni (``p_holm``).
2. HR slope at ME apex against the trial's mean absolute slope: Wilcoxon signed-rank on the
   per-unit log ratio (one pre-specified test, the published finding; not in a family).
3. EEG band power (dB change from baseline) per channel x time, per band and lock against the
   matched random times: :func:`mne.stats.permutation_cluster_1samp_test` with the channels'
   adjacency (cluster-level p, which controls the family-wise error over channels x time);
   the three bands x three locks are a second family, Holm over the smallest cluster p of each.
4. ME vs MaE response size per measure: Welch t-test over units (Holm over measures).
5. Cross-modal: ME intensity (the largest ROI flow magnitude at the apex frame, from
   ``mmme faces``) against each measure's response size: Spearman over ME events (Holm over
   measures). Left out, with a note, when the store has no face results.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.analysis.erp import (
    DEFAULT_PARAMS,
    EEG_BANDS,
    LOCKS,
    MEASURES,
    TrialEpochs,
    _grid,
    region_of,
    trial_epochs,
)
from mmme.analysis.stats import holm, mean_ci, one_sample, spearman, two_sample, wilcoxon
from mmme.errors import InputError, StoreError
from mmme.utils import atomic_path, merge_params, write_json

ALL_LOCKS = (*LOCKS, "random")
SCHEMA = "mmme.analysis/1"


def _trial_job(store_path: str, subject: str, session: str, trial: str,
               params: dict[str, Any]) -> TrialEpochs:
    from mmme.data.store import Store

    return trial_epochs(Store(store_path), subject, session, trial, params)


def face_intensity(store: Any, events: pd.DataFrame) -> np.ndarray:
    """Largest ROI flow magnitude at each event's apex frame (NaN without face results)."""
    out = np.full(len(events), np.nan)
    try:
        index = store.derived("face").table("index")
    except StoreError:
        return out
    if not len(index):
        return out
    ann = store.annotations.set_index(["subject", "session", "trial", "event"])
    keys = {(str(r.subject), str(r.session), str(r.trial)): r.key for r in index.itertuples()}
    cache: dict[str, np.ndarray | None] = {}
    for i, e in enumerate(events.itertuples()):
        if e.event < 0:
            continue
        k = keys.get((e.subject, e.session, e.trial))
        if not k:
            continue
        if k not in cache:
            got = store.derived("face").get(k)
            cache[k] = None if got is None else np.asarray(got.arrays["motion"], float)
        motion = cache[k]
        try:
            apex = ann.loc[(e.subject, e.session, e.trial, e.event), "apex_frame"]
        except KeyError:
            continue
        if motion is None or pd.isna(apex) or not 0 <= int(apex) < len(motion):
            continue
        row = motion[int(apex)]
        out[i] = float(np.nanmax(row)) if np.isfinite(row).any() else np.nan
    return out


def _unit_values(events: pd.DataFrame, values: np.ndarray, unit: str) -> pd.Series:
    """Per-unit mean of per-event values (index: subject or event row)."""
    s = pd.Series(values, index=events.index)
    if unit == "event":
        return s
    return s.groupby(events["subject"].to_numpy()).mean()


def _paired_diff(events: pd.DataFrame, size: np.ndarray, lock: str, unit: str) -> pd.Series:
    """Lock minus its matched random time: per event pair, then per unit."""
    ev = events.assign(size=size)
    a = ev[ev["lock"] == lock].set_index(["subject", "session", "trial", "pair"])["size"]
    b = ev[ev["lock"] == "random"].set_index(["subject", "session", "trial", "pair"])["size"]
    d = (a - b.reindex(a.index)).dropna()
    if unit == "event":
        return d.reset_index(drop=True)
    return d.groupby(level="subject").mean()


def analyze(store: Any, params: dict[str, Any] | None = None, *, executor: Any = None,
            min_subjects: int = 5) -> dict[str, Any]:
    """Run the event-related analysis of a store (nothing written; see :func:`analyze_store`).

    Returns
    -------
    dict
        ``result`` (the JSON document), ``events`` (per-event table), ``arrays`` (curves).
    """
    from mmme.executor import Executor

    p = merge_params(DEFAULT_PARAMS, params, "analysis")
    trials = store.trials
    if not len(trials):
        raise InputError(f"{store.path}: the store has no trials to analyse")
    jobs = [(str(store.path), str(t.subject), str(t.session), str(t.trial), p)
            for t in trials.itertuples()]
    own = executor is None
    ex = executor or Executor(n_jobs=1, progress=False)
    try:
        parts = ex.map(_trial_job, jobs, desc="analysis trials", star=True)
    finally:
        if own:
            ex.close()
    parts = [t for t in parts if len(t.events)]
    if not parts:
        raise InputError(f"{store.path}: no coded ME/MaE events with times to analyse")
    events = pd.concat([t.events for t in parts], ignore_index=True)
    events["intensity"] = face_intensity(store, events)
    grid = _grid(p["tmin"], p["tmax"], p["grid_hz"])
    curves = {m: np.concatenate([t.curves[m] for t in parts]) for m in MEASURES}
    n_subjects = int(events["subject"].nunique())
    unit = "subject" if n_subjects >= min_subjects else "event"
    rw = (grid >= p["response"][0]) & (grid <= p["response"][1])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sizes = {m: np.nanmean(c[:, rw], axis=1) for m, c in curves.items()}
    for m, s in sizes.items():
        events[f"size:{m}"] = s
    notes: list[str] = []
    if unit == "event":
        notes.append(f"only {n_subjects} subject(s) (< {min_subjects}): tests use events as "
                     "units, which treats events of one subject as independent")
    # --- grand averages: subject means, then mean and 95 % CI over subjects
    averages: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {"grid": grid}
    for m, c in curves.items():
        averages[m] = {}
        for lock in ALL_LOCKS:
            sel = (events["lock"] == lock).to_numpy()
            subj = pd.DataFrame(c[sel]).groupby(events.loc[sel, "subject"].to_numpy()).mean()
            mean, lo, hi, n = mean_ci(subj.to_numpy(), axis=0)
            key = f"{m}|{lock}"
            arrays[f"avg:{key}"] = np.vstack([mean, lo, hi]) if len(subj) else \
                np.full((3, grid.size), np.nan)
            finite = np.isfinite(mean) & rw
            if finite.any():
                resp = np.where(rw, mean, np.nan)
                k = int(np.nanargmax(np.abs(resp)))
                peak = {"latency_s": float(grid[k]), "value": float(mean[k])}
            else:
                peak = {"latency_s": None, "value": None}
            averages[m][lock] = {"n_events": int(sel.sum()), "n_subjects": int(len(subj)),
                                 "peak": peak}
    # --- peripheral tests
    tests: list[dict[str, Any]] = []
    for m in MEASURES:
        for lock in LOCKS:
            d = _paired_diff(events, sizes[m], lock, unit)
            tests.append({"measure": m, "lock": lock, "contrast": f"{lock} - random",
                          **one_sample(d.to_numpy())})
        sel = (events["lock"] == "random").to_numpy()
        r = _unit_values(events[sel], sizes[m][sel], unit)
        tests.append({"measure": m, "lock": "random", "contrast": "random - baseline",
                      **one_sample(r.to_numpy())})
    for t, ph in zip(tests, holm([t["p"] for t in tests]), strict=True):
        t["p_holm"] = float(ph)
    # --- HR slope at ME apex vs trial mean
    ap = events[events["lock"] == "ME apex"]
    ratio = np.log(ap["hr_slope_apex"] / ap["hr_slope_trial"]).replace([np.inf, -np.inf], np.nan)
    ratio_u = _unit_values(ap, ratio.to_numpy(), unit).dropna()
    hr_slope = {"test": "Wilcoxon signed-rank on log(|slope at apex| / trial mean |slope|)",
                "mean_ratio": float(np.exp(ratio_u.mean())) if len(ratio_u) else None,
                **wilcoxon(ratio_u.to_numpy())}
    # --- ME vs MaE
    me_mae = []
    for m in MEASURES:
        a = events["lock"] == "ME onset"
        b = events["lock"] == "MaE onset"
        ua = _unit_values(events[a], sizes[m][a.to_numpy()], unit)
        ub = _unit_values(events[b], sizes[m][b.to_numpy()], unit)
        me_mae.append({"measure": m, "contrast": "ME onset - MaE onset",
                       **two_sample(ua.to_numpy(), ub.to_numpy())})
    for t, ph in zip(me_mae, holm([t["p"] for t in me_mae]), strict=True):
        t["p_holm"] = float(ph)
    # --- cross-modal association
    assoc: list[dict[str, Any]] = []
    on = (events["lock"] == "ME onset").to_numpy()
    if np.isfinite(events.loc[on, "intensity"]).sum() >= 3:
        for m in MEASURES:
            assoc.append({"measure": m, "x": "ME intensity (flow px at apex)",
                          **spearman(events.loc[on, "intensity"], sizes[m][on])})
        for t, ph in zip(assoc, holm([t["p"] for t in assoc]), strict=True):
            t["p_holm"] = float(ph)
    else:
        n_int = int(np.isfinite(events.loc[on, "intensity"]).sum())
        notes.append(f"ME intensity known for {n_int} ME(s) (< 3; face results come from "
                     "`mmme faces STORE`): the intensity association is left out")
    rnd = (events["lock"] == "random").to_numpy()
    unplaced = int((rnd & ~np.isfinite(events["time_s"].to_numpy(dtype=float))).sum())
    if unplaced:
        notes.append(f"{unplaced} of {int(rnd.sum())} random control time(s) could not be placed "
                     f"{p['random_clear_s']} s clear of every expression (trial too short or "
                     "too dense): their pairs are left out of the lock - random tests")
    # --- EEG
    eeg = _eeg_part(parts, events, p, unit, arrays, notes)
    result = {
        "schema": SCHEMA,
        "store": str(Path(store.path).resolve()),
        "unit": unit,
        "n_subjects": n_subjects,
        "n_events": {lock: int(((events["lock"] == lock)
                                & np.isfinite(events["time_s"].to_numpy(dtype=float))).sum())
                     for lock in ALL_LOCKS},
        "measures": {m: {"kind": k, "column": c, "unit": u} for m, (k, c, u) in MEASURES.items()},
        "averages": averages,
        "tests": tests,
        "hr_slope": hr_slope,
        "me_vs_mae": me_mae,
        "association": assoc,
        "eeg": eeg,
        "multiple_comparisons": (
            "Holm-Bonferroni within each family: peripheral lock-vs-random and random-vs-"
            "baseline tests (one family); EEG: cluster permutation p per band x lock (FWER "
            "over channels x time), then Holm over the bands x locks; ME vs MaE (Holm over "
            "measures); association (Holm over measures). HR slope: one pre-specified test."),
        "notes": notes,
        "config": p,
        "versions": versions(),
    }
    return {"result": result, "events": events, "arrays": arrays}


def _eeg_part(parts: list[TrialEpochs], events: pd.DataFrame, p: dict[str, Any], unit: str,
              arrays: dict[str, np.ndarray], notes: list[str]) -> dict[str, Any]:
    with_eeg = [t for t in parts if t.eeg is not None]
    if not p.get("eeg") or not with_eeg:
        notes.append("no EEG: band power analysis left out")
        return {}
    chans = with_eeg[0].eeg_channels
    grid = _grid(p["eeg_tmin"], p["eeg_tmax"], p["eeg_grid_hz"])
    nb = len(EEG_BANDS)
    stack = np.concatenate([t.eeg if t.eeg is not None and t.eeg_channels == chans else
                            np.full((len(t.events), nb, len(chans), grid.size), np.nan)
                            for t in parts])
    arrays["eeg_grid"] = grid
    arrays["eeg_channels"] = np.asarray(chans)
    rw = (grid >= p["eeg_response"][0]) & (grid <= p["eeg_response"][1])
    regions = sorted({region_of(c) for c in chans} - {None})
    out: dict[str, Any] = {"channels": chans, "bands": {b: list(v) for b, v in
                                                        EEG_BANDS.items()},
                           "regions": regions, "clusters": []}
    import warnings

    ev_key = ["subject", "session", "trial", "pair"]
    rnd = events["lock"] == "random"
    rnd_idx = pd.Series(np.flatnonzero(rnd), index=pd.MultiIndex.from_frame(events.loc[rnd,
                                                                                  ev_key]))
    for lock in ALL_LOCKS:
        sel = np.flatnonzero((events["lock"] == lock).to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            subj = events["subject"].to_numpy()[sel]
            per_subj = np.stack([np.nanmean(stack[sel][subj == s], axis=0)
                                 for s in np.unique(subj)]) if sel.size else None
        if per_subj is None:
            continue
        for b, band in enumerate(EEG_BANDS):
            for r in regions:
                ci = [i for i, c in enumerate(chans) if region_of(c) == r]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    reg = np.nanmean(per_subj[:, b, ci, :], axis=1)
                mean, lo, hi, _ = mean_ci(reg, axis=0)
                arrays[f"eeg_avg:{band}|{r}|{lock}"] = np.vstack([mean, lo, hi])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                arrays[f"eeg_topo:{band}|{lock}"] = np.nanmean(
                    np.nanmean(per_subj[:, b][:, :, rw], axis=2), axis=0)
        if lock == "random":
            continue
        # paired differences lock - matched random, per event then per unit
        keys = pd.MultiIndex.from_frame(events.iloc[sel][ev_key])
        j = rnd_idx.reindex(keys).to_numpy()
        okp = np.isfinite(j)
        diff = stack[sel[okp]] - stack[j[okp].astype(int)]
        if unit == "subject":
            s = events["subject"].to_numpy()[sel[okp]]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                diff = np.stack([np.nanmean(diff[s == u], axis=0) for u in np.unique(s)])
        for b, band in enumerate(EEG_BANDS):
            out["clusters"].append({"band": band, "lock": lock,
                                    **cluster_test(diff[:, b], chans, grid, p)})
    ps = [min((c["p"] for c in t["clusters"]), default=np.nan) for t in out["clusters"]]
    for t, pm, ph in zip(out["clusters"], ps, holm(ps), strict=True):
        t["p_min"] = float(pm) if np.isfinite(pm) else None
        t["p_holm"] = float(ph) if np.isfinite(ph) else None
    return out


def cluster_test(x: np.ndarray, chans: list[str], grid: np.ndarray,
                 p: dict[str, Any]) -> dict[str, Any]:
    """Cluster permutation test of ``x`` ``(n_units, n_channels, n_times)`` against 0.

    Rows with a missing value are left out. Returns the clusters with their p-values, channels
    and time span (``clusters: [{p, t_sum, channels, tmin, tmax}]``).
    """
    import mne
    from mne.stats import permutation_cluster_1samp_test

    from mmme.eeg.channels import make_montage

    x = x[np.isfinite(x).all(axis=(1, 2))]
    n = int(x.shape[0])
    if n < 3:
        return {"n": n, "clusters": [], "note": "fewer than 3 complete units"}
    info = mne.create_info(chans, 250.0, "eeg")
    info.set_montage(make_montage(chans), on_missing="ignore")
    with mne.utils.use_log_level("error"):
        adj, _ = mne.channels.find_ch_adjacency(info, "eeg")
    X = np.transpose(x, (0, 2, 1))  # (n, times, channels)
    n_perm = int(min(p.get("n_permutations", 1000), 2 ** n))
    t_obs, clusters, pv, _ = permutation_cluster_1samp_test(
        X, adjacency=adj, n_permutations=n_perm, tail=0, out_type="mask",
        rng=np.random.default_rng(int(p["seed"])), verbose=False)
    found = []
    for mask, pc in zip(clusters, pv, strict=True):
        ti, ci = np.nonzero(mask)
        found.append({"p": float(pc), "t_sum": float(t_obs[mask].sum()),
                      "channels": sorted({chans[i] for i in ci}),
                      "tmin": float(grid[ti.min()]), "tmax": float(grid[ti.max()])})
    found.sort(key=lambda c: c["p"])
    return {"n": n, "n_permutations": n_perm, "clusters": found[:10]}


def versions() -> dict[str, str]:
    """Versions of Python and the packages the results depend on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("mmme", "numpy", "scipy", "pandas", "mne", "neurokit2", "scikit-learn",
                "matplotlib", "opencv-contrib-python", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def analyze_store(store: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                  params: dict[str, Any] | None = None, *, executor: Any = None,
                  min_subjects: int = 5) -> dict[str, Any]:
    """Analyse a store and write ``OUT/analysis.json``, ``events.csv``, ``tests.csv`` and
    ``curves.npz`` (atomically: the folder appears complete or not at all).

    Parameters
    ----------
    store : path
        An mmme store.
    out : path, optional
        Output folder (default ``STORE/../results/analysis``).
    params : dict, optional
        Overrides of :data:`mmme.analysis.erp.DEFAULT_PARAMS`.

    Returns
    -------
    dict
        The JSON document.
    """
    from mmme.data.store import Store

    st = Store(store)
    t0 = time.perf_counter()
    res = analyze(st, params, executor=executor, min_subjects=min_subjects)
    res["result"]["wall_s"] = round(time.perf_counter() - t0, 3)
    out = Path(out) if out is not None else Path(st.path).resolve().parent / "results" / \
        "analysis"
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        write_json(tmp / "analysis.json", res["result"])
        res["events"].to_csv(tmp / "events.csv", index=False)
        pd.DataFrame(res["result"]["tests"]).to_csv(tmp / "tests.csv", index=False)
        np.savez_compressed(tmp / "curves.npz", **res["arrays"])
    return res["result"]
