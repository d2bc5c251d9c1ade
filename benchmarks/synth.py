"""Generation time and disk size of the synthetic data set, and the size of its expressions.

1. The default set (``SynthConfig()``: 8 subjects x 4 clips, 256x256 jpg at 100 fps) through the
   executor on all CPUs; baseline in the same run: only encoding + writing as many neutral frames
   (the I/O floor). Target: under 120 s on 2 cores and under 1 GB.
2. Motion of the planted expressions measured on the written frames: Farneback flow from the
   onset to the apex frame, 99th percentile inside the first AU's landmark region, against the
   same statistic between two neutral frames (noise floor).
3. One real-size trial: 2040x1080 at 150 fps, 60 s (``--quick``: 6 s), jpg (``--tif``: tif).

Usage::

    python benchmarks/synth.py [--quick] [--tif] [--skip-real] [--figure docs/img/x.png]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from mmme.data.annotations import parse_aus
from mmme.synth.face import au_region, face_model
from mmme.synth.generate import SynthConfig, generate
from mmme.synth.writers import write_frame


def disk_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20


def trial_frames(raw: Path, subject: str, marker: str) -> list[Path]:
    files = [p for p in (raw / subject / "video").rglob("*") if p.stem.endswith(f"-{marker}")]
    return sorted(files, key=lambda p: p.stem)


def flow_p99(a: np.ndarray, b: np.ndarray, box: tuple[float, float, float, float]) -> float:
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 9, 3, 5, 1.1, 0)
    mag = np.hypot(flow[..., 0], flow[..., 1])
    x0, y0, x1, y1 = (int(v) for v in box)
    return float(np.percentile(mag[y0:y1, x0:x1], 99))


def measure_motion(raw: Path, size: tuple[int, int]) -> pd.DataFrame:
    gt = pd.read_csv(raw / "ground_truth.csv", dtype={"trial": str})
    model = face_model(size)
    rows = []
    for _, g in gt.iterrows():
        files = trial_frames(raw, g["subject"], g["trial"])
        gray = [cv2.imread(str(files[int(g[c])]), cv2.IMREAD_GRAYSCALE)
                for c in ("onset_frame", "apex_frame")]
        ref = cv2.imread(str(files[max(0, int(g["onset_frame"]) - 5)]), cv2.IMREAD_GRAYSCALE)
        box = model.region_box(au_region(parse_aus(g["aus"].replace("+", ","))[0]), 0.3)
        rows.append({"type": g["type"], "aus": g["aus"],
                     "motion_px": flow_p99(gray[0], gray[1], box),
                     "noise_px": flow_p99(ref, gray[0], box)})
    return pd.DataFrame(rows)


def figure(raw: Path, out: Path, size: tuple[int, int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gt = pd.read_csv(raw / "ground_truth.csv", dtype={"trial": str})
    me = gt[(gt["type"] == "ME") & ~gt["aus"].str.contains("\\+")]
    g = (me if len(me) else gt[gt["type"] == "ME"]).iloc[0]
    files = trial_frames(raw, g["subject"], g["trial"])
    on = cv2.cvtColor(cv2.imread(str(files[int(g["onset_frame"])])), cv2.COLOR_BGR2RGB)
    ap = cv2.cvtColor(cv2.imread(str(files[int(g["apex_frame"])])), cv2.COLOR_BGR2RGB)
    box = face_model(size).region_box(au_region(parse_aus(g["aus"].replace("+", ","))[0]), 0.3)
    motion = flow_p99(cv2.cvtColor(on, cv2.COLOR_RGB2GRAY), cv2.cvtColor(ap, cv2.COLOR_RGB2GRAY),
                      box)
    diff = np.abs(ap.astype(float) - on.astype(float)).mean(-1)
    fig, ax = plt.subplots(1, 3, figsize=(11, 4))
    ax[0].imshow(on)
    ax[0].set_title(f"onset (frame {g['onset_frame']})")
    ax[1].imshow(ap)
    rise_ms = (g["apex_s"] - g["onset_s"]) * 1000
    ax[1].set_title(f"apex (frame {g['apex_frame']}, +{rise_ms:.0f} ms)")
    im = ax[2].imshow(diff, cmap="magma", vmin=0, vmax=max(8.0, float(np.percentile(diff, 99.9))))
    x0, y0, x1, y1 = box
    ax[2].add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="cyan", lw=1))
    ax[2].set_title(f"|apex - onset| (grey levels); flow p99 {motion:.2f} px")
    fig.colorbar(im, ax=ax[2], fraction=0.046)
    for a in ax:
        a.axis("off")
    fig.suptitle(f"Synthetic ME {g['subject']} clip {g['trial']}: {g['aus']} ({g['emotion']}), "
                 f"{(g['offset_s'] - g['onset_s']) * 1000:.0f} ms onset->offset")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"figure -> {out}")


def io_floor(n_frames: int, size: tuple[int, int], folder: Path) -> float:
    frame = np.clip(face_model(size).image + 0.5, 0, 255).astype(np.uint8)
    t = time.perf_counter()
    for i in range(n_frames):
        write_frame(folder / f"{i}.jpg", frame, "jpg", 90)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="6 s real-size trial instead of 60 s")
    ap.add_argument("--tif", action="store_true", help="write the real-size trial as tif")
    ap.add_argument("--skip-real", action="store_true", help="only the default set")
    ap.add_argument("--figure", type=Path, default=None, help="save an ME onset/apex picture")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mmme-synth-bench-"))
    try:
        cfg = SynthConfig()
        t = time.perf_counter()
        raw = generate(tmp / "default", cfg, n_jobs=None, progress=False)
        gen_s = time.perf_counter() - t
        gt = pd.read_csv(raw / "ground_truth.csv")
        n_frames = sum(1 for p in raw.rglob("*.jpg"))
        floor = io_floor(n_frames, cfg.size, Path(tempfile.mkdtemp(dir=tmp)))
        size_mb = disk_mb(raw)
        counts = gt["type"].value_counts().to_dict()
        print(f"default set: {cfg.subjects} subjects x {cfg.trials_per_subject} clips, "
              f"{counts.get('ME', 0)} ME + {counts.get('MaE', 0)} MaE, {n_frames} frames "
              f"{cfg.size[0]}x{cfg.size[1]} at {cfg.fps:g} fps, {os.cpu_count()} CPUs")
        print(f"  generation {gen_s:.1f} s (target < 120 s on 2 cores: {gen_s / 120:.2f} x); "
              f"I/O floor (encode + write only, 1 core) {floor:.1f} s -> ratio {gen_s / floor:.2f}")
        print(f"  disk {size_mb:.0f} MB (target < 1024 MB: {size_mb / 1024:.2f} x)")
        motion = measure_motion(raw, cfg.size)
        for kind, m in motion.groupby("type"):
            print(f"  {kind} motion onset->apex (flow p99 in AU region): median "
                  f"{m['motion_px'].median():.2f} px, IQR {m['motion_px'].quantile(0.25):.2f}-"
                  f"{m['motion_px'].quantile(0.75):.2f}; neutral pairs {m['noise_px'].median():.2f}"
                  f" px")
        if args.figure is not None:
            figure(raw, args.figure, cfg.size)
        shutil.rmtree(raw)
        if args.skip_real:
            return
        real = SynthConfig.real_size()
        real = dataclasses.replace(real, frame_format="tif" if args.tif else "jpg",
                                   trial_s=6.0 if args.quick else 60.0, rest_s=5.0,
                                   me_per_trial=1 if args.quick else 3,
                                   mae_per_trial=1 if args.quick else 6)
        t = time.perf_counter()
        raw = generate(tmp / "real", real, n_jobs=1, progress=False)
        real_s = time.perf_counter() - t
        n_real = sum(1 for p in (raw / "S01" / "video").rglob("*") if p.is_file())
        print(f"real-size trial: {real.size[0]}x{real.size[1]} {real.frame_format} at "
              f"{real.fps:g} fps, {real.trial_s:g} s -> {n_real} frames in {real_s:.1f} s "
              f"({real_s / max(n_real, 1) * 1000:.1f} ms/frame incl. EEG+physio), "
              f"disk {disk_mb(raw):.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
