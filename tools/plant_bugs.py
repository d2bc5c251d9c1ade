"""Plant one bug at a time in the core computations, run their tests, record, revert.

Usage: ``python tools/plant_bugs.py [ID ...]`` from a clean checkout (it rewrites a source file,
runs the tests named for it, then ``git checkout``s the file back). One JSON line per bug:
how many tests of the ``*_known.py`` files and of the other files failed. A bug no test
catches is a missing test. See docs/testing/planted_bugs_core.md for the last run.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

WT = Path(__file__).resolve().parents[1]
PY = sys.executable
A, S, ST, SU = "mmme/data/annotations.py", "mmme/data/sync.py", "mmme/data/streams.py", "mmme/data/summary.py"
C, M, E = "mmme/io/coding.py", "mmme/io/mmme.py", "mmme/eeg/features.py"
R, F, P, Q = "mmme/face/roi.py", "mmme/face/flow.py", "mmme/physio/peripheral.py", "mmme/data/quality.py"
FF = "mmme/face/features.py"
T = {
    A: ["tests/data/test_annotations_known.py", "tests/data/test_summary_known.py", "tests/io/test_coding_known.py", "tests/data/test_annotations.py", "tests/io/test_io_coding.py"],
    S: ["tests/data/test_sync_known.py", "tests/data/test_sync.py"],
    ST: ["tests/data/test_streams_known.py", "tests/data/test_store_edge.py"],
    SU: ["tests/data/test_summary_known.py", "tests/io/test_io_coding.py"],
    C: ["tests/io/test_coding_known.py", "tests/io/test_io_coding.py"],
    M: ["tests/io/test_coding_known.py", "tests/io/test_io_mmme.py"],
    E: ["tests/eeg/test_features_known.py", "tests/eeg/test_eeg_features.py"],
    R: ["tests/face/test_face_roi_known.py", "tests/face/test_face_flow.py", "tests/face/test_face_features.py"],
    F: ["tests/face/test_face_roi_known.py", "tests/face/test_face_flow.py"],
    FF: ["tests/face/test_face_roi_known.py", "tests/face/test_face_features.py"],
    P: ["tests/physio/test_peripheral_known.py", "tests/io/test_acq_known.py", "tests/physio/test_physio_stream.py", "tests/physio/test_physio_breath_pause.py"],
    Q: ["tests/data/test_quality_known.py", "tests/io/test_acq_known.py", "tests/physio/test_physio_quality.py"],
}
BUGS = [
    (A, "if total is not None and total <= ME_MAX_DURATION_MS", "if total is not None and total < ME_MAX_DURATION_MS", "ME total boundary <= -> <"),
    (A, "if rise is not None and rise <= ME_MAX_ONSET_APEX_MS", "if rise is not None and rise < ME_MAX_ONSET_APEX_MS", "ME rise boundary <= -> <"),
    (A, "return int(math.floor(abs(seconds) * 1000 + 0.5))", "return int(abs(seconds) * 1000)", "ms() truncates instead of rounding"),
    (A, "else ms(offset_s - onset_s)", "else (offset_s - onset_s) * 1000", "ME rule compares float ms, not whole ms"),
    (A, 'side = m.group("pre") or m.group("pre2") or m.group("post")', 'side = m.group("pre") or m.group("post")', "AU laterality after 'AU ' lost"),
    (A, "        if au not in out:\n", "        if au.number not in [a.number for a in out]:\n", "bilateral L10+R10 deduplicated to L10"),
    (A, "df[f\"{p}_rel_s\"] = rel.where(rel.notna(), frames / fps)", "df[f\"{p}_rel_s\"] = rel.where(rel.notna(), (frames - 1) / fps)", "frame -> seconds off by one frame"),
    (A, "typ = rule if _isnan(coder) else coder", "typ = rule", "coders' type ignored"),
    (S, "return (self.scale - 1.0) * 1e6", "return (1.0 - self.scale) * 1e6", "drift_ppm sign"),
    (S, "out = (np.asarray(t, dtype=np.float64) - self.offset) / self.scale", "out = (np.asarray(t, dtype=np.float64) - self.offset) * self.scale", "to_device multiplies by scale"),
    (S, "offset = float(y_mean - scale * x_mean)", "offset = float(y_mean - x_mean)", "offset ignores drift"),
    (S, "scale = float(xc @ yc) / sxx", "scale = float(x @ y) / float(x @ x)", "uncentred slope (through origin)"),
    (S, "rms, worst = float(np.sqrt(np.mean(resid**2))), float(abs_resid[k])", "rms, worst = float(np.mean(abs_resid)), float(abs_resid[k])", "residual rms is mean |r|"),
    (S, "    pos = order[~np.isin(code[order], list(ignore))]\n", "    pos = order\n", "noise markers not ignored"),
    (ST, "return np.rint(dev * self.sfreq).astype(np.int64)", "return np.floor(dev * self.sfreq).astype(np.int64)", "sample_index floors"),
    (ST, "return self.sfreq / self.clock.scale", "return self.sfreq * self.clock.scale", "sfreq_common multiplies"),
    (ST, "a = 0 if start_s is None else int(math.ceil(self.clock.to_device(start_s) * self.sfreq))", "a = 0 if start_s is None else int(math.floor(self.clock.to_device(start_s) * self.sfreq))", "get_data start floor (one sample early)"),
    (ST, "            a, b = c + n0, c + n1 + 1\n", "            a, b = c + n0, c + n1\n", "epoch drops its last sample"),
    (ST, "return float(self.clock.to_common(self.n_samples / self.sfreq))", "return float(self.clock.to_common((self.n_samples - 1) / self.sfreq))", "stop_s one sample early"),
    (ST, "dev = np.asarray(self.clock.to_device(np.asarray(time_s, dtype=float)))", "dev = np.asarray(time_s, dtype=float) - self.clock.offset", "sample_index ignores drift"),
    (SU, "return np.where(np.isfinite(rel), rel, common) * 1000.0\n\n\ndef rise_ms", "return np.where(np.isfinite(common), common, rel) * 1000.0\n\n\ndef rise_ms", "duration prefers common over relative times"),
    (SU, '"sd": float(np.std(x, ddof=1))', '"sd": float(np.std(x))', "sd with ddof 0"),
    (SU, "key=lambda kv: (-kv[1], kv[0])", "key=lambda kv: (kv[1], kv[0])", "AU counts least frequent first"),
    (SU, "for au in dict.fromkeys(base_aus(cell))", "for au in base_aus(cell)", "bilateral AU counted twice"),
    (C, "return h * 3600 + mi * 60 + s + ms_ / 1000", "return h * 3600 + mi * 60 + s + ms_ / 100", "stamp ms read as centiseconds"),
    (C, "secs = [s + 86400 if s < secs[0] - 43200 else s for s in secs]", "secs = list(secs)", "no midnight wrap"),
    (C, "if any(abs((secs[k] - secs[0]) - (times[k] - onset)) > TIME_STAMP_TOLERANCE_S for k in (1, 2)):", "if any((secs[k] - secs[0]) - (times[k] - onset) > TIME_STAMP_TOLERANCE_S for k in (1, 2)):", "mismatch check one-sided"),
    (C, "excel_row = int(i) + 2", "excel_row = int(i) + 1", "excel row off by one"),
    (C, "if stamps[1] == stamps[2]:", "if stamps[0] == stamps[2]:", "apex_equals_offset compares onset"),
    (M, 'ann.loc[i, f"{p}_rel_s"] = rel\n', 'ann.loc[i, f"{p}_rel_s"] = coded\n', "event rel time from coded seconds, not stamps"),
    (M, 'ann.loc[i, f"{p}_s"] = float(tf["time_s"].iloc[k])', 'ann.loc[i, f"{p}_s"] = float(tf["time_s"].iloc[0]) + coded', "event common time from coded seconds"),
    (E, "psd[..., (freqs >= lo) & (freqs < hi)].sum(-1) * df", "psd[..., (freqs >= lo) & (freqs <= hi)].sum(-1) * df", "band upper edge inclusive"),
    (E, "psd[..., (freqs >= lo) & (freqs < hi)].sum(-1) * df", "psd[..., (freqs >= lo) & (freqs < hi)].mean(-1) * df", "band power mean instead of integral"),
    (E, "np.where(p > 0, 0.5 * np.log(2 * np.pi * np.e * p), np.nan)", "np.where(p > 0, 0.5 * np.log(2 * np.pi * p), np.nan)", "DE drops e"),
    (E, "asym = np.log(pr) - np.log(pl)", "asym = np.log(pl) - np.log(pr)", "asymmetry sign"),
    (E, "std = np.nanstd(X, axis=0)", "std = np.nanstd(X, axis=0, ddof=1)", "z-score sd ddof 1"),
    (E, "out = np.stack(blocks, axis=-1)", "out = np.stack(blocks, axis=-2)", "feature order band-major"),
    (E, "fmin=0.0,", "fmin=1.0,", "PSD from 1 Hz (df from freqs still)"),
    (R, "return np.array(cv2.mean(patch, mask)[:n_ch])", "return np.array(cv2.mean(patch)[:n_ch])", "ROI mean ignores mask"),
    (R, "xa, xb = int(np.clip(np.floor(x0), 0, w)), int(np.clip(np.ceil(x1), 0, w))", "xa, xb = int(np.clip(np.round(x0), 0, w)), int(np.clip(np.round(x1), 0, w))", "box edges rounded"),
    (R, "return (p[:, 0] >= x0) & (p[:, 0] < x1) & (p[:, 1] >= y0) & (p[:, 1] < y1)", "return (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)", "contains closed box"),
    (R, "return patch[self.mask]", "return patch[~self.mask]", "take inverted mask"),
    (R, '"mouth_left": lambda: Roi("mouth_left", corner(p[54])),', '"mouth_left": lambda: Roi("mouth_left", corner(p[48])),', "mouth sides swapped"),
    (R, "return _box(pts[:, 0].min() - 0.08 * d, pts[:, 1].min() - 0.22 * d,", "return _box(pts[:, 0].min() - 0.08 * d, pts[:, 1].min() - 0.12 * d,", "brow box height"),
    (R, "f\"r{i}c{j}\": Roi(f\"r{i}c{j}\", (int(xs[j]), int(ys[i]), int(xs[j + 1]), int(ys[i + 1])))", "f\"r{i}c{j}\": Roi(f\"r{i}c{j}\", (int(ys[j]), int(xs[i]), int(ys[j + 1]), int(xs[i + 1])))", "grid x/y swapped"),
    (F, "return means[:, :2].copy(), means[:, 2].copy()", "return means[:, :2].copy(), np.hypot(means[:, 0], means[:, 1])", "ROI magnitude = |mean vector|"),
    (F, "return np.sqrt(u_x**2 + v_y**2 + 0.5 * (u_y + v_x) ** 2).astype(np.float32)", "return np.sqrt(u_x**2 + v_y**2 + (u_y + v_x) ** 2).astype(np.float32)", "strain shear weight"),
    (FF, "main = np.argmax(np.bincount(idx, minlength=self.n_bins))", "main = np.argmax(np.bincount(idx, weights=_orientation_hist(px, self.n_bins)[2], minlength=self.n_bins))", "MDMO main bin by magnitude"),
    (P, "rr_ms = np.diff(inw) / fs * 1000.0", "rr_ms = np.diff(inw) / fs", "RMSSD in seconds"),
    (P, 'out["rmssd_ms"] = float(np.sqrt(np.mean(np.diff(rr_ms) ** 2)))', 'out["rmssd_ms"] = float(np.std(rr_ms))', "SDNN reported as RMSSD"),
    (P, "    a = int(np.round((start_s - proc.t0) * fs))\n", "    a = int(np.round(start_s * fs))\n", "window ignores t0"),
    (P, "if not proc.usable or bad_fraction > max_bad or hi <= lo:", "if not proc.usable or bad_fraction >= max_bad or hi <= lo:", "max_bad inclusive"),
    (P, "    return (idx >= a) & (idx < b)\n", "    return (idx >= a) & (idx <= b)\n", "window end inclusive for events"),
    (P, 'out["slope_per_min"] = _slope(y, fs) * 60.0', 'out["slope_per_min"] = _slope(y, fs)', "SKT slope per s as per min"),
    (P, "first = int(np.argmin(onsets[sel]))", "first = 0", "first SCR by list order"),
    (P, 'out["hr_std_bpm"] = float(finite.std()) if finite.size else float("nan")', 'out["hr_std_bpm"] = float(finite.std(ddof=1)) if finite.size else float("nan")', "HR sd ddof 1"),
    (P, "keep = at > factor * ref", "keep = at > ref", "HR slope filter drops factor"),
    (P, "return np.maximum.reduceat(bad.astype(np.uint8), starts).astype(bool)", "return np.minimum.reduceat(bad.astype(np.uint8), starts).astype(bool)", "resample_mask any -> all"),
    (P, "sel &= cum[np.minimum(b, bad.size)] - cum[np.minimum(a, bad.size)] == 0", "sel &= cum[np.minimum(b, bad.size)] - cum[np.minimum(a, bad.size)] >= 0", "breath pause over bad samples kept"),
    (P, 'out["breath_interval_max_latency_s"] = (opened - a) / fs', 'out["breath_interval_max_latency_s"] = (opened - lo) / fs', "breath latency from clipped start"),
    (P, "i = np.round((np.asarray(t, dtype=float) - self.t0) * self.sfreq).astype(np.int64)", "i = np.floor((np.asarray(t, dtype=float) - self.t0) * self.sfreq).astype(np.int64)", "ProcessedSignal.index floors"),
    (Q, "runs = _mark_runs(zero, int(round(run_s * sfreq)) - 1)", "runs = _mark_runs(zero, int(round(run_s * sfreq)))", "flat run one sample longer"),
    (E, "df = freqs[1] - freqs[0] if freqs.size > 1 else sfreq / n_per_seg", "df = sfreq / n_times", "band power integrated with 1/T not the bin width"),
    (E, "if top > sfreq / 2:", "if top > sfreq:", "Nyquist check against sfreq"),
    (S, "return ref_pos[i1 : i1 + (j2 - j1)], dev_pos[j1:j2]", "return ref_pos[i1 + 1 : i1 + 1 + (j2 - j1)], dev_pos[j1:j2]", "truncated device paired one marker late"),
    (P, "t = np.arange(0, y.size, step) / sfreq", "t = np.arange(y[::step].size) / sfreq", "slope subsampling forgets the step"),
    (M, 'rel = float(tf["device_time_s"].iloc[k]) - t0', 'rel = float(tf["device_time_s"].iloc[k]) - float(tf["device_time_s"].iloc[1])', "relative time from the trial's second frame"),
]


def run(bug_ids, budget_s=470):
    start = time.time()
    for i in bug_ids:
        if time.time() - start > budget_s:
            print(json.dumps({"id": i, "stopped": True}), flush=True)
            return
        f, old, new, what = BUGS[i]
        p = WT / f
        src = p.read_text()
        n = src.count(old)
        if n != 1:
            print(json.dumps({"id": i, "file": f, "what": what, "error": f"pattern found {n} times"}), flush=True)
            continue
        line = src[: src.index(old)].count("\n") + 1
        p.write_text(src.replace(old, new))
        try:
            t0 = time.time()
            r = subprocess.run([PY, "-m", "pytest", *T[f], "-q", "-p", "no:cacheprovider", "--tb=no", "-rf"],
                               cwd=WT, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(WT)}, timeout=600)
            failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", r.stdout, re.M)))
            known = [x for x in failed if "_known.py" in x]
            old_ = [x for x in failed if "_known.py" not in x]
            rec = {"id": i, "file": f, "line": line, "what": what, "known_failed": len(known),
                   "old_failed": len(old_), "first_known": known[:2], "first_old": old_[:2],
                   "rc": r.returncode, "s": round(time.time() - t0, 1)}
        finally:
            subprocess.run(["git", "checkout", "--", f], cwd=WT, check=True)
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    run([int(a) for a in sys.argv[1:]] or list(range(len(BUGS))))
