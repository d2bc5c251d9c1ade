"""Paper-style statistics of a data set: ME/MaE per emotion, durations, AUs, modalities."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mmme.data.annotations import base_aus

if TYPE_CHECKING:
    from rich.console import Console

    from mmme.data.store import Store

TYPES = ("ME", "MaE")


def _mean_sd(x: np.ndarray) -> dict[str, float | None]:
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return {"mean": None, "sd": None}
    return {"mean": float(np.mean(x)), "sd": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0}


def duration_ms(ann: pd.DataFrame) -> np.ndarray:
    """Onset -> offset of each event in ms, from trial-relative times (frame stamps when known)."""
    rel = (ann["offset_rel_s"] - ann["onset_rel_s"]).to_numpy(dtype=float)
    common = (ann["offset_s"] - ann["onset_s"]).to_numpy(dtype=float)
    return np.where(np.isfinite(rel), rel, common) * 1000.0


def rise_ms(ann: pd.DataFrame) -> np.ndarray:
    """Onset -> apex of each event in ms, with the same choice of times as :func:`duration_ms`."""
    rel = (ann["apex_rel_s"] - ann["onset_rel_s"]).to_numpy(dtype=float)
    common = (ann["apex_s"] - ann["onset_s"]).to_numpy(dtype=float)
    return np.where(np.isfinite(rel), rel, common) * 1000.0


def summarize(ann: pd.DataFrame, store: Store | None = None) -> dict[str, Any]:
    """Statistics of an annotation table (and of a store's recordings).

    Returns
    -------
    dict
        ``subjects, trials, events{ME,MaE}, per_emotion{label:{ME,MaE}},
        duration_ms{ME,MaE:{mean,sd}}, onset_apex_ms, au_counts{AU:n}, flags{flag:n},
        modalities``.
    """
    types = ann["type"].fillna("unknown").astype(str)
    events = {t: int((types == t).sum()) for t in TYPES}
    per_emotion: dict[str, dict[str, int]] = {}
    for emo, g in ann.groupby(ann["emotion"].fillna("others").astype(str), sort=True):
        gt = g["type"].fillna("unknown").astype(str)
        per_emotion[str(emo)] = {t: int((gt == t).sum()) for t in TYPES}
    dur = duration_ms(ann)
    rise = rise_ms(ann)
    # events per AU: a bilateral L10+R10 is one event with AU10
    au_counts = Counter(
        au for cell in ann["aus"].fillna("") for au in dict.fromkeys(base_aus(cell))
    )
    flags = Counter(f for cell in ann["flags"].fillna("") for f in str(cell).split(";") if f)
    subjects = set(ann["subject"].dropna().astype(str))
    if store is not None and len(store.trials):
        trials = len(store.trials)
        subjects |= set(store.trials["subject"].astype(str))
    else:
        trials = int(ann[["subject", "session", "trial"]].astype(str).drop_duplicates().shape[0])
    out: dict[str, Any] = {
        "subjects": len(subjects),
        "trials": trials,
        "events": events,
        "per_emotion": per_emotion,
        "duration_ms": {t: _mean_sd(dur[(types == t).to_numpy()]) for t in TYPES},
        "onset_apex_ms": {t: _mean_sd(rise[(types == t).to_numpy()]) for t in TYPES},
        "au_counts": dict(sorted(au_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        "flags": dict(sorted(flags.items())),
        "modalities": modalities(store) if store is not None else {},
    }
    return out


def modalities(store: Store) -> dict[str, Any]:
    """Per stream: channels, rate and total duration over the store's sessions."""
    out: dict[str, Any] = {}
    for subject, session in store.sessions:
        ses = store.session(subject, session)
        for name, s in ses.streams.items():
            m = out.setdefault(
                name,
                {"channels": len(s.ch_names), "sfreq": s.sfreq, "sessions": 0, "duration_s": 0.0},
            )
            m["sessions"] += 1
            m["duration_s"] += s.duration_s
        if ses.frames is not None:
            m = out.setdefault(
                "video", {"fps": ses.frames.fps, "sessions": 0, "frames": 0, "duration_s": 0.0}
            )
            m["sessions"] += 1
            t = ses.frames.table
            m["frames"] += len(t)
            for _, g in t.groupby("trial"):
                m["duration_s"] += float(g["device_time_s"].max() - g["device_time_s"].min())
    return out


def print_summary(summary: dict[str, Any], console: Console | None = None, title: str = "") -> None:
    """Render the statistics as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    ev = summary["events"]
    console.print(
        f"[bold]{title}[/bold] subjects {summary['subjects']}, trials {summary['trials']}, "
        f"events {ev['ME']} ME + {ev['MaE']} MaE"
    )
    t = Table(title="Expressions per emotion")
    t.add_column("emotion")
    t.add_column("ME", justify="right")
    t.add_column("MaE", justify="right")
    for emo, c in summary["per_emotion"].items():
        t.add_row(emo, str(c["ME"]), str(c["MaE"]))
    t.add_row("[bold]total", f"[bold]{ev['ME']}", f"[bold]{ev['MaE']}")
    console.print(t)
    d = Table(title="Durations (ms, mean ± sd)")
    for col in ("type", "onset→offset", "onset→apex"):
        d.add_column(col)
    for typ in TYPES:
        a, b = summary["duration_ms"][typ], summary["onset_apex_ms"][typ]
        d.add_row(typ, _fmt(a), _fmt(b))
    console.print(d)
    au = Table(title="Action units")
    au.add_column("AU")
    au.add_column("count", justify="right")
    for k, v in list(summary["au_counts"].items())[:15]:
        au.add_row(k, str(v))
    console.print(au)
    if summary["flags"]:
        f = Table(title="Flagged rows")
        f.add_column("flag")
        f.add_column("rows", justify="right")
        for k, v in summary["flags"].items():
            f.add_row(k, str(v))
        console.print(f)
    if summary["modalities"]:
        m = Table(title="Modalities")
        for col in ("stream", "channels", "rate", "sessions", "duration"):
            m.add_column(col)
        for name, s in summary["modalities"].items():
            rate = f"{s['fps']:.1f} fps" if "fps" in s else f"{s['sfreq']:g} Hz"
            chans = f"{s['frames']} frames" if "frames" in s else str(s["channels"])
            m.add_row(name, chans, rate, str(s["sessions"]), f"{s['duration_s'] / 60:.1f} min")
        console.print(m)


def _fmt(ms: dict[str, float | None]) -> str:
    if ms["mean"] is None:
        return "-"
    return f"{ms['mean']:.1f} ± {ms['sd']:.1f}"
