"""``mmme video`` and ``mmme faces`` end to end, the cache and its resumability."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store

MOTION_COLUMNS = ["frame", "brow_left", "brow_right", "eye_left", "eye_right", "nose",
                  "mouth_left", "mouth_right", "chin"]


@pytest.fixture(scope="module")
def lost_avi(lost_video, tmp_path_factory):
    frames, face = lost_video
    path = tmp_path_factory.mktemp("video") / "clip.avi"
    h, w = frames[0].shape[:2]
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (w, h))
    assert wr.isOpened()
    for f in frames:
        wr.write(f)
    wr.release()
    return path, face


def test_video_command_writes_all_outputs(lost_avi, tmp_path):
    path, face = lost_avi
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["video", str(path), "--out", str(out), "--flow", "dis"])
    assert r.exit_code == 0, r.output
    frames = pd.read_csv(out / "frames.csv")
    assert list(frames.columns[:3]) == ["frame", "time_s", "face"]
    assert frames["time_s"].iloc[30] == pytest.approx(1.0)
    assert np.array_equal(frames["face"].to_numpy(), face.astype(int))
    assert frames.loc[~face, "x30"].isna().all() and frames.loc[face, "x30"].notna().all()
    motion_text = (out / "motion.csv").read_text().splitlines()
    assert motion_text[0] == ",".join(MOTION_COLUMNS)
    assert motion_text[1 + 25] == "25" + "," * 8  # empty where the face is lost
    motion = pd.read_csv(out / "motion.csv")
    assert motion.loc[face, MOTION_COLUMNS[1:]].notna().all().all()
    pulse = pd.read_csv(out / "pulse.csv")
    assert list(pulse.columns) == ["time_s", "rPPG"] and len(pulse) == len(face)
    png = (out / "timeline.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["lost_frames"] == np.flatnonzero(~face).tolist()
    assert summary["n_segments"] == 3


def test_video_command_names_a_bad_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    r = CliRunner().invoke(app, ["video", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert "broken.mp4" in r.output
    r = CliRunner().invoke(app, ["video", str(tmp_path / "none.mp4"), "--out", str(tmp_path)])
    assert r.exit_code == 2 and "none.mp4" in r.output


def _tiny_store(path, frames_by_trial, fps=30.0):
    from mmme.data.store import StoreWriter
    from mmme.data.sync import ClockMap

    root = path.parent / "frames"
    rows, trials = [], []
    t0 = 0.0
    for trial, frames in frames_by_trial.items():
        for i, f in enumerate(frames):
            rel = f"{trial}/{i:04d}.png"
            (root / trial).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / rel), f)
            rows.append({"trial": trial, "frame": i, "device_time_s": t0 + i / fps,
                         "time_s": t0 + i / fps, "stamp": "", "path": rel})
        trials.append({"subject": "S01", "session": "1", "trial": trial, "marker": int(trial),
                       "category": "1", "start_s": t0, "stop_s": t0 + len(frames) / fps,
                       "n_frames": len(frames), "video_start_s": t0})
        t0 += len(frames) / fps + 5
    markers = pd.DataFrame({"device": pd.Series([], dtype=str), "code": pd.Series([], dtype=int),
                            "device_time_s": pd.Series([], dtype=float),
                            "time_s": pd.Series([], dtype=float)})
    with StoreWriter(path, "synthetic") as w:
        w.add_session("S01", "1", clocks={"video": ClockMap(0.0)}, reference="video",
                      markers=markers, streams={}, frames=pd.DataFrame(rows),
                      video={"frames_root": str(root), "fps": fps})
        w.add_trials(trials)


def test_faces_command_caches_every_trial(lost_video, brow_trial, tmp_path):
    frames, face = lost_video
    store = tmp_path / "store"
    _tiny_store(store, {"101": frames, "102": brow_trial["frames"][:20]})
    args = ["faces", str(store), "--flow", "dis", "-j", "1"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    index = pd.read_parquet(store / "derived" / "face" / "index.parquet")
    assert list(index["trial"]) == ["101", "102"] and not index["cached"].any()
    assert list(index["n_lost"]) == [int((~face).sum()), 0]
    entry = Store(store).derived("face").get(index["key"].iloc[0])
    arrays, meta = entry.arrays, entry.meta
    assert meta["lost_frames"] == np.flatnonzero(~face).tolist()
    assert np.isnan(arrays["motion"][~face]).all()
    pulse = pd.read_parquet(store / "derived" / "face" / f"{index['key'].iloc[0]}.rppg.parquet")
    assert list(pulse.columns) == ["time_s", "rPPG"] and len(pulse) == len(frames)
    # a second run resumes from the cache; other parameters compute new entries
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert pd.read_parquet(store / "derived" / "face" / "index.parquet")["cached"].all()
    r = CliRunner().invoke(app, ["faces", str(store), "--flow", "farneback", "-j", "1"])
    again = pd.read_parquet(store / "derived" / "face" / "index.parquet")
    assert not again["cached"].any() and set(again["key"]).isdisjoint(index["key"])
