"""``mmme report RESULTS -o report.html``: one self-contained HTML file.

The page is built by a small template of mmme's own (not :class:`mne.Report`): mne.Report's
pages carry several hundred kB of bundled JavaScript/CSS, its sections are organised around
MNE objects (Raw, Epochs, Evoked) rather than tables of benchmark rows, and our own template is a
few lines of plain HTML whose every figure is an ``<img>`` with a base64 PNG, so the file opens
anywhere with no network and no script. MNE still draws the topographies
(:func:`mne.viz.plot_topomap`).

``RESULTS`` is a folder with any of ``analysis/`` (``mmme analyze``), ``recognition/``
(``mmme recognize``: ``recognition.json``) and ``spotting/`` (``mmme spot``: ``spotting.json``,
optionally ``predictions.csv``); a missing part is a one-line note in the page.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.errors import InputError
from mmme.utils import atomic_path

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 1em}
h1{border-bottom:2px solid #444}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
.note{color:#8a5a00;background:#fff7e0;padding:.3em .6em;border-left:3px solid #e0a000}
figure{margin:1em 0}figcaption{font-size:.85em;color:#555}
img{max-width:100%;height:auto}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.8em}
nav a{margin-right:1em}
"""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(fig: Any, caption: str) -> str:
    return (f'<figure><img class="fig" alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{_png(fig)}"><figcaption>{html.escape(caption)}'
            "</figcaption></figure>")


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if not np.isfinite(v):
            return "–"
        if abs(v) >= 100:  # 1210, not 1.21e+03
            return f"{v:.0f}"
        return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return html.escape(json.dumps(v, default=str))
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    if not rows:
        return '<p class="note">no rows</p>'
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})",
                         file=str(path)) from None


# ------------------------------------------------------------------------------------------
def _dataset_section(store: Any) -> str:
    from mmme.data.summary import summarize

    s = summarize(store.annotations, store)
    rows = [{"": "subjects", "value": s["subjects"]}, {"": "trials", "value": s["trials"]}]
    for t, n in s["events"].items():
        d, r = s["duration_ms"].get(t, {}), s["onset_apex_ms"].get(t, {})
        rows.append({"": f"{t} events", "value": n,
                     "duration ms (mean ± sd)": f"{_fmt(d.get('mean'))} ± {_fmt(d.get('sd'))}",
                     "onset→apex ms": f"{_fmt(r.get('mean'))} ± {_fmt(r.get('sd'))}"})
    emo = [{"emotion": k, **v} for k, v in s["per_emotion"].items()]
    aus = [{"AU": k, "events": v} for k, v in list(s["au_counts"].items())[:12]]
    return ("<h2 id='data'>Data set</h2>" + f"<p>store: <code>{html.escape(str(store.path))}"
            "</code></p>" + _table(rows) + "<h3>Events per emotion</h3>" + _table(emo)
            + "<h3>Most frequent action units</h3>" + _table(aus))


def _confusion_fig(labels: list[str], matrix: list[list[float]], title: str) -> Any:
    import matplotlib.pyplot as plt

    m = np.asarray(matrix, dtype=float)
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * len(labels), 1.0 + 0.5 * len(labels)))
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{m[i, j]:g}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    return fig


def _recognition_section(folder: Path) -> str:
    path = folder / "recognition.json"
    if not path.is_file():
        return "<h2 id='recognition'>Recognition</h2>" + _note(
            f"no recognition results ({path} absent: run `mmme recognize STORE --out {folder}`)")
    doc = _read_json(path)
    cols = ["modality", "model", "uf1", "uf1_ci", "uar", "uar_ci", "accuracy"]
    out = [f"<h2 id='recognition'>Recognition</h2><p>protocol {_fmt(doc.get('protocol'))}, "
           f"classes {_fmt(doc.get('classes'))}, {_fmt(doc.get('n_samples'))} samples, "
           f"{_fmt(doc.get('n_subjects'))} subjects</p>", _table(doc.get("rows", []), cols)]
    if doc.get("deltas"):
        out += ["<h3>Fused minus best face (paired CI)</h3>", _table(doc["deltas"])]
    mats = list(doc.get("confusion_matrices", []))
    for r in doc.get("rows", []):
        if isinstance(r.get("confusion"), dict):
            mats.append({"modality": r.get("modality"), "model": r.get("model"),
                         **r["confusion"]})
    if mats:
        out.append("<h3>Confusion matrices</h3>")
        for c in mats:
            title = f"{c.get('modality')} / {c.get('model')}"
            out.append(_figure(_confusion_fig(list(map(str, c["labels"])), c["matrix"], title),
                               f"confusion matrix, {title} (counts; colour = row share)"))
    else:
        out.append(_note("recognition.json carries no confusion matrices"))
    return "".join(out)


