"""Throughput of the face front end against decoding only and against bare OpenCV TV-L1.

A synthetic face video (planted AU + pulse, :mod:`mmme.synth.face`) is written as image files
(``.tif`` like the MMME camera, or ``.jpg``) or as an MJPG ``.avi``. Then, on the same frames:

* decode only: read every frame;
* bare TV-L1: :func:`cv2.optflow.DualTVL1OpticalFlow_create` (OpenCV defaults) on the aligned crops
  the front end flows (reference crop -> each crop), nothing else; the front end with
  ``flow="tvl1"`` is timed with ``flow_region="crop"`` so that both do the same flow work;
* front end: decode + track + align + crop + flow + ROI motion + skin colour
  (:func:`mmme.face.pipeline.analyze_frames`, default ``flow_region="rois"``) with each fast
  flow method, ``--repeat`` times; each repetition times decoding too, and the ratio of each
  repetition is kept (the machine may be shared): medians and ranges are printed.

Usage::

    python benchmarks/face_pipeline.py [--frames 150] [--width 640] [--height 480]
                                       [--format tif|jpg|avi] [--size 128] [--repeat 5]

Targets ([face] issue): front end with TV-L1 <= 1.3 x bare TV-L1 cost; with the fast flow
>= 0.6 x decode-only throughput.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np


def write_video(folder: Path, n: int, width: int, height: int, fmt: str) -> list[Path] | Path:
    from mmme.synth.face import FaceEvent, render_trial

    fps = 150.0
    t = np.arange(n) / fps
    ppg = np.sin(2 * np.pi * 1.2 * t)
    ev = FaceEvent("AU4+AU7", onset_s=0.2, apex_s=0.35, offset_s=0.6, amplitude_px=1.5)
    r = render_trial([ev], n_frames=n, fps=fps, size=(width, height), ppg=ppg, seed=0)
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in r.frames]
    if fmt == "avi":
        path = folder / "clip.avi"
        wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
        for f in frames:
            wr.write(f)
        wr.release()
        return path
    paths = []
    for i, f in enumerate(frames):
        p = folder / f"{i:05d}.{fmt}"
        cv2.imwrite(str(p), f)
        paths.append(p)
    return paths


def iter_frames(source: list[Path] | Path) -> Iterator[np.ndarray]:
    if isinstance(source, Path):
        cap = cv2.VideoCapture(str(source))
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield frame
        cap.release()
    else:
        for p in source:
            yield cv2.imread(str(p), cv2.IMREAD_COLOR)


def timed(fn) -> tuple[float, object]:  # noqa: ANN001
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--format", choices=["tif", "jpg", "avi"], default="tif")
    ap.add_argument("--size", type=int, default=128, help="aligned crop side")
    ap.add_argument("--repeat", type=int, default=5,
                    help="repetitions (TV-L1 defaults: 1); medians are reported")
    args = ap.parse_args()

    from mmme.face.pipeline import analyze_frames

    n = args.frames
    fast = ("tvl1_fast", "farneback", "dis")
    with tempfile.TemporaryDirectory(prefix="mmme-bench-") as tmp:
        src = write_video(Path(tmp), n, args.width, args.height, args.format)
        list(iter_frames(src))  # warm the file cache and the decoders

        def front_end(method: str, region: str = "rois") -> object:
            return analyze_frames(iter_frames(src), 150.0, flow=method, size=args.size,
                                  flow_region=region)

        res = analyze_frames(iter_frames(src), 150.0, flow="dis", size=args.size, keep_crops=True)
        crops = res.crops
        ref = crops[0]
        tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
        t_bare, _ = timed(lambda: [tvl1.calc(ref, c, None) for c in crops[1:]])
        # TV-L1 defaults on the whole crop, the same flow work as the bare calls above
        t_tvl1, _ = timed(lambda: front_end("tvl1", "crop"))

        # The machine may be shared: each repetition measures decode and every method back to
        # back, and the ratio of that repetition is kept; the medians are reported.
        t_dec, runs, ratios = [], {m: [] for m in fast}, {m: [] for m in fast}
        for _ in range(max(args.repeat, 1)):
            t_d, _ = timed(lambda: sum(1 for _ in iter_frames(src)))
            t_dec.append(t_d)
            for m in fast:
                t_m, _ = timed(lambda m=m: front_end(m))
                runs[m].append(t_m)
                ratios[m].append(t_d / t_m)

    med = statistics.median
    print(f"{n} frames {args.width}x{args.height} .{args.format}, crop {args.size}, "
          f"{cv2.getNumThreads()} OpenCV threads, lost frames: {len(res.lost_frames)}, "
          f"{args.repeat} repetitions (medians)")
    print(f"decode only                      {n / med(t_dec):9.1f} frames/s")
    print(f"bare cv2 TV-L1 (defaults)        {(n - 1) / t_bare:9.1f} frames/s  (aligned crops)")
    print(f"front end, flow=tvl1 (whole crop) {n / t_tvl1:8.1f} frames/s")
    for m in fast:
        print(f"front end, flow={m:<10s}       {n / med(runs[m]):9.1f} frames/s")
    print()
    print(f"front end (tvl1) cost / bare TV-L1 cost        = {t_tvl1 / t_bare:5.2f}"
          "   (target <= 1.3)")
    for m in fast:
        lo, hi = min(ratios[m]), max(ratios[m])
        print(f"front end ({m}) / decode-only throughput{' ' * (10 - len(m))}= "
              f"{med(ratios[m]):5.2f}   [{lo:.2f}..{hi:.2f}]  (target >= 0.6 for the fast flow)")


if __name__ == "__main__":
    main()
