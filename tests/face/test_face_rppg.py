"""rPPG (POS, CHROM) against the known pulse of synthetic skin colour and synthetic video."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mmme.errors import InputError
from mmme.face.pipeline import analyze_frames
from mmme.face.rppg import rppg, rppg_chrom, rppg_heart_rate, rppg_pos
from mmme.synth.face import render_trial

FPS = 30.0


def _ppg(hr_bpm: float, n: int, fs: float = FPS) -> np.ndarray:
    t = np.arange(n) / fs
    f = hr_bpm / 60.0
    # a pulse wave with a dicrotic harmonic and slowly varying rate (+-2 bpm)
    phase = 2 * np.pi * (f * t + (2 / 60) / 0.1 * np.sin(2 * np.pi * 0.1 * t) / (2 * np.pi))
    return np.sin(phase) + 0.35 * np.sin(2 * phase + 0.8)


@pytest.fixture(scope="module")
def pulse_video():
    hr = 78.0
    n = int(10 * FPS)
    r = render_trial([], n_frames=n, fps=FPS, size=(160, 160), ppg=_ppg(hr, n), seed=7)
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in r.frames]
    res = analyze_frames(frames, FPS, flow="dis")
    return hr, res


@pytest.mark.parametrize("method", ["pos", "chrom"])
def test_rppg_on_synthetic_video_within_3_bpm(pulse_video, method):
    hr, res = pulse_video
    assert res.face.all()
    df = rppg(res.skin_rgb, FPS, method)
    assert list(df.columns) == ["time_s", "rPPG"] and len(df) == res.n_frames
    assert abs(df.attrs["heart_rate_bpm"] - hr) < 3.0


@pytest.mark.parametrize("hr", [55.0, 96.0, 130.0])
@pytest.mark.parametrize("fn", [rppg_pos, rppg_chrom])
def test_rppg_on_skin_colour_traces(hr, fn):
    rng = np.random.default_rng(int(hr))
    n = int(12 * FPS)
    t = np.arange(n) / FPS
    p = _ppg(hr, n)
    base = np.array([180.0, 120.0, 100.0])
    # pulsatile colour change along the skin's blood-volume direction, plus a common
    # illumination drift (which both methods must cancel) and sensor noise
    pbv = np.array([0.33, 0.77, 0.53]) * 0.004
    illum = 1 + 0.05 * np.sin(2 * np.pi * 0.15 * t)
    rgb = base * illum[:, None] * (1 + p[:, None] * pbv) + rng.normal(0, 0.08, (n, 3))
    pulse = fn(rgb, FPS)
    assert abs(rppg_heart_rate(pulse, FPS) - hr) < 3.0


def test_lost_frames_are_bridged_and_reported_missing():
    n = int(10 * FPS)
    p = _ppg(70, n)
    rgb = np.array([150.0, 110.0, 90.0]) * (1 + 0.003 * p[:, None] * [0.33, 0.77, 0.53])
    rgb[100:115] = np.nan
    df = rppg(rgb, FPS, "pos")
    assert df["rPPG"].iloc[100:115].isna().all() and df["rPPG"].drop(range(100, 115)).notna().all()
    assert abs(df.attrs["heart_rate_bpm"] - 70) < 3.0


def test_rppg_errors():
    with pytest.raises(InputError, match="RGB"):
        rppg_pos(np.ones((100, 2)), FPS)
    with pytest.raises(InputError, match="too low"):
        rppg_pos(np.ones((100, 3)), 5.0)
    with pytest.raises(InputError, match="no frame has a face"):
        rppg_pos(np.full((100, 3), np.nan), FPS)
    with pytest.raises(InputError, match="unknown rPPG method"):
        rppg(np.ones((100, 3)), FPS, "green")
    with pytest.raises(InputError, match="fewer than one"):
        rppg_chrom(np.ones((10, 3)), FPS)
