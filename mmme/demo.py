"""``mmme demo``: the main job on the built-in synthetic data set, checked against its truth.

Generate (or reuse) the default synthetic MMME data set, import it, validate it, print its
statistics, compare what the store recovered with the generator's ground truth (event counts and
durations, device clocks), then run the physiology/EEG event-locked features and the face front
end and show that they find the planted responses. Every stage caches, so a second run is fast.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from mmme.data.store import Store
from mmme.data.summary import duration_ms, print_summary, summarize
from mmme.data.validate import validate_store
from mmme.executor import Executor
from mmme.io.mmme import import_mmme
from mmme.synth.generate import SynthConfig, generate
from mmme.utils import write_json

#: Posterior channels whose alpha power the EEG check averages.
POSTERIOR = ("PO3", "POZ", "PO4", "O1", "OZ", "O2")


def _reuse_raw(raw: Path, config: SynthConfig) -> bool:
    cfg = raw / "synth_config.json"
    if not cfg.is_file() or not (raw / "ground_truth.csv").is_file():
        return False
    return json.loads(cfg.read_text()) == json.loads(json.dumps(config.to_dict(), default=str))


def compare_with_truth(store: Store, raw: Path) -> dict[str, Any]:
    """Event counts, durations and device clocks of the store against the generator's truth."""
    gt = pd.read_csv(raw / "ground_truth.csv")
    ann = store.annotations
    out: dict[str, Any] = {"events": {}, "duration_ms": {}, "clocks": []}
    dur = duration_ms(ann)
    for typ in ("ME", "MaE"):
        g = gt[gt["type"] == typ]
        out["events"][typ] = {"truth": int(len(g)), "store": int((ann["type"] == typ).sum())}
        out["duration_ms"][typ] = {
            "truth": float(((g["offset_s"] - g["onset_s"]) * 1000).mean()),
            "store": float(np.mean(dur[(ann["type"] == typ).to_numpy()])),
        }
    devices = json.loads((raw / "ground_truth_devices.json").read_text())["subjects"]
    for subject, session in store.sessions:
        ses = store.session(subject, session)
        for dev, clock in ses.clocks.items():
            if dev == ses.reference or dev not in devices.get(subject, {}):
                continue
            truth = devices[subject][dev]
            out["clocks"].append(
                {
                    "subject": subject,
                    "device": dev,
                    "offset_error_ms": 1e3 * (clock.offset - truth["offset_s"]),
                    "drift_error_ppm": clock.drift_ppm - truth["drift_ppm"],
                    "residual_rms_ms": 1e3 * clock.residual_rms_s,
                }
            )
    return out


def physio_responses(store: Store) -> pd.DataFrame:
    """Mean response - baseline per expression type of a few event-locked features."""
    ev = store.derived("physio").table("events")
    ann = store.annotations[["subject", "session", "trial", "event", "type"]]
    ev = ev.merge(ann, on=["subject", "session", "trial", "event"], how="left")
    picks = [
        ("ECG", "hr_mean_bpm", "heart rate (bpm)"),
        ("EDA", "scr_amplitude_max", "SCR amplitude (µS)"),
        ("SKT A", "mean", "skin temperature (°C)"),
        ("RSP", "rate_mean_bpm", "breathing rate (/min)"),
    ]
    rows = []
    for channel, feature, label in picks:
        sel = ev[(ev["channel"] == channel) & (ev["feature"] == feature)]
        rows.append((label, sel))
    alpha = ev[ev["channel"].isin(POSTERIOR) & (ev["feature"] == "alpha_power")]
    alpha = alpha.groupby(
        ["subject", "session", "trial", "event", "window", "type"], as_index=False
    )["value"].mean()
    rows.append(("posterior alpha power (log ratio)", alpha))
    out = []
    for label, sel in rows:
        wide = sel.pivot_table(
            index=["subject", "session", "trial", "event", "type"],
            columns="window",
            values="value",
            aggfunc="mean",
        ).reset_index()
        if "response" not in wide or "baseline" not in wide:
            continue
        if label.startswith("posterior alpha"):
            delta = np.log(wide["response"] / wide["baseline"])
        else:
            delta = wide["response"] - wide["baseline"]
        for typ in ("ME", "MaE"):
            d = delta[wide["type"] == typ].dropna()
            out.append(
                {
                    "feature": label,
                    "type": typ,
                    "n": int(len(d)),
                    "mean_change": float(d.mean()) if len(d) else np.nan,
                    "sem": float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else np.nan,
                }
            )
    return pd.DataFrame(out)


def face_apex_errors(store: Store, n_trials: int, flow: str, executor: Executor) -> pd.DataFrame:
    """Frame of peak ROI motion inside each planted event against its apex frame."""
    from mmme.face.batch import DEFAULT_PARAMS, process_trial

    params = {**DEFAULT_PARAMS, "flow": flow}
    trials = [t for t in store.trials.itertuples()][:n_trials]
    jobs = [(str(store.path), t.subject, t.session, t.trial, params) for t in trials]
    rows = executor.map(process_trial, jobs, desc="face", star=True)
    results = store.derived("face")
    out = []
    for t, res in zip(trials, rows, strict=True):
        got = results.get(res["key"]) if res["key"] else None
        if got is None:
            continue
        arrays = got.arrays
        motion = np.nanmax(arrays["motion"], axis=1)  # strongest ROI per frame
        ann = store.trial(t.subject, t.session, t.trial).annotations
        for _, a in ann.iterrows():
            on, ap, off = int(a["onset_frame"]), int(a["apex_frame"]), int(a["offset_frame"])
            seg = motion[on : off + 1]
            if not np.isfinite(seg).any():
                continue
            peak = on + int(np.nanargmax(seg))
            out.append(
                {
                    "trial": f"{t.subject}/{t.trial}",
                    "type": a["type"],
                    "aus": a["aus"],
                    "apex_frame": ap,
                    "peak_frame": peak,
                    "error_frames": peak - ap,
                    "peak_motion_px": float(np.nanmax(seg)),
                }
            )
    return pd.DataFrame(out)