def _spotting_section(folder: Path, store: Any, max_videos: int) -> str:
    path = folder / "spotting.json"
    out = ["<h2 id='spotting'>Spotting</h2>"]
    if not path.is_file():
        out.append(_note(f"no spotting results ({path} absent: run `mmme spot STORE --out "
                         f"{folder}`)"))
    else:
        doc = _read_json(path)
        rows = []
        for r in doc.get("rows", []):
            row = {"method": r.get("method"), "modalities": r.get("modalities")}
            for part in ("me", "mae", "overall"):
                for k in ("f1", "precision", "recall", "TP", "FP", "FN"):
                    v = (r.get(part) or {}).get(k, (r.get(part) or {}).get(k.lower()))
                    if v is not None:
                        row[f"{part} {k}"] = v
            if (r.get("overall") or {}).get("f1_ci") is not None:
                row["overall f1_ci"] = r["overall"]["f1_ci"]
            rows.append(row)
        out.append(_table(rows))
        if doc.get("deltas"):
            out += ["<h3>Assisted minus face (paired CI)</h3>", _table(doc["deltas"])]
    if store is None:
        out.append(_note("no store: timelines left out"))
        return "".join(out)
    pred = folder / "predictions.csv"
    preds = pd.read_csv(pred) if pred.is_file() else None
    if preds is None:
        out.append(_note(f"no predicted intervals ({pred} absent): timelines show the coded "
                         "intervals only"))
    for t in list(store.trials.itertuples())[:max_videos]:
        fig = timeline_figure(store, t, preds)
        if fig is not None:
            out.append(_figure(fig, f"timeline {t.subject}/{t.session}/{t.trial}: coded vs "
                                    "predicted intervals above HR, EDA and EEG"))
    return "".join(out)


def timeline_figure(store: Any, t: Any, preds: pd.DataFrame | None) -> Any:
    """Coded (and predicted) intervals of one trial above its HR, EDA and EEG (Fz) traces."""
    import matplotlib.pyplot as plt

    from mmme.physio.peripheral import process_signal

    ses = store.session(t.subject, t.session)
    ann = store.trial(t.subject, t.session, t.trial).annotations
    a, b = float(t.start_s), float(t.stop_s)
    traces: list[tuple[str, np.ndarray, np.ndarray]] = []
    for s in ses.streams.values():
        for ch, kind, label in (("ECG", "ecg", "HR (bpm)"), ("EDA", "eda", "EDA (µS)")):
            if ch in s.ch_names and not any(x[0] == label for x in traces):
                data, tt = s.get_data(a - 10, b + 10, [ch])
                if data.shape[1] < 10:
                    continue
                proc = process_signal(data[0], s.sfreq, kind, channel=ch, t0=float(tt[0]),
                                      warn=False)
                col = "ECG_Rate" if kind == "ecg" else "EDA_Clean"
                if proc.usable and col in proc.signals:
                    traces.append((label, proc.times, proc.signals[col].to_numpy(float)))
    if "eeg" in store.session(t.subject, t.session).streams:
        s = ses.streams["eeg"]
        ch = next((c for c in ("FZ", "Fz", "CZ", "Cz") if c in s.ch_names), s.ch_names[0])
        data, tt = s.get_data(a, b, [ch])
        traces.append((f"EEG {ch}", tt, data[0]))
    fig, axes = plt.subplots(1 + len(traces), 1, figsize=(10, 1.2 + 1.1 * len(traces)),
                             sharex=True, gridspec_kw={"height_ratios": [1.2] + [1] * len(traces)})
    axes = np.atleast_1d(axes)
    ax = axes[0]
    colors = {"ME": "tab:red", "MaE": "tab:blue"}
    for r in ann.itertuples():
        if pd.notna(r.onset_s) and pd.notna(r.offset_s):
            ax.axvspan(r.onset_s, r.offset_s, ymin=0.55, ymax=0.95,
                       color=colors.get(r.type, "gray"), alpha=0.7)
    if preds is not None and len(preds):
        sel = preds
        for col, val in (("subject", t.subject), ("session", t.session), ("trial", t.trial)):
            if col in sel:
                sel = sel[sel[col].astype(str) == str(val)]
        on = "onset_s" if "onset_s" in sel else "start_s"
        off = "offset_s" if "offset_s" in sel else "stop_s"
        if on in sel and off in sel:
            for r in sel.itertuples():
                ax.axvspan(getattr(r, on), getattr(r, off), ymin=0.05, ymax=0.45,
                           color=colors.get(getattr(r, "type", ""), "tab:green"), alpha=0.6)
    ax.set_yticks([0.25, 0.75], ["predicted", "coded"])
    ax.set_ylim(0, 1)
    ax.set_title(f"{t.subject}/{t.session}/{t.trial} (red ME, blue MaE)", fontsize=9)
    for axi, (label, tt, y) in zip(axes[1:], traces, strict=True):
        m = (tt >= a) & (tt <= b)
        axi.plot(tt[m], y[m], lw=0.7, color="k")
        axi.set_ylabel(label, fontsize=8)
    axes[-1].set_xlabel("time (s, common clock)")
    axes[-1].set_xlim(a, b)
    return fig


