"""A small raw MMME folder built with known clocks and events (used by tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# True-time layout of the constructed session: clips of 4 s, rests of 3 s.
CLIPS = (101, 112, 125)
CLIP_S, REST_S, LEAD_S = 4.0, 3.0, 2.0
EEG_START = -1.0  # EEG (the reference) starts 1 s before true time 0
PHYSIO_START, PHYSIO_PPM = -0.5, 40.0
VIDEO_START, VIDEO_PPM, FPS = 0.3, -30.0, 50.0
WALL0 = dt.datetime(2023, 7, 21, 16, 45, 38)


def marker_times() -> list[tuple[int, float]]:
    """(code, true time) of every marker: clip onsets and rest markers."""
    out, t = [], LEAD_S
    for c in CLIPS:
        out += [(c, t), (100, t + CLIP_S)]
        t += CLIP_S + REST_S
    return out


def _write_edf(path: Path, markers: list[tuple[int, float]], sfreq: float, dur: float) -> None:
    import mne

    names = ["FP1", "FZ", "OZ", "HEO"]
    n = int(dur * sfreq)
    rng = np.random.default_rng(0)
    t = np.arange(n) / sfreq
    data = 10e-6 * rng.standard_normal((len(names), n)) + 20e-6 * np.sin(2 * np.pi * 10 * t)
    info = mne.create_info(names, sfreq, ["eeg", "eeg", "eeg", "eog"])
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_annotations(
        mne.Annotations(
            [tt - EEG_START for _, tt in markers],
            [0.0] * len(markers),
            [str(c) for c, _ in markers],
        )
    )
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")


def _write_mat(
    path: Path,
    markers: list[tuple[int, float]],
    dur: float,
    nan_channel: str | None,
    isi_ms: float = 1.0,
    relabel: dict[str, str | None] | None = None,
) -> None:
    from scipy.io import savemat

    sfreq = 1000.0
    n = int(dur * sfreq)
    t = np.arange(n) / sfreq
    ecg = np.sin(2 * np.pi * 1.2 * t) ** 15
    eda = 2.0 + 0.1 * t / dur
    code = np.zeros(n, dtype=int)
    for c, tt in markers:
        k = int(round((tt - PHYSIO_START) * (1 + PHYSIO_PPM * 1e-6) * sfreq))
        code[k : k + 20] = c
    cols = [ecg, eda] + [((code >> i) & 1) * 5.0 for i in range(8)]
    labels = ["ECG, X, RSPEC-R", "EDA, X, PPGED-R"] + [f"Digital (STP Input {i})" for i in range(8)]
    units = ["mV", "microsiemens"] + ["Volts"] * 8
    data = np.column_stack(cols)
    if nan_channel is not None:
        data[n // 2, labels.index(nan_channel)] = np.nan
    for old, new in (relabel or {}).items():  # a renamed (new) or left-out (None) channel
        j = [lab.split(",")[0] for lab in labels].index(old)
        if new is None:
            data = np.delete(data, j, axis=1)
            del labels[j], units[j]
        else:
            labels[j] = labels[j].replace(old, new, 1)
    width = max(map(len, labels))
    savemat(
        path,
        {
            "data": data,
            "labels": np.array([lab.ljust(width) for lab in labels]),
            "units": np.array(units),
            "isi": isi_ms,
            "isi_units": "ms",
            "start_sample": 0,
        },
    )


def _frame_times() -> list[tuple[int, float]]:
    """(marker, true time) of every video frame: the camera records during clips only."""
    out = []
    for c, tt in marker_times():
        if c == 100:
            continue
        k0 = int(np.ceil((tt - VIDEO_START) * FPS))  # first frame after the clip starts
        for k in range(k0, int((tt + CLIP_S - VIDEO_START) * FPS)):
            out.append((c, k / FPS + VIDEO_START))
    return out


def build_raw(
    root: Path,
    *,
    nan_channel: str | None = None,
    drop_physio_marker: int | None = None,
    truncate_frame: int | None = None,
    bad_row: bool = False,
    coding: bool = True,
    drop_frame: int | None = None,
    duplicate_frame: int | None = None,
    shift_time_s: float = 0.0,
    ext: str = "jpg",
    extra_markers: tuple[tuple[int, float], ...] = (),
    noise_frames: tuple[int, ...] = (),
    physio_isi_ms: float = 1.0,
    physio_relabel: dict[str, str | None] | None = None,
    subject_in_coding: str = "S01",
    repeat_row: bool = False,
) -> dict[str, Any]:
    """Write a one-subject raw MMME folder; return the ground truth."""
    import cv2

    ses = root / "S01"
    for d in ("video", "eeg", "physio"):
        (ses / d).mkdir(parents=True, exist_ok=True)
    markers = sorted(marker_times() + list(extra_markers), key=lambda m: m[1])
    dur = LEAD_S + len(CLIPS) * (CLIP_S + REST_S) + 1.0
    _write_edf(ses / "eeg" / "S01.edf", markers, 250.0, dur - EEG_START)
    pm = [m for k, m in enumerate(markers) if k != drop_physio_marker]
    _write_mat(
        ses / "physio" / "S01.mat",
        pm,
        dur - PHYSIO_START,
        nan_channel,
        isi_ms=physio_isi_ms,
        relabel=physio_relabel,
    )
    frames = []
    img = np.full((24, 24, 3), 128, np.uint8)
    for i, (marker, tt) in enumerate(_frame_times()):
        # a noise code (77) on the trigger line during this frame shows in its name only
        name_marker = 77 if i in noise_frames else marker
        dev = (tt - VIDEO_START) * (1 + VIDEO_PPM * 1e-6)
        wall = WALL0 + dt.timedelta(milliseconds=int(round(dev * 1000)))
        code = i % 1000
        stamp = f"{wall:%H-%M-%S}-{wall.microsecond // 1000:03d}-{code}"
        name = f"{wall:%Y-%m-%d-%H-%M-%S}-{wall.microsecond // 1000:03d}-{code}-{name_marker}.{ext}"
        path = ses / "video" / name
        cv2.imwrite(str(path), img)
        frames.append({"marker": marker, "true_s": tt, "stamp": stamp, "path": path})
    if drop_frame is not None:
        frames[drop_frame]["path"].unlink()
    if duplicate_frame is not None:
        p = frames[duplicate_frame]["path"]
        (p.parent / "dup").mkdir(exist_ok=True)
        (p.parent / "dup" / p.name).write_bytes(p.read_bytes())
    if truncate_frame is not None:
        p = frames[truncate_frame]["path"]
        p.write_bytes(p.read_bytes()[:-40])
    fr = pd.DataFrame(frames)
    fr["frame"] = fr.groupby("marker").cumcount()
    events = []
    if coding:
        rows = []
        for marker, (on, ap, off) in ((112, (20, 24, 35)), (125, (50, 55, 60))):
            f = fr[fr["marker"] == marker].reset_index(drop=True)
            t0 = f["true_s"].iloc[0]
            trel = [f["true_s"].iloc[k] - t0 for k in (on, ap, off)]
            if bad_row:
                trel[0], trel[2] = trel[2], trel[0]
            trel[1] += shift_time_s
            rows.append(
                {
                    "Subject": subject_in_coding,
                    "Filename": f"disgust_1_{marker}_S01_20230721.avi",
                    "Marker": marker,
                    "OnsetTime": round(trel[0], 2),
                    "ApexTime": round(trel[1], 2),
                    "OffsetTime": round(trel[2], 2),
                    "OnsetFrame": f["stamp"].iloc[on],
                    "ApexFrame": f["stamp"].iloc[ap],
                    "OffsetFrame": f["stamp"].iloc[off],
                    "Action Units": "AU4, AU7" if marker == 112 else "L10",
                    "Estimated Emotion": "disgust" if marker == 112 else "angry",
                    "Macro/Micro": "Micro" if marker == 112 else "Macro",
                    "Date": "2024年06月30日-14时31分",
                    "dif": ap - on,
                }
            )
            events.append(
                {
                    "marker": marker,
                    "frames": (on, ap, off),
                    "true_s": [f["true_s"].iloc[k] for k in (on, ap, off)],
                }
            )
        if repeat_row:  # the first row again, as the last
            rows.append(dict(rows[0]))
        pd.DataFrame(rows).to_excel(root / "coding_file.xlsx", index=False)
    return {"root": root, "frames": fr, "events": events, "markers": markers}
