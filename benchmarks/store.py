"""Read one trial from a long and from a short session: time and peak memory should match.

Second part: import the peripheral export of a long and a short session (BIOPAC MATLAB file,
17 channels at 1 kHz): peak memory should not grow with the session's length either.

A 73-minute session (64 EEG + 16 peripheral channels at 1 kHz, 650k frames at 150 fps) and a
5-minute one are written with StoreWriter; then one 60 s trial (its EEG, its physiology and its
frame table) is read from each, in a fresh process, 5 times. Prints the ratio long / short.
Then ``SignalStream.to_mne`` on a 60 s window of each session: its peak allocations, against the
window's size and long / short.

    python benchmarks/store.py [--minutes-long 73] [--keep DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from mmme.data.store import Store, StoreWriter
from mmme.data.sync import ClockMap

EEG_CH, PHYS_CH, SFREQ, FPS = 64, 16, 1000.0, 150.0


def build(path: Path, minutes: float) -> None:
    n = int(minutes * 60 * SFREQ)
    n_trials = max(1, int(minutes // 1.5))
    with StoreWriter(path, dataset="bench") as w:
        for name, nch in (("eeg", EEG_CH), ("physio", PHYS_CH)):
            mm = w.signal_file("S01", "1", name, n, nch)
            step = 600_000
            rng = np.random.default_rng(0)
            for a in range(0, n, step):
                b = min(n, a + step)
                mm[a:b] = rng.standard_normal((b - a, nch), dtype=np.float32)
            mm.flush()
            del mm
        trials, frames = [], []
        for k in range(n_trials):
            start = 30.0 + 90.0 * k
            trials.append(
                {
                    "subject": "S01",
                    "session": "1",
                    "trial": str(101 + k),
                    "marker": 101 + k,
                    "start_s": start,
                    "stop_s": start + 60.0,
                    "n_frames": int(60 * FPS),
                }
            )
            t = start + np.arange(int(60 * FPS)) / FPS
            frames.append(
                pd.DataFrame(
                    {
                        "trial": str(101 + k),
                        "frame": np.arange(len(t)),
                        "device_time_s": t,
                        "time_s": t,
                        "stamp": [f"{x:.3f}" for x in t],
                        "path": [f"S01/video/{101 + k}/{i:06d}.tif" for i in range(len(t))],
                    }
                )
            )
        w.add_session(
            "S01",
            "1",
            clocks={
                "eeg": ClockMap.identity(),
                "physio": ClockMap(0.5, 1.00003),
                "video": ClockMap(1.0, 0.99996),
            },
            reference="eeg",
            markers=pd.DataFrame(columns=["device", "code", "device_time_s", "time_s"]),
            streams={
                "eeg": {
                    "ch_names": [f"E{i}" for i in range(EEG_CH)],
                    "units": ["V"] * EEG_CH,
                    "sfreq": SFREQ,
                    "device": "eeg",
                    "kind": "eeg",
                },
                "physio": {
                    "ch_names": [f"P{i}" for i in range(PHYS_CH)],
                    "units": ["mV"] * PHYS_CH,
                    "sfreq": SFREQ,
                    "device": "physio",
                    "kind": "physio",
                },
            },
            frames=pd.concat(frames, ignore_index=True),
            video={"frames_root": str(path), "fps": FPS},
        )
        w.add_trials(trials)


def read_trial(path: str, q: mp.Queue) -> None:
    tracemalloc.start()
    t0 = time.perf_counter()
    st = Store(path)
    trial = st.trial("S01", "1", "101")
    eeg, _ = trial.signal("eeg")
    phys, _ = trial.signal("physio")
    frames = trial.frames
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert eeg.shape == (EEG_CH, 60_000) and len(frames) == int(60 * FPS)
    q.put((dt, peak / 2**20, rss))


def measure(path: Path, reps: int = 5) -> tuple[float, float, float]:
    ctx = mp.get_context("spawn")
    res = []
    for _ in range(reps):
        q = ctx.Queue()
        p = ctx.Process(target=read_trial, args=(str(path), q))
        p.start()
        res.append(q.get())
        p.join()
    arr = np.array(res)
    return float(np.median(arr[:, 0])), float(np.median(arr[:, 1])), float(np.median(arr[:, 2]))


def window_to_mne(path: str, q: mp.Queue) -> None:
    """``to_mne`` on a 60 s window of both streams: peak allocations in this fresh process."""
    st = Store(path)
    ses = st.session("S01", "1")
    for name in ("eeg", "physio"):  # imports (MNE, the montage) and memmaps, before measuring
        ses.streams[name].to_mne(120.0, 120.01)
    tracemalloc.start()
    t0 = time.perf_counter()
    raws = [ses.streams[name].to_mne(120.0, 180.0) for name in ("eeg", "physio")]
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    assert [r.n_times for r in raws][0] in (59999, 60000, 60001)
    window = sum(r.get_data().nbytes for r in raws)
    q.put((dt, peak / 2**20, window / 2**20))


def measure_to_mne(path: Path, reps: int = 3) -> tuple[float, float, float]:
    ctx = mp.get_context("spawn")
    res = []
    for _ in range(reps):
        q = ctx.Queue()
        p = ctx.Process(target=window_to_mne, args=(str(path), q))
        p.start()
        res.append(q.get())
        p.join()
    return tuple(float(v) for v in np.median(np.array(res), axis=0))  # type: ignore[return-value]


def write_biopac(path: Path, minutes: float) -> None:
    from scipy.io import savemat

    n = int(minutes * 60 * SFREQ)
    labels = [f"CH{i}, X" for i in range(9)] + [f"Digital (STP Input {i})" for i in range(8)]
    data = np.zeros((n, len(labels)))
    data[:, :9] = np.random.default_rng(0).standard_normal((n, 9))
    data[1000:1020, 9 + 0] = 5.0  # marker 101 = bits 0, 2, 5, 6
    for b in (2, 5, 6):
        data[1000:1020, 9 + b] = 5.0
    savemat(path, {"data": data, "labels": np.array(labels), "isi": 1.0, "isi_units": "ms"})


def import_physio(path: str, q: mp.Queue) -> None:
    from mmme.io.mmme import _write_physio

    tracemalloc.start()
    t0 = time.perf_counter()
    out = Path(path).with_suffix(".out")
    out.mkdir(exist_ok=True)
    markers, _ = _write_physio(Path(path), out, Path(path).parent, [])
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    assert markers["code"].tolist() == [101]
    q.put((dt, peak / 2**20))


def measure_import(root: Path, minutes: float) -> tuple[float, float]:
    path = root / f"physio_{minutes:g}.mat"
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=write_biopac, args=(path, minutes))
    proc.start()
    proc.join()
    q = ctx.Queue()
    proc = ctx.Process(target=import_physio, args=(str(path), q))
    proc.start()
    res = q.get()
    proc.join()
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes-long", type=float, default=73.0)
    ap.add_argument("--minutes-short", type=float, default=5.0)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--skip-import", action="store_true", help="leave out the BIOPAC import part")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="mmme-bench-"))
    try:
        out = {}
        for label, minutes in (("short", args.minutes_short), ("long", args.minutes_long)):
            path = root / label
            if not path.exists():
                t0 = time.perf_counter()
                # build in a child: ru_maxrss is inherited by the readers' processes
                proc = mp.get_context("spawn").Process(target=build, args=(path, minutes))
                proc.start()
                proc.join()
                print(
                    f"built {label} session ({minutes:g} min) in {time.perf_counter() - t0:.1f} s"
                )
            out[label] = measure(path)
            dt, peak, rss = out[label]
            print(
                f"{label:5s} session: read one 60 s trial in {dt * 1e3:7.1f} ms, "
                f"peak Python allocations {peak:6.1f} MiB, peak RSS {rss:6.1f} MiB"
            )
        (ts, ps, rs), (tl, pl, rl) = out["short"], out["long"]
        print(
            f"ratio long/short: time {tl / ts:.2f}, peak allocations {pl / ps:.2f}, "
            f"peak RSS {rl / rs:.2f}"
        )
        mne_out = {}
        for label in ("short", "long"):
            mne_out[label] = measure_to_mne(root / label)
            dt, peak, window = mne_out[label]
            print(
                f"{label:5s} session: to_mne(120, 180) of eeg + physio in {dt * 1e3:7.1f} ms, "
                f"peak Python allocations {peak:6.1f} MiB for a {window:.1f} MiB window "
                f"({peak / window:.2f} x the window)"
            )
        print(
            f"to_mne ratio long/short: peak allocations "
            f"{mne_out['long'][1] / mne_out['short'][1]:.2f} "
            f"(session {args.minutes_long / args.minutes_short:.1f} x longer)"
        )
        if args.skip_import:
            return
        imp = {}
        for label, minutes in (("short", args.minutes_short), ("long", args.minutes_long)):
            imp[label] = measure_import(root, minutes)
            print(
                f"{label:5s} BIOPAC import ({minutes:g} min, 17 ch): {imp[label][0]:6.2f} s, "
                f"peak Python allocations {imp[label][1]:6.1f} MiB"
            )
        print(
            f"import ratio long/short: peak allocations {imp['long'][1] / imp['short'][1]:.2f} "
            f"(session {args.minutes_long / args.minutes_short:.1f} x longer)"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