def _analysis_section(folder: Path) -> str:
    path = folder / "analysis.json"
    if not path.is_file():
        return "<h2 id='analysis'>Event-related analysis</h2>" + _note(
            f"no analysis results ({path} absent: run `mmme analyze STORE --out {folder}`)")
    import matplotlib.pyplot as plt

    doc = _read_json(path)
    arr = np.load(folder / "curves.npz", allow_pickle=False)
    out = ["<h2 id='analysis'>Event-related analysis</h2>",
           f"<p>{doc['n_subjects']} subjects; units of the tests: <b>{doc['unit']}s</b>; "
           f"events per lock: {_fmt(doc['n_events'])}.</p>",
           f"<p><b>Multiple comparisons.</b> {html.escape(doc['multiple_comparisons'])}</p>"]
    out += [_note(n) for n in doc.get("notes", [])]
    grid = arr["grid"]
    measures = list(doc["measures"])
    locks = list(next(iter(doc["averages"].values())))
    fig, axes = plt.subplots(1, len(measures), figsize=(3.2 * len(measures), 2.8))
    for ax, m in zip(np.atleast_1d(axes), measures, strict=True):
        for lock in locks:
            key = f"avg:{m}|{lock}"
            if key not in arr:
                continue
            mean, lo, hi = arr[key]
            (line,) = ax.plot(grid, mean, lw=1.2, label=lock,
                              ls="--" if lock == "random" else "-")
            ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.15)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_title(f"{m} ({doc['measures'][m]['unit']})", fontsize=9)
        ax.set_xlabel("s from lock")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    out.append(_figure(fig, "grand averages (change from baseline) with 95 % CI over "
                            "subjects"))
    out += ["<h3>Peripheral tests (Holm-Bonferroni)</h3>",
            _table(doc["tests"], ["measure", "contrast", "n", "mean", "ci", "t", "p", "dz",
                                  "p_holm"])]
    hs = doc.get("hr_slope", {})
    out += ["<h3>HR slope at ME apex vs trial mean</h3>", _table([hs])]
    out += ["<h3>ME vs MaE</h3>", _table(doc.get("me_vs_mae", []))]
    if doc.get("association"):
        out += ["<h3>ME intensity vs response size</h3>", _table(doc["association"])]
    eeg = doc.get("eeg") or {}
    if eeg:
        out.append(_eeg_figures(doc, arr))
        rows = [{"band": c["band"], "lock": c["lock"], "n": c.get("n"),
                 "clusters": len(c.get("clusters", [])), "p_min": c.get("p_min"),
                 "p_holm": c.get("p_holm"),
                 "best cluster": (f"{c['clusters'][0]['tmin']:.2f}–{c['clusters'][0]['tmax']:.2f}"
                                  f" s, {len(c['clusters'][0]['channels'])} ch")
                 if c.get("clusters") else "–"} for c in eeg.get("clusters", [])]
        out += ["<h3>EEG cluster permutation tests (lock − matched random)</h3>", _table(rows)]
    return "".join(out)


