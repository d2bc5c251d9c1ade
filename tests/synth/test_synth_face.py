"""The synthetic face: AU motion lands in the right region with the planted amplitude."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mmme.errors import InputError
from mmme.synth.face import (
    Distractors,
    FaceEvent,
    au_region,
    expression_profile,
    face_model,
    render_trial,
)

CLEAN = Distractors(0.0, 0.0, 0.0, (0.0, 0.0, 0.0))


def _gray(f: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize(
    ("aus", "amp"),
    [("AU4", 1.5), ("AU12", 1.5), ("AU1+AU2", 1.0), ("AU9", 2.0), ("AU15", 1.5), ("AU7", 4.0),
     ("AU6", 2.0), ("AU25", 3.0), ("AU17", 2.0)],
)
def test_apex_motion_in_region_with_planted_amplitude(aus: str, amp: float) -> None:
    model = face_model((256, 256))
    ev = FaceEvent(aus, onset_s=0.10, apex_s=0.25, offset_s=0.40, amplitude_px=amp)
    r = render_trial([ev], n_frames=45, fps=100, distractors=CLEAN)
    g0, g1 = _gray(r.frames[10]), _gray(r.frames[25])
    flow = cv2.calcOpticalFlowFarneback(g0, g1, None, 0.5, 3, 9, 3, 5, 1.1, 0)
    mag = np.hypot(flow[..., 0], flow[..., 1])
    diff = np.abs(g1.astype(float) - g0)
    changed = cv2.dilate((diff > 2).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    measured = np.percentile(mag[changed], 99)
    assert 0.7 * amp < measured < 1.3 * amp
    # where the image changed: inside the AU's landmark region
    w = diff**2
    yy, xx = np.mgrid[: w.shape[0], : w.shape[1]]
    cx, cy = (w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()
    x0, y0, x1, y1 = model.region_box(au_region(aus.split("+")[0]), margin=0.3)
    assert x0 < cx < x1 and y0 < cy < y1
    inside = w[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].sum() / w.sum()
    assert inside > 0.6
    # nothing moves before the onset frame or after the offset frame
    assert np.array_equal(r.frames[0], r.frames[10])
    assert np.array_equal(r.frames[0], r.frames[40])


def test_unilateral_au_moves_one_side() -> None:
    model = face_model((256, 256))
    mid = int(model.landmarks[27:31, 0].mean())
    r = render_trial([FaceEvent("R-AU12", 0.1, 0.2, 0.3, 2.0)], n_frames=25, fps=100,
                     distractors=CLEAN)
    d = np.abs(_gray(r.frames[20]).astype(float) - _gray(r.frames[0]))
    # the subject's right is the image's left
    assert d[:, :mid].sum() > 20 * d[:, mid:].sum()


def test_truth_profile_and_frames_agree() -> None:
    ev = FaceEvent("AU4+AU7", 0.30, 0.45, 0.65, 1.5)
    r = render_trial([ev], n_frames=100, fps=100)
    t = r.truth
    assert len(t) == 100 and r.frames.shape == (100, 256, 256, 3)
    assert t.loc[30, "intensity"] == 0 and t.loc[65, "intensity"] == 0
    assert int(t["intensity"].idxmax()) == 45 and t.loc[45, "intensity"] == pytest.approx(1)
    assert t.loc[45, "displacement_px"] == pytest.approx(1.5, rel=1e-3)
    assert (t["event"] == 0).sum() == 34  # frames 31..64
    prof = expression_profile(np.array([0.3, 0.375, 0.45, 0.55, 0.65]), 0.3, 0.45, 0.65)
    np.testing.assert_allclose(prof, [0, 0.5, 1, 0.5, 0], atol=1e-12)


def test_blink_closes_the_eyes_only() -> None:
    model = face_model((256, 256))
    r = render_trial([], n_frames=40, fps=100, blinks=[(0.1, 0.24)], distractors=CLEAN)
    assert r.truth["blink"].max() == pytest.approx(1.0, abs=0.02)
    peak = int(r.truth["blink"].idxmax())
    d = np.abs(_gray(r.frames[peak]).astype(float) - _gray(r.frames[0]))
    x0, y0, x1, y1 = model.region_box("eyes", margin=0.2)
    eye = d[int(y0) : int(y1), int(x0) : int(x1)].sum()
    assert eye > 0.95 * d.sum() and d.max() > 20


def test_skin_colour_carries_the_pulse() -> None:
    fps, n, f_hr = 50.0, 400, 1.25  # 75 bpm over 8 s with sensor noise and drifts
    t = np.arange(n) / fps
    ppg = np.sin(2 * np.pi * f_hr * t)
    r = render_trial([], times=t, ppg=ppg, size=(128, 128), seed=1)
    skin = face_model((128, 128)).skin > 0.9
    green = r.frames[:, skin, 1].astype(float).mean(1)
    green = green - np.convolve(green, np.ones(25) / 25, mode="same")  # remove slow drift
    spec = np.abs(np.fft.rfft(green[25:-25] * np.hanning(n - 50)))
    freqs = np.fft.rfftfreq(n - 50, 1 / fps)
    band = (freqs > 0.7) & (freqs < 3.0)
    assert freqs[band][np.argmax(spec[band])] == pytest.approx(f_hr, abs=0.15)


def test_bad_events_are_rejected() -> None:
    with pytest.raises(InputError, match="onset < apex < offset"):
        FaceEvent("AU4", 0.5, 0.4, 0.6, 1.0)
    with pytest.raises(InputError, match="AU99"):
        face_model((256, 256)).au_field("AU99")
    with pytest.raises(InputError, match="increase"):
        render_trial([], times=np.array([0.0, 0.02, 0.01]))
