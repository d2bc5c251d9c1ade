"""Shared face test data: the astronaut photo and synthetic trials with planted ground truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mmme.synth.face import FaceEvent, render_trial

SIZE = (160, 160)


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def _bgr(frames: np.ndarray) -> list[np.ndarray]:
    return [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]


@pytest.fixture(scope="session")
def brow_trial() -> dict:
    """AU1+AU2 (brows raised) at 100 fps: onset frame 15, apex 30, offset 50; default distractors
    (head drift, illumination drift, sensor noise)."""
    ev = FaceEvent("AU1+AU2", onset_s=0.15, apex_s=0.30, offset_s=0.50, amplitude_px=1.5)
    r = render_trial([ev], n_frames=60, fps=100, size=SIZE, seed=1)
    return {"frames": _bgr(r.frames), "truth": r.truth, "apex": 30, "fps": 100.0}


@pytest.fixture(scope="session")
def smile_trial() -> dict:
    """AU12 (lip-corner puller) at 100 fps: apex frame 25."""
    ev = FaceEvent("AU12", onset_s=0.10, apex_s=0.25, offset_s=0.45, amplitude_px=1.5)
    r = render_trial([ev], n_frames=50, fps=100, size=SIZE, seed=2)
    return {"frames": _bgr(r.frames), "truth": r.truth, "apex": 25, "fps": 100.0}


@pytest.fixture(scope="session")
def brow_analysis(brow_trial: dict):
    from mmme.face.pipeline import analyze_frames

    return analyze_frames(brow_trial["frames"], brow_trial["fps"], flow="tvl1_fast",
                          keep_crops=True)


@pytest.fixture(scope="session")
def lost_video() -> tuple[list[np.ndarray], np.ndarray]:
    """Synthetic face video where the face leaves the frame (frames 20-29) and is covered by an
    occluder (frames 40-47). Returns BGR frames and the true face flag per frame."""
    ev = FaceEvent("AU4", onset_s=0.05, apex_s=0.15, offset_s=0.3, amplitude_px=1.5)
    n = 60
    r = render_trial([ev], n_frames=n, fps=30, size=SIZE, seed=3)
    frames = _bgr(r.frames)
    face = np.ones(n, bool)
    for i in range(20, 30):  # the head moves out of the picture: only background remains
        frames[i] = np.roll(frames[i], 150, axis=1)
        frames[i][:, :150] = 40
        face[i] = False
    for i in range(40, 48):  # a hand / object in front of the whole face
        frames[i] = frames[i].copy()
        frames[i][15:150, 15:145] = (90, 110, 120)
        face[i] = False
    return frames, face
