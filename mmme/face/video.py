"""``mmme video``: the whole face pipeline on one's own video file.

Writes into ``OUT``:

* ``frames.csv`` - ``frame, time_s, face`` (1/0), ``status``, then ``x0, y0 .. x67, y67``
  (empty where the face is lost);
* ``motion.csv`` - ``frame`` and one column per motion ROI (flow magnitude in aligned-crop
  pixels, empty where the face is lost);
* ``pulse.csv`` - ``time_s, rPPG`` (empty where lost) when the video is long enough for rPPG;
* ``timeline.png`` - face status, ROI motion and pulse over time;
* ``summary.json`` - parameters, frame rate, lost frames, heart rate.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.errors import InputError
from mmme.face.pipeline import FaceAnalysis, analyze_frames, read_video
from mmme.utils import atomic_path, write_json


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, na_rep="", float_format="%.4f")


def plot_timeline(res: FaceAnalysis, pulse: pd.DataFrame | None, path: str | os.PathLike[str],
                  title: str = "") -> None:
    """Save a three-panel timeline (face status, ROI motion, rPPG) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(res.n_frames) / res.fps
    fig, axes = plt.subplots(3, 1, figsize=(11, 6.5), sharex=True,
                             gridspec_kw={"height_ratios": [0.6, 2, 1.2]})
    ax = axes[0]
    ax.fill_between(t, 0, res.face.astype(float), step="mid", color="tab:green", alpha=0.6,
                    label="face")
    ax.fill_between(t, 0, (~res.face).astype(float), step="mid", color="tab:red", alpha=0.6,
                    label=f"lost ({len(res.lost_frames)} frames)")
    ax.set_yticks([])
    ax.legend(loc="upper right", fontsize=8, ncol=2)
    ax.set_title(title or "face timeline", fontsize=10)
    ax = axes[1]
    for k, name in enumerate(res.roi_names):
        ax.plot(t, res.motion[:, k], lw=0.9, label=name)
    ax.set_ylabel("flow (px)")
    ax.legend(loc="upper right", fontsize=7, ncol=4)
    ax = axes[2]
    if pulse is not None:
        hr = pulse.attrs.get("heart_rate_bpm", float("nan"))
        ax.plot(pulse["time_s"], pulse["rPPG"], lw=0.8, color="tab:purple",
                label=f"rPPG ({pulse.attrs.get('method', '')}), HR {hr:.1f} bpm")
        ax.legend(loc="upper right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "video too short for rPPG", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_ylabel("pulse")
    ax.set_xlabel("time (s)")
    fig.tight_layout()
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def process_video(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    rppg_method: str = "pos",
    fps: float | None = None,
    progress: Callable[[int], None] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Run the face pipeline on a video file and write the outputs listed in the module doc.

    Parameters
    ----------
    path : str | Path
        Any video OpenCV decodes (mp4, avi, mkv ...).
    out : str | Path
        Output directory (created).
    rppg_method : str
        ``"pos"`` or ``"chrom"``.
    fps : float | None
        Override the container's frame rate.
    progress : callable | None
        Called with 1 per frame.
    **params
        Passed to :func:`mmme.face.pipeline.analyze_frames` (``backend, size, flow, window,
        align, realign_px, compensate``).

    Returns
    -------
    dict
        The summary also written to ``summary.json``.
    """
    from mmme.face.rppg import rppg

    frames, vfps, _ = read_video(path)
    fps = float(fps or vfps)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        res = analyze_frames(frames, fps, progress=progress, **params)
    except InputError as e:
        if "no frames" in str(e):
            raise InputError("the video has no decodable frames", file=str(path)) from e
        raise
    pulse = None
    if res.face.sum() >= max(4 * fps, 2):
        pulse = rppg(res.skin_rgb, fps, rppg_method)
    _write_csv(out / "frames.csv", res.frames_table())
    _write_csv(out / "motion.csv", res.motion_table())
    if pulse is not None:
        _write_csv(out / "pulse.csv", pulse)
    else:
        _write_csv(out / "pulse.csv", pd.DataFrame({"time_s": np.arange(res.n_frames) / fps,
                                                    "rPPG": np.nan}))
    plot_timeline(res, pulse, out / "timeline.png", title=Path(path).name)
    summary = {
        "video": str(path), "fps": fps, "n_frames": res.n_frames,
        "n_lost": int(len(res.lost_frames)), "lost_frames": res.lost_frames.tolist(),
        "n_segments": int(res.segment.max() + 1) if (res.segment >= 0).any() else 0,
        "heart_rate_bpm": _finite_or_none(None if pulse is None
                                          else pulse.attrs["heart_rate_bpm"]),
        "rppg_method": rppg_method if pulse is not None else None, "params": res.params,
    }
    write_json(out / "summary.json", summary)
    return summary
