"""``mmme demo``: the main job on the built-in synthetic data set, checked against its truth.

Generate (or reuse) the default synthetic MMME data set, import it, validate it, print its
statistics, compare what the store recovered with the generator's ground truth (event counts and
durations, device clocks), run the physiology/EEG event-locked features and the face front end
and show that they find the planted responses, then the event-related analysis and the HTML
report (``OUT/report.html``). Every stage caches or is skipped when its inputs did not change,
so a second run is fast. Wall time and peak memory print at the end.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from mmme.data.store import Store
from mmme.data.summary import duration_ms, print_summary, summarize
from mmme.data.validate import validate_store
from mmme.errors import StoreError
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


def _update_face_index(results: Any, rows: list[dict[str, Any]]) -> None:
    """Add the trials just processed to the face index (what ``mmme faces`` writes whole)."""
    cols = ["subject", "session", "trial", "key", "n_frames", "n_lost", "heart_rate_bpm",
            "cached"]
    new = pd.DataFrame(rows, columns=cols)
    try:
        old = results.table("index")
    except StoreError:
        old = pd.DataFrame(columns=cols)
    keys = ["subject", "session", "trial"]
    kept = old.merge(new[keys], on=keys, how="left", indicator=True)
    old = old[(kept["_merge"] == "left_only").to_numpy()]
    index = pd.concat([old, new], ignore_index=True) if len(old) else new
    results.write_table("index", index, sources=[k for k in index["key"] if k])


def face_apex_errors(store: Store, n_trials: int, flow: str, executor: Executor) -> pd.DataFrame:
    """Frame of peak ROI motion inside each planted event against its apex frame."""
    from mmme.face.batch import DEFAULT_PARAMS, process_trial

    params = {**DEFAULT_PARAMS, "flow": flow}
    trials = [t for t in store.trials.itertuples()][:n_trials]
    jobs = [(str(store.path), t.subject, t.session, t.trial, params) for t in trials]
    rows = executor.map(process_trial, jobs, desc="face", star=True)
    results = store.derived("face")
    _update_face_index(results, rows)
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


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of its (waited-for) worker processes, MiB."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20  # ru_maxrss: KiB (Linux)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return float(max(own, kids))


def store_stamp(store: Store) -> str:
    """What the analysis reads from a store: its sessions, trials and annotations, and the face
    index (a re-import that changed none of them keeps the stamp)."""
    import hashlib

    root = Path(store.path)
    meta = json.loads((root / "store.json").read_text())
    meta.pop("created", None)
    h = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode())
    for table in (store.trials, store.annotations):
        h.update(pd.util.hash_pandas_object(table.astype(str), index=False).to_numpy().tobytes())
    try:
        face = store.derived("face").table("index")[["subject", "session", "trial", "key"]]
    except StoreError:
        face = pd.DataFrame()
    h.update(pd.util.hash_pandas_object(face.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()


def _fresh(marker: Path, stamp: str) -> bool:
    return marker.is_file() and marker.read_text() == stamp


def analysis_step(store: Store, results: Path, executor: Executor, console: Console,
                  ) -> dict[str, Any]:
    """``mmme analyze`` into ``results/analysis`` (skipped when the store is unchanged)."""
    from mmme.analysis import analyze_store

    out = results / "analysis"
    marker = results / ".analysis.stamp"
    stamp = store_stamp(store)
    if _fresh(marker, stamp) and (out / "analysis.json").is_file():
        console.print(f"reusing {out} (store unchanged)")
        doc = json.loads((out / "analysis.json").read_text())
    else:
        doc = analyze_store(store.path, out, executor=executor)
        marker.write_text(stamp)
    rows = [r for r in doc["tests"] if r["n"] and r["lock"] != "random"]
    if rows:
        t = Table(title=f"event-locked responses vs matched random times "
                        f"({doc['unit']}s as units)")
        for col in ("measure", "contrast", "n", "mean", "d_z", "p (Holm)"):
            t.add_column(col)
        for r in rows:
            t.add_row(r["measure"], r["contrast"], str(r["n"]), f"{r['mean']:+.3g}",
                      f"{r['dz']:+.2f}", f"{r['p_holm']:.3g}")
        console.print(t)
    else:
        console.print("no lock - random contrast could be tested (see the notes)")
    hr = doc.get("hr_slope") or {}
    if hr.get("n"):
        console.print(f"HR slope at ME apex / trial mean: mean log ratio {hr['mean_ratio']:+.3f}, "
                      f"Wilcoxon p {hr['p']:.3g} (n {hr['n']})")
    for note in doc.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    return doc


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
    t_start = time.perf_counter()
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
        results = out / "results"
        results.mkdir(parents=True, exist_ok=True)
        console.rule("[bold]8. event-related analysis")
        analysis = analysis_step(store, results, ex, console)
        console.rule("[bold]9. report")
        from mmme.report import build_report

        page = build_report(results, out / "report.html", store=store.path)
    wall = time.perf_counter() - t_start
    peak = peak_rss_mib()
    console.rule("[bold]done")
    console.print(f"report: {page}")
    console.print(f"wall time {wall:.1f} s, peak memory {peak:.0f} MiB (largest process)")
    result = {
        "store": str(store.path),
        "summary": summary,
        "truth": truth,
        "problems": {"errors": n_err, "warnings": len(problems) - n_err},
        "physio": resp.to_dict(orient="records"),
        "face": apex.to_dict(orient="records"),
        "analysis": {"tests": analysis["tests"], "hr_slope": analysis["hr_slope"],
                     "notes": analysis["notes"]},
        "report": str(page),
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(peak, 1),
    }
    write_json(out / "demo_summary.json", result)
    console.print(f"summary written to {out / 'demo_summary.json'}")
    return result
