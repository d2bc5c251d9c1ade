"""Cost of the results layer's input fingerprints and of keeping derived results at re-import.

A store with one long session (``--channels`` float32 channels at ``--sfreq`` for ``--minutes``)
and one trial every ``--trial-s`` + ``--rest-s`` is written; then, on the same store:

* read: every trial's padded window read as the physio stage reads it
  (:meth:`~mmme.data.streams.SignalStream.get_data`), the baseline;
* fingerprint: the same windows fingerprinted (:class:`~mmme.data.derived.TrialInputs`, as the
  physio stage does before each trial);
* re-import: the store written again by :class:`~mmme.data.store.StoreWriter` (the baseline),
  then written again with one physio-like entry per trial in ``derived/`` to carry over.

Usage::

    python benchmarks/derived.py [--minutes 10] [--channels 68] [--sfreq 1000] [--repeat 3]

Ratios printed: fingerprint / read (target <= 2: fingerprinting costs about a read of the data it
covers), re-import with carry-over / plain re-import (target <= 2).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_store(path: Path, data: np.ndarray, sfreq: float, trials: list[tuple[float, float]]
                ) -> None:
    from mmme.data.store import StoreWriter
    from mmme.data.sync import ClockMap

    names = [f"C{i}" for i in range(data.shape[1])]
    with StoreWriter(path, "bench") as w:
        mm = w.signal_file("S01", "1", "physio", len(data), data.shape[1])
        for a in range(0, len(data), 1 << 18):
            mm[a : a + (1 << 18)] = data[a : a + (1 << 18)]
        mm.flush()
        del mm
        w.add_session("S01", "1", clocks={"physio": ClockMap(0.5, 1.00005)}, reference="physio",
                      markers=pd.DataFrame({"device": ["physio"], "code": [1],
                                            "device_time_s": [1.0], "time_s": [1.5]}),
                      streams={"physio": {"ch_names": names, "units": ["uV"] * len(names),
                                          "sfreq": sfreq, "device": "physio",
                                          "kind": "physio"}})
        w.add_trials([{"subject": "S01", "session": "1", "trial": str(100 + i), "marker": i,
                       "category": "1", "start_s": a, "stop_s": b, "n_frames": 0,
                       "video_start_s": a} for i, (a, b) in enumerate(trials)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--channels", type=int, default=68)
    ap.add_argument("--sfreq", type=float, default=1000.0)
    ap.add_argument("--trial-s", type=float, default=30.0)
    ap.add_argument("--rest-s", type=float, default=30.0)
    ap.add_argument("--pad-s", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from mmme.data.derived import TrialInputs
    from mmme.data.store import Store

    n = int(args.minutes * 60 * args.sfreq)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((n, args.channels), dtype=np.float32)
    dur = n / args.sfreq
    trials, t = [], 10.0
    while t + args.trial_s < dur - 10:
        trials.append((t, t + args.trial_s))
        t += args.trial_s + args.rest_s
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store"
        write_store(path, data, args.sfreq, trials)
        store = Store(path)
        keys = [(str(r.subject), str(r.session), str(r.trial)) for r in store.trials.itertuples()]
        mb = sum(len(store.trial(*k).signal("physio", pad_s=args.pad_s)[1]) for k in keys) * \
            args.channels * 4 / 2**20
        print(f"{len(keys)} trials of {args.trial_s:g} s +- {args.pad_s:g} s, {args.channels} ch "
              f"at {args.sfreq:g} Hz: {mb:.0f} MB of windows")
        fp_ratio, carry_ratio = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for k in keys:
                store.trial(*k).signal("physio", pad_s=args.pad_s)
            t_read = time.perf_counter() - t0
            t0 = time.perf_counter()
            for k in keys:
                TrialInputs(*k, span=True, streams=True, pad_s=args.pad_s).fingerprints(store)
            t_fp = time.perf_counter() - t0
            fp_ratio.append(t_fp / t_read)

            t0 = time.perf_counter()
            write_store(path, data, args.sfreq, trials)
            t_plain = time.perf_counter() - t0
            store = Store(path)
            res = store.derived("physio")
            for k in keys:
                key = res.key({"pad_s": args.pad_s},
                              TrialInputs(*k, span=True, streams=True, pad_s=args.pad_s))
                res.put(key, tables={"events": pd.DataFrame({"value": rng.random(500)})})
            t0 = time.perf_counter()
            write_store(path, data, args.sfreq, trials)
            t_carry = time.perf_counter() - t0
            store = Store(path)
            assert store.report["derived"]["kept"] == len(keys), store.report["derived"]
            carry_ratio.append(t_carry / t_plain)
            print(f"  read {t_read:.3f} s, fingerprint {t_fp:.3f} s; re-import {t_plain:.2f} s, "
                  f"with carry-over {t_carry:.2f} s")
        print(f"fingerprint / read: median {statistics.median(fp_ratio):.2f} "
              f"(range {min(fp_ratio):.2f}-{max(fp_ratio):.2f}; target <= 2)")
        print(f"re-import with carry-over / plain: median {statistics.median(carry_ratio):.2f} "
              f"(range {min(carry_ratio):.2f}-{max(carry_ratio):.2f}; target <= 2)")


if __name__ == "__main__":
    main()
