"""Benchmark: stream a synthetic 73-minute session (64 EEG + 10 peripheral channels at 1 kHz).

The session is written to a memory-mapped ``.npy`` (time-major, as in the store) and processed
chunk by chunk with :func:`mmme.physio.stream_features` on one core. Printed ratios:

* processing time / session duration (target <= 1/50),
* mmme's peripheral processing vs NeuroKit2's ``*_process`` on the same signals (measured on an
  excerpt of ``--baseline-minutes`` and scaled linearly; ``emg_process`` alone runs at ~1/20 of
  real time),
* peak memory (Python/NumPy heap, tracemalloc) for 60 vs 10 minutes (target <= 1.2).

Usage: ``python benchmarks/physio.py [--minutes 73] [--baseline-minutes 5] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"  # one core

import multiprocessing as mp  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

FS = 1000
PERIPH = ["ECG", "PPG", "RSP", "EDA", "EMG A", "EMG B", "SKT A", "SKT B", "HEO", "VEO"]
KINDS = {"ECG": "ecg", "PPG": "ppg", "RSP": "rsp", "EDA": "eda", "EMG A": "emg", "EMG B": "emg",
         "SKT A": "skt", "SKT B": "skt", "HEO": "eog", "VEO": "eog"}


def write_session(path: Path, minutes: float, seed: int = 0) -> list[str]:
    """Write ``(n, 74)`` float32 to ``path`` in 60-s blocks (NeuroKit2 waveforms + EEG noise)."""
    import neurokit2 as nk

    from mmme.eeg.channels import NEUROSCAN_64

    names = [*NEUROSCAN_64, *PERIPH]
    n = int(minutes * 60 * FS)
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, len(names)))
    rng = np.random.default_rng(seed)
    blk = 60 * FS
    # one minute of each peripheral waveform, re-used with fresh noise (simulation is not timed)
    base = {
        "ECG": nk.ecg_simulate(duration=60, sampling_rate=FS, heart_rate=70, random_state=1),
        "PPG": nk.ppg_simulate(duration=60, sampling_rate=FS, heart_rate=70, random_state=1),
        "RSP": nk.rsp_simulate(duration=60, sampling_rate=FS, respiratory_rate=15,
                               random_state=1),
        "EDA": nk.eda_simulate(duration=60, sampling_rate=FS, scr_number=3, random_state=1),
        "EMG A": nk.emg_simulate(duration=60, sampling_rate=FS, burst_number=3, random_state=1),
        "EMG B": nk.emg_simulate(duration=60, sampling_rate=FS, burst_number=2, random_state=2),
    }
    t = np.arange(blk) / FS
    for a in range(0, n, blk):
        b = min(a + blk, n)
        m = b - a
        out = np.empty((m, len(names)), dtype=np.float32)
        out[:, :64] = rng.standard_normal((m, 64)) * 5e-6
        out[:, 60:64] += (10e-6 * np.sin(2 * np.pi * 10 * t[:m]))[:, None]
        for j, c in enumerate(PERIPH):
            k = 64 + j
            if c in base:
                out[:, k] = base[c][:m] + rng.standard_normal(m) * 0.01 * np.std(base[c])
            elif c.startswith("SKT"):
                out[:, k] = 33 + 0.1 * np.sin(2 * np.pi * (a + np.arange(m)) / FS / 600)
            else:
                out[:, k] = rng.standard_normal(m) * 20e-6
        mm[a:b] = out
    mm.flush()
    del mm
    return names


def _run_stream(path: str, names: list[str], q: mp.Queue, periph_only: bool,
                stop_s: float | None) -> None:
    import mmme.eeg  # noqa: F401  (imported before timing, as in a long-running process)
    from mmme.physio.stream import iter_array_chunks, stream_features

    warnings.simplefilter("ignore")
    data = np.load(path, mmap_mode="r")
    if stop_s is not None:
        data = data[: int(stop_s * FS)]
    kinds = dict(KINDS)
    if not periph_only:
        kinds.update({c: "eeg" for c in names[:64]})
    else:
        kinds = {c: k for c, k in kinds.items() if k != "eog"}
    tracemalloc.start()
    t0 = time.perf_counter()
    res = stream_features(iter_array_chunks(data, FS, chunk_s=60, overlap_s=10), FS, names,
                          kinds, win_s=10.0)
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    q.put({"time_s": dt, "peak_bytes": peak, "n_windows": len(res.windows)})


def _run_nk(path: str, names: list[str], q: mp.Queue, stop_s: float) -> None:
    import neurokit2 as nk

    warnings.simplefilter("ignore")
    data = np.load(path, mmap_mode="r")
    n = int(stop_s * FS)
    funcs = {"ecg": nk.ecg_process, "ppg": nk.ppg_process, "rsp": nk.rsp_process,
             "eda": nk.eda_process, "emg": nk.emg_process}
    times = {}
    for c, k in KINDS.items():
        if k not in funcs:
            continue  # NeuroKit2 has no SKT pipeline; EOG is not a *_process target here
        x = np.asarray(data[:n, names.index(c)], dtype=float)
        t0 = time.perf_counter()
        funcs[k](x, sampling_rate=FS)
        times[c] = time.perf_counter() - t0
    q.put(times)


def _in_subprocess(target, *args):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def _run_nk_q(path, names, stop_s, q):  # the queue last, as _in_subprocess passes it
    _run_nk(path, names, q, stop_s)


def _run_stream_q(path, names, periph_only, stop_s, q):
    _run_stream(path, names, q, periph_only, stop_s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=73.0)
    ap.add_argument("--baseline-minutes", type=float, default=5.0)
    ap.add_argument("--mem-minutes", type=float, nargs=2, default=(10.0, 60.0))
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        path = Path(tmp) / "session.npy"
        t0 = time.perf_counter()
        names = write_session(path, max(args.minutes, max(args.mem_minutes)))
        print(f"wrote {path.stat().st_size / 1e9:.2f} GB session in "
              f"{time.perf_counter() - t0:.1f} s (not timed below)")
        dur = args.minutes * 60
        full = _in_subprocess(_run_stream_q, str(path), names, False, dur)
        print(f"[full] {args.minutes:g} min, 64 EEG + 10 peripheral: {full['time_s']:.1f} s "
              f"-> {full['time_s'] / dur:.4f} x real time (target <= {1 / 50:.4f}); "
              f"{full['n_windows']} windows; peak heap {full['peak_bytes'] / 1e6:.0f} MB")
        bmin = args.baseline_minutes * 60
        ours = _in_subprocess(_run_stream_q, str(path), names, True, bmin)
        nk_t = _in_subprocess(_run_nk_q, str(path), names, bmin)
        nk_total = sum(nk_t.values())
        print(f"[vs NeuroKit2] peripheral channels, {args.baseline_minutes:g} min excerpt: "
              f"mmme {ours['time_s']:.2f} s vs nk.*_process {nk_total:.2f} s "
              f"(no SKT) -> speed-up x{nk_total / ours['time_s']:.1f}; "
              f"nk per channel: " + ", ".join(f"{k} {v:.2f}s" for k, v in nk_t.items()))
        print(f"[vs NeuroKit2] scaled to {args.minutes:g} min: nk.*_process "
              f"{nk_total * dur / bmin:.0f} s = {nk_total / bmin:.4f} x real time")
        m_lo, m_hi = args.mem_minutes
        lo = _in_subprocess(_run_stream_q, str(path), names, False, m_lo * 60)
        hi = _in_subprocess(_run_stream_q, str(path), names, False, m_hi * 60)
        ratio = hi["peak_bytes"] / lo["peak_bytes"]
        print(f"[memory] peak heap {m_lo:g} min {lo['peak_bytes'] / 1e6:.0f} MB, {m_hi:g} min "
              f"{hi['peak_bytes'] / 1e6:.0f} MB -> ratio {ratio:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