def run_demo(
    out: Path,
    config: SynthConfig | None = None,
    *,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    face_trials: int = 2,
    face_flow: str = "farneback",
    console: Console | None = None,
) -> dict[str, Any]:
    """Run the demo into ``out`` (``raw/``, ``store/``, ``demo_summary.json``)."""
    console = console or Console()
    config = config or SynthConfig()
    out = Path(out)
    raw, store_path = out / "raw", out / "store"
    console.rule("[bold]1. synthetic data set")
    if _reuse_raw(raw, config):
        console.print(f"reusing {raw} (same generator settings)")
    else:
        if raw.exists():
            shutil.rmtree(raw)
        generate(
            raw,
            config,
            n_jobs=n_jobs,
            scheduler=scheduler,
            dask_workers=dask_workers,
            overwrite=True,
        )
    with Executor(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers) as ex:
        console.rule("[bold]2. import")
        store = import_mmme(raw, store_path, executor=ex)
        console.print(
            f"{len(store.sessions)} sessions, {len(store.trials)} trials, "
            f"{len(store.annotations)} events -> {store.path}"
        )
        console.rule("[bold]3. validate")
        problems = validate_store(store)
        kinds = pd.Series([f"{p.level} {p.kind}" for p in problems]).value_counts()
        for k, v in kinds.items():
            console.print(f"  {v:4d} x {k}")
        n_err = sum(p.level == "error" for p in problems)
        console.print(f"{n_err} error(s), {len(problems) - n_err} warning(s)")
        console.rule("[bold]4. statistics")
        summary = summarize(store.annotations, store)
        print_summary(summary, console, title="synthetic MMME")
        console.rule("[bold]5. against the generator's ground truth")
        truth = compare_with_truth(store, raw)
        t = Table(title="events and durations")
        for c in ("type", "truth", "store", "mean duration truth (ms)", "store (ms)"):
            t.add_column(c)
        for typ in ("ME", "MaE"):
            e, d = truth["events"][typ], truth["duration_ms"][typ]
            t.add_row(
                typ, str(e["truth"]), str(e["store"]), f"{d['truth']:.3f}", f"{d['store']:.3f}"
            )
        console.print(t)
        clocks = pd.DataFrame(truth["clocks"])
        if len(clocks):
            agg = clocks.groupby("device").agg(
                offset_err_ms=("offset_error_ms", lambda x: np.max(np.abs(x))),
                drift_err_ppm=("drift_error_ppm", lambda x: np.max(np.abs(x))),
                residual_rms_ms=("residual_rms_ms", "max"),
            )
            c = Table(title="clock recovery (worst session)")
            for col in ("device", "|offset error| ms", "|drift error| ppm", "residual rms ms"):
                c.add_column(col)
            for dev, r in agg.iterrows():
                c.add_row(
                    str(dev),
                    f"{r.offset_err_ms:.2f}",
                    f"{r.drift_err_ppm:.1f}",
                    f"{r.residual_rms_ms:.2f}",
                )
            console.print(c)
        console.rule("[bold]6. physiology and EEG around the expressions")
        from mmme.physio.pipeline import process_store as physio_store

        physio_store(store_path, n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers)
        resp = physio_responses(store)
        r = Table(title="response - baseline (mean ± sem)")
        for col in ("feature", "type", "n", "change"):
            r.add_column(col)
        for row in resp.itertuples():
            r.add_row(row.feature, row.type, str(row.n), f"{row.mean_change:+.3f} ± {row.sem:.3f}")
        console.print(r)
        console.rule(f"[bold]7. face front end ({face_trials} trials, {face_flow} flow)")
        apex = face_apex_errors(store, face_trials, face_flow, ex)
        if len(apex):
            f = Table(title="peak ROI motion vs planted apex")
            for col in ("trial", "type", "AUs", "apex", "peak", "error (frames)", "motion px"):
                f.add_column(col)
            for row in apex.itertuples():
                f.add_row(
                    row.trial,
                    row.type,
                    str(row.aus),
                    str(row.apex_frame),
                    str(row.peak_frame),
                    f"{row.error_frames:+d}",
                    f"{row.peak_motion_px:.2f}",
                )
            console.print(f)
            console.print(f"median |error| {apex['error_frames'].abs().median():.1f} frames")
    result = {
        "store": str(store.path),
        "summary": summary,
        "truth": truth,
        "problems": {"errors": n_err, "warnings": len(problems) - n_err},
        "physio": resp.to_dict(orient="records"),
        "face": apex.to_dict(orient="records"),
    }
    write_json(out / "demo_summary.json", result)
    console.print(f"summary written to {out / 'demo_summary.json'}")
    return result