def _eeg_figures(doc: dict[str, Any], arr: Any) -> str:
    import matplotlib.pyplot as plt
    import mne

    from mmme.eeg.channels import make_montage

    eeg = doc["eeg"]
    grid = arr["eeg_grid"]
    bands, regions = list(eeg["bands"]), eeg["regions"]
    locks = list(next(iter(doc["averages"].values())))
    parts = []
    fig, axes = plt.subplots(len(bands), len(regions), figsize=(2.4 * len(regions),
                                                                1.9 * len(bands)),
                             sharex=True, squeeze=False)
    for i, b in enumerate(bands):
        for j, r in enumerate(regions):
            ax = axes[i, j]
            for lock in locks:
                key = f"eeg_avg:{b}|{r}|{lock}"
                if key in arr:
                    mean, lo, hi = arr[key]
                    (ln,) = ax.plot(grid, mean, lw=1, label=lock,
                                    ls="--" if lock == "random" else "-")
                    ax.fill_between(grid, lo, hi, color=ln.get_color(), alpha=0.12)
            ax.axvline(0, color="k", lw=0.5)
            ax.set_title(f"{b} {r}", fontsize=8)
    axes[0, 0].legend(fontsize=6)
    parts.append(_figure(fig, "EEG band power change (dB from baseline) per region, 95 % CI"))
    chans = [str(c) for c in arr["eeg_channels"]]
    info = mne.create_info(chans, 250.0, "eeg")
    info.set_montage(make_montage(chans), on_missing="ignore")
    fig, axes = plt.subplots(len(bands), len(locks), figsize=(2.2 * len(locks),
                                                              2.0 * len(bands)), squeeze=False)
    for i, b in enumerate(bands):
        vals = [arr[f"eeg_topo:{b}|{lock}"] for lock in locks if f"eeg_topo:{b}|{lock}" in arr]
        lim = float(np.nanmax(np.abs(vals))) if vals and np.isfinite(vals).any() else 1.0
        for j, lock in enumerate(locks):
            ax = axes[i, j]
            key = f"eeg_topo:{b}|{lock}"
            if key not in arr or not np.isfinite(arr[key]).any():
                ax.axis("off")
                continue
            mne.viz.plot_topomap(np.nan_to_num(arr[key]), info, axes=ax, show=False,
                                 vlim=(-lim, lim), cmap="RdBu_r", contours=0)
            ax.set_title(f"{b} {lock}", fontsize=8)
    parts.append(_figure(fig, "topographies of the band power change (dB, response window)"))
    return "".join(parts)


def _config_section(results: Path, docs: dict[str, Any]) -> str:
    out = ["<h2 id='config'>Configuration and versions</h2>"]
    for name, doc in docs.items():
        if doc is None:
            continue
        cfg = doc.get("config")
        if cfg is not None:
            out.append(f"<h3>{html.escape(name)}</h3><pre>"
                       f"{html.escape(json.dumps(cfg, indent=1, default=str))}</pre>")
    from mmme.analysis.run import versions

    v = [{"package": k, "version": x} for k, x in versions().items()]
    out += ["<h3>Package versions (report)</h3>", _table(v)]
    return "".join(out)


def build_report(results: str | os.PathLike[str], out: str | os.PathLike[str], *,
                 store: str | os.PathLike[str] | None = None, max_videos: int = 3,
                 title: str = "mmme report") -> Path:
    """Write the self-contained HTML report of a results folder.

    Parameters
    ----------
    results : path
        Folder with ``analysis/``, ``recognition/``, ``spotting/`` (any of them).
    out : path
        The HTML file to write (atomically).
    store : path, optional
        The store (default: the one named in ``analysis/analysis.json``); needed for the data
        set table and the timelines.
    max_videos : int
        Spotting timelines drawn.

    Returns
    -------
    Path
        ``out``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from mmme.data.store import Store

    res = Path(results)
    if not res.is_dir():
        raise InputError(f"{res}: no such results folder", file=str(res))
    docs: dict[str, Any] = {}
    for part, name in (("analysis", "analysis.json"), ("recognition", "recognition.json"),
                       ("spotting", "spotting.json")):
        f = res / part / name
        docs[part] = _read_json(f) if f.is_file() else None
    if not any(docs.values()):
        raise InputError(f"{res}: no analysis/, recognition/ or spotting/ results in it",
                         file=str(res))
    store_path = store or (docs["analysis"] or {}).get("store")
    st = Store(store_path) if store_path and Path(store_path).is_dir() else None
    body = [f"<h1>{html.escape(title)}</h1>",
            "<nav><a href='#data'>data set</a><a href='#recognition'>recognition</a>"
            "<a href='#spotting'>spotting</a><a href='#analysis'>analysis</a>"
            "<a href='#config'>configuration</a></nav>"]
    body.append(_dataset_section(st) if st is not None else
                "<h2 id='data'>Data set</h2>" + _note("no store given: statistics left out"))
    body.append(_recognition_section(res / "recognition"))
    body.append(_spotting_section(res / "spotting", st, max_videos))
    body.append(_analysis_section(res / "analysis"))
    body.append(_config_section(res, docs))
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "".join(body) + "</body></html>")
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out
