"""``mmme spot STORE``: every spotting method under leave-one-subject-out, MEGC-scored.

Per trial (one video), through the executor and cached in ``STORE/derived/spotting`` (a
re-run recomputes only trials whose frames, signals or parameters changed):

1. the face front end with ``window=k`` (flow between frames ``k`` apart; its own cache in
   ``derived/face``), streaming the frames;
2. the curves and frame features of :mod:`mmme.spotting.curves`;
3. physiology at the frame times: |HR slope| over the trial's mean |HR slope| (ECG, else PPG),
   the EDA phasic slope, and the facial EMG amplitude (z-scored within the trial).

Then, for each test subject, every parameter is chosen on the other subjects' videos
(:mod:`mmme.spotting.methods`), and the test subject's videos are spotted. Rows:

=====================  ==================  ==================================================
method                 modalities          what
=====================  ==================  ==================================================
``mdmd``               face                MDMD curve, contrast peaks, adaptive threshold
``flow``               face                ROI residual-flow curve, the same peak finder
``learned``            face                gradient boosting on frame features, LOSO
``flow+hr``            face+physio         ``flow`` candidates kept when the HR slope at the
                                           apex exceeds eta x the trial mean (eta on training)
``learned``            face+physio         frame features + HR slope ratio + EDA slope
``learned``            face+physio+emg     the same + facial EMG (a face sensor: its own row)
=====================  ==================  ==================================================

Scores pool TP/FP/FN over all videos (MEGC); 95 % CIs resample subjects (bootstrap), and each
physiology-assisted row gets a paired CI of its overall F1 minus the best face row's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.derived import TrialInputs
from mmme.errors import InputError
from mmme.spotting.curves import frame_features, mdmd_curve, motion_curve
from mmme.spotting.evaluate import prf, score_spotting
from mmme.spotting.methods import (
    PRED_COLUMNS,
    choose_eta,
    choose_threshold,
    frame_labels,
    hr_filter,
    learned_scores,
    learned_threshold,
    predict_videos,
)
from mmme.utils import atomic_path, merge_params, write_json

SCHEMA = "mmme.spotting/1"
DEFAULT_PARAMS: dict[str, Any] = {
    "k_s": 0.2,          # half an ME's length: flow window and peak spacing (s)
    "face": {"flow": "farneback", "size": 128},
    "pad_s": 10.0,       # physiology processed around each trial so filters settle
    "n_boot": 1000,
    "seed": 0,
}
ALL_METHODS = ("mdmd", "flow", "learned")
ALL_MODALITIES = ("face", "physio")


def k_frames(fps: float, k_s: float) -> int:
    return max(1, int(round(k_s * fps)))


def _physio_at(ses: Any, tr: Any, frame_t: np.ndarray, pad: float) -> dict[str, np.ndarray]:
    """HR slope ratio, EDA phasic slope and EMG amplitude (z) at the frame times (NaN where
    the channel is absent or masked)."""
    from mmme.physio.peripheral import CHANNEL_KINDS, hr_slope, process_signal

    n = frame_t.size
    out = {k: np.full(n, np.nan) for k in ("hr_ratio", "eda_slope", "emg")}
    done: set[str] = set()
    for s in ses.streams.values():
        if s.kind == "eeg":
            continue
        for ch in s.ch_names:
            kind = CHANNEL_KINDS.get(ch)
            target = {"ecg": "hr_ratio", "ppg": "hr_ratio", "eda": "eda_slope",
                      "emg": "emg"}.get(kind or "")
            if target is None or target in done:
                continue
            data, tt = s.get_data(tr.start_s - pad, tr.stop_s + pad, [ch])
            if data.shape[1] < 10:
                continue
            proc = process_signal(data[0], s.sfreq, kind, channel=ch, t0=float(tt[0]),
                                  warn=False)
            if not proc.usable:
                continue
            inside = (frame_t >= proc.t0) & (frame_t < proc.stop_s)
            idx = proc.index(np.clip(frame_t, proc.t0, proc.stop_s - 1 / proc.sfreq))
            if target == "hr_ratio":
                slope = np.abs(hr_slope(proc))
                a, b = proc.index(tr.start_s), proc.index(tr.stop_s)
                ref = np.nanmean(slope[int(a) : int(b) + 1]) if np.isfinite(
                    slope[int(a) : int(b) + 1]).any() else np.nan
                v = slope[idx] / ref if np.isfinite(ref) and ref > 0 else np.full(n, np.nan)
            elif target == "eda_slope":
                ph = proc.signals["EDA_Phasic"].to_numpy(dtype=float)
                v = np.gradient(ph, 1 / proc.sfreq)[idx]
            else:
                amp = proc.signals["EMG_Amplitude"].to_numpy(dtype=float)
                a, b = proc.index(tr.start_s), proc.index(tr.stop_s)
                seg = amp[int(a) : int(b) + 1]
                sd = np.nanstd(seg)
                v = (amp[idx] - np.nanmean(seg)) / sd if sd > 0 else np.zeros(n)
            out[target] = np.where(inside, v, np.nan)
            done.add(target)
    return out


def trial_job(store_path: str, subject: str, session: str, trial: str,
              params: dict[str, Any]) -> dict[str, Any]:
    """Curves, frame features and physiology of one trial (cached); top-level so it pickles."""
    from mmme.data.store import Store
    from mmme.face.batch import DEFAULT_PARAMS as FACE_DEFAULTS
    from mmme.face.batch import process_trial, trial_fps

    store = Store(store_path)
    tr = store.trial(subject, session, trial)
    frames = tr.frames
    video = f"{subject}/{session}/{trial}"
    base = {"video": video, "subject": subject, "session": session, "trial": trial}
    if len(frames) < 2:
        return {**base, "ok": False, "why": "fewer than 2 frames"}
    fps = trial_fps(frames["time_s"].to_numpy())
    k = k_frames(fps, params["k_s"])
    face_params = {**FACE_DEFAULTS, "rppg": "", **params["face"], "window": k}
    face = process_trial(store_path, subject, session, trial, face_params)
    results = store.derived("spotting")
    inputs = TrialInputs(subject, session, trial, span=True, frames=True, streams=True,
                         pad_s=float(params["pad_s"]))
    key = results.key({**params, "face_key": face["key"], "k": k}, inputs)
    entry = results.get(key)
    if entry is None:
        arrays = store.derived("face").get(face["key"]).arrays
        uv, seg = arrays["motion_uv"], arrays["segment"]
        rois = [str(r) for r in arrays["roi_names"]]
        feats, names = frame_features(uv, rois, k, segment=seg)
        phys = _physio_at(store.session(subject, session), tr,
                          frames["time_s"].to_numpy(dtype=float), float(params["pad_s"]))
        out = {"flow": motion_curve(uv, rois, segment=seg, k=k),
               "mdmd": mdmd_curve(uv, rois, k, segment=seg),
               "features": feats, **phys}
        results.put(key, arrays=out, meta={"fps": fps, "k": k, "feature_names": names,
                                           "video": video})
        entry = results.get(key)
    return {**base, "ok": True, "key": key.id, "fps": fps, "k": k}


def _truth(store: Any) -> pd.DataFrame:
    ann = store.annotations
    ann = ann[ann["type"].isin(["ME", "MaE"]) & ann["onset_frame"].notna()
              & ann["offset_frame"].notna()]
    return pd.DataFrame({
        "video": ann["subject"].astype(str) + "/" + ann["session"].astype(str) + "/"
        + ann["trial"].astype(str),
        "onset": ann["onset_frame"].astype(int), "offset": ann["offset_frame"].astype(int),
        "type": ann["type"].astype(str)})


def _subject_counts(truth: pd.DataFrame, pred: pd.DataFrame, subject_of: dict[str, str],
                    subjects: Sequence[str]) -> np.ndarray:
    """TP/FP/FN per subject and type: ``(n_subjects, 2 types, 3)``."""
    log = score_spotting(truth, pred[["video", "onset", "offset", "type"]]).log
    out = np.zeros((len(subjects), 2, 3), dtype=np.int64)
    pos = {s: i for i, s in enumerate(subjects)}
    ti = {"ME": 0, "MaE": 1}
    ri = {"TP": 0, "FP": 1, "FN": 2}
    for v, t, r in zip(log["video"], log["type"], log["result"], strict=True):
        out[pos[subject_of[v]], ti[t], ri[r]] += 1
    return out


def _f1(c: np.ndarray) -> np.ndarray:
    """Overall F1 from pooled counts ``(..., 2, 3)``."""
    tp, fp, fn = (c[..., :, i].sum(axis=-1).astype(float) for i in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        f = 2 * tp / (2 * tp + fp + fn)
    return np.nan_to_num(f, nan=0.0)


def _ci(x: np.ndarray) -> list[float]:
    return [float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))]


def _row(counts: np.ndarray) -> dict[str, Any]:
    pooled = counts.sum(axis=0)
    me, mae = prf(*pooled[0]), prf(*pooled[1])
    return {"me": me, "mae": mae, "overall": prf(*(pooled.sum(axis=0)))}


def evaluate(store: Any, jobs: list[dict[str, Any]], methods: Sequence[str],
             modalities: Sequence[str], params: dict[str, Any]) -> dict[str, Any]:
    """LOSO over subjects: returns the JSON document, predictions and the MEGC log."""
    results = store.derived("spotting")
    ok = [j for j in jobs if j["ok"]]
    if not ok:
        raise InputError(f"{store.path}: no trial with video to spot")
    data = {j["video"]: results.get(j["key"]).arrays for j in ok}
    fps = {j["video"]: float(j["fps"]) for j in ok}
    ks = {j["k"] for j in ok}
    if len(ks) != 1:
        raise InputError(f"{store.path}: videos differ in frame rate (k = {sorted(ks)} frames); "
                         "spot each frame rate on its own")
    k = ks.pop()
    subject_of = {j["video"]: j["subject"] for j in ok}
    subjects = sorted(set(subject_of.values()))
    if len(subjects) < 2:
        raise InputError(f"{store.path}: leave-one-subject-out needs at least 2 subjects")
    truth = _truth(store)
    truth = truth[truth["video"].isin(list(data))].reset_index(drop=True)
    labels = {v: frame_labels(len(d["flow"]), truth[truth["video"] == v]) for v, d in data.items()}

    def ratio_at(v: str, frame: int) -> float:
        r = data[v]["hr_ratio"]
        return float(r[frame]) if 0 <= frame < len(r) else float("nan")

    want: list[tuple[str, str]] = []
    for m in methods:
        if m not in ALL_METHODS:
            raise InputError(f"unknown spotting method {m!r} (choose from {ALL_METHODS})")
        want.append((m, "face"))
    for mod in modalities:
        if mod not in ALL_MODALITIES:
            raise InputError(f"unknown modality {mod!r} (choose from {ALL_MODALITIES})")
    if "physio" in modalities:
        if "flow" in methods:
            want.append(("flow+hr", "face+physio"))
        if "learned" in methods:
            want += [("learned", "face+physio"), ("learned", "face+physio+emg")]
    if len(subjects) < 3:
        want = [w for w in want if w[0] != "learned"]

    def feats(v: str, mod: str) -> np.ndarray:
        d = data[v]
        cols = [d["features"]]
        if "physio" in mod:
            cols += [d["hr_ratio"][:, None], d["eda_slope"][:, None]]
        if "emg" in mod:
            cols.append(d["emg"][:, None])
        return np.hstack(cols)

    preds: dict[tuple[str, str], list[pd.DataFrame]] = {w: [] for w in want}
    chosen: dict[tuple[str, str], list[dict[str, Any]]] = {w: [] for w in want}
    for s in subjects:
        test = [v for v in data if subject_of[v] == s]
        train = [v for v in data if subject_of[v] != s]
        ttrain = truth[truth["video"].isin(train)]
        for method, mod in want:
            if method in ("mdmd", "flow") or method == "flow+hr":
                curve = "mdmd" if method == "mdmd" else "flow"
                tr_c = {v: data[v][curve] for v in train}
                p = choose_threshold(tr_c, fps, k, ttrain)
                pr = predict_videos({v: data[v][curve] for v in test}, fps, k, p)
                info: dict[str, Any] = {"subject": s, "p": p}
                if method == "flow+hr":
                    tr_pred = predict_videos(tr_c, fps, k, p)
                    eta = choose_eta(tr_pred, ttrain, ratio_at)
                    pr = hr_filter(pr, ratio_at, eta)
                    info["eta"] = eta
            else:  # learned
                fx = {v: feats(v, mod) for v in data}
                p = learned_threshold(fx, labels, train, subject_of, fps, k, truth,
                                      random_state=int(params["seed"]))
                sc = learned_scores(fx, labels, train, test, random_state=int(params["seed"]))
                pr = predict_videos(sc, fps, k, p, use_contrast=False)
                info = {"subject": s, "p": p}
            preds[(method, mod)].append(pr)
            chosen[(method, mod)].append(info)
    rng = np.random.default_rng(int(params["seed"]))
    boot = rng.integers(0, len(subjects), size=(int(params["n_boot"]), len(subjects)))
    rows, per_counts, pred_tables = [], {}, []
    for w in want:
        pr = pd.concat(preds[w], ignore_index=True) if preds[w] else \
            pd.DataFrame(columns=list(PRED_COLUMNS))
        c = _subject_counts(truth, pr, subject_of, subjects)
        per_counts[w] = c
        row = {"method": w[0], "modalities": w[1], **_row(c)}
        row["overall"]["f1_ci"] = _ci(_f1(c[boot].sum(axis=1)))
        row["chosen"] = chosen[w]
        rows.append(row)
        pred_tables.append(pr.assign(method=w[0], modalities=w[1]))
    face_rows = [w for w in want if w[1] == "face"]
    deltas = []
    if face_rows:
        best = max(face_rows, key=lambda w: float(_f1(per_counts[w].sum(axis=0))))
        for w in want:
            if w[1] == "face":
                continue
            a, b = per_counts[w], per_counts[best]
            d = _f1(a[boot].sum(axis=1)) - _f1(b[boot].sum(axis=1))
            deltas.append({"a": f"{w[0]} ({w[1]})", "b": f"{best[0]} ({best[1]})",
                           "overall_f1": float(_f1(a.sum(axis=0)) - _f1(b.sum(axis=0))),
                           "ci": _ci(d)})
    doc = {"schema": SCHEMA, "protocol": "loso", "n_subjects": len(subjects),
           "n_videos": len(data), "n_truth": {t: int((truth["type"] == t).sum())
                                              for t in ("ME", "MaE")},
           "k_frames": k, "rows": rows, "deltas": deltas,
           "notes": ([] if len(subjects) >= 3 else
                     ["fewer than 3 subjects: the learned rows are left out"])
           + ["EEG is not used for spotting yet"],
           "config": params}
    allp = pd.concat(pred_tables, ignore_index=True) if pred_tables else pd.DataFrame()
    return {"doc": doc, "predictions": allp, "truth": truth}


def _with_times(store: Any, pred: pd.DataFrame) -> pd.DataFrame:
    """Predictions with subject/session/trial and common-clock onset_s/offset_s (for the
    report's timelines)."""
    if pred.empty:
        return pred.assign(subject=[], session=[], trial=[], onset_s=[], offset_s=[])
    parts = pred["video"].str.split("/", n=2, expand=True)
    out = pred.assign(subject=parts[0], session=parts[1], trial=parts[2])
    on_s, off_s = [], []
    cache: dict[str, np.ndarray] = {}
    for r in out.itertuples():
        if r.video not in cache:
            cache[r.video] = store.trial(r.subject, r.session, r.trial).frames["time_s"] \
                .to_numpy(dtype=float)
        t = cache[r.video]
        on_s.append(float(t[min(int(r.onset), len(t) - 1)]))
        off_s.append(float(t[min(int(r.offset), len(t) - 1)]))
    return out.assign(onset_s=on_s, offset_s=off_s)


def markdown(doc: dict[str, Any]) -> str:
    lines = ["| method | modalities | ME F1 | MaE F1 | overall TP | FP | FN | precision | "
             "recall | F1 [95 % CI] |", "|" + "---|" * 10]
    for r in doc["rows"]:
        o = r["overall"]
        lines.append(f"| {r['method']} | {r['modalities']} | {r['me']['f1']:.4f} | "
                     f"{r['mae']['f1']:.4f} | {o['tp']} | {o['fp']} | {o['fn']} | "
                     f"{o['precision']:.4f} | {o['recall']:.4f} | {o['f1']:.4f} "
                     f"[{o['f1_ci'][0]:.4f}, {o['f1_ci'][1]:.4f}] |")
    if doc["deltas"]:
        lines += ["", "| a | b | overall F1 a - b | 95 % paired CI |", "|---|---|---|---|"]
        for d in doc["deltas"]:
            lines.append(f"| {d['a']} | {d['b']} | {d['overall_f1']:+.4f} | "
                         f"[{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}] |")
    return "\n".join(lines) + "\n"


def run_spotting(store: str | os.PathLike[str], methods: Sequence[str] = ALL_METHODS,
                 modalities: Sequence[str] = ALL_MODALITIES, out: str | os.PathLike[str] |
                 None = None, *, executor: Any = None, params: dict[str, Any] | None = None,
                 ) -> dict[str, Any]:
    """Spot every video of a store with every method (LOSO) and write ``OUT/spotting.json``,
    ``spotting.csv``, ``spotting.md``, ``predictions.csv`` and ``log.csv`` (MEGC log)
    atomically. Returns the JSON document.

    Examples
    --------
    >>> doc = run_spotting("store", methods=["flow"], modalities=["face"])  # doctest: +SKIP
    >>> doc["rows"][0]["overall"]["f1"]  # doctest: +SKIP
    """
    from mmme.data.store import Store
    from mmme.executor import Executor

    st = Store(store)
    p = merge_params(DEFAULT_PARAMS, params, "spotting")
    if "face" in (params or {}):
        p["face"] = {**DEFAULT_PARAMS["face"], **params["face"]}  # type: ignore[index]
    if "face" not in modalities:
        raise InputError("spotting needs the face modality (the other modalities assist it)")
    t0 = time.perf_counter()
    jobs = [(str(st.path), str(t.subject), str(t.session), str(t.trial), p)
            for t in st.trials.itertuples() if int(getattr(t, "n_frames", 1) or 0) > 1]
    own = executor is None
    ex = executor or Executor(n_jobs=1, progress=False)
    try:
        rows = ex.map(trial_job, jobs, desc="spotting trials", star=True)
    finally:
        if own:
            ex.close()
    res = evaluate(st, rows, methods, modalities, p)
    doc = res["doc"]
    doc["store"] = str(Path(st.path).resolve())
    doc["wall_s"] = round(time.perf_counter() - t0, 3)
    out = Path(out) if out is not None else Path(st.path).resolve().parent / "results" / \
        "spotting"
    flat = []
    for r in doc["rows"]:
        f = {"method": r["method"], "modalities": r["modalities"]}
        for part in ("me", "mae", "overall"):
            for kk in ("tp", "fp", "fn", "precision", "recall", "f1"):
                f[f"{part}_{kk}"] = r[part][kk]
        f["overall_f1_lo"], f["overall_f1_hi"] = r["overall"]["f1_ci"]
        flat.append(f)
    preds = _with_times(st, res["predictions"])
    logs = []
    for r in doc["rows"]:
        pr = res["predictions"]
        pr = pr[(pr["method"] == r["method"]) & (pr["modalities"] == r["modalities"])] \
            if len(pr) else pd.DataFrame(columns=["video", "onset", "offset", "type"])
        lg = score_spotting(res["truth"], pr[["video", "onset", "offset", "type"]]).log
        logs.append(lg.assign(method=r["method"], modalities=r["modalities"]))
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame()
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        write_json(tmp / "spotting.json", doc)
        pd.DataFrame(flat).to_csv(tmp / "spotting.csv", index=False)
        (tmp / "spotting.md").write_text(markdown(doc))
        preds.to_csv(tmp / "predictions.csv", index=False)
        log.to_csv(tmp / "log.csv", index=False)
    return doc
