"""Synthetic face video: a real photo warped by AU-specific displacement fields.

The face is ``skimage.data.astronaut()``; its 68 landmarks are found once with dlib's frontal
detector and 68-point shape predictor (shipped by ``face_recognition_models``, no download). Each
action unit is a smooth displacement field: a sum of Gaussian bumps centred on the landmarks the
AU moves, each pushing in the AU's direction (up, down, towards or away from the face midline).
An expression event scales the sum of its AUs' fields by an onset -> apex -> offset profile.
Distractors are added on top: blinks, slow head drift, illumination drift, sensor noise, and a
faint skin-colour pulse that follows the simulated PPG (so a remote pulse can be recovered).

The public entry points are :func:`render_trial` (frames as uint8 arrays plus per-frame truth),
:func:`iter_trial_frames` (the same, one frame at a time, for long trials) and
:func:`face_model` (the landmarks, AU fields and regions of a frame size).

Amplitudes are in pixels *at the default 256 x 256 frame* and scale with the face size for other
frame sizes (see :attr:`FaceModel.px_scale`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import pandas as pd

from mmme.data.annotations import ActionUnit, format_aus, parse_aus
from mmme.errors import InputError

#: Landmark indices (dlib 68-point scheme) of the facial regions.
REGIONS: dict[str, tuple[int, ...]] = {
    "brows": tuple(range(17, 27)),
    "eyes": tuple(range(36, 48)),
    "nose": tuple(range(27, 36)),
    "mouth": tuple(range(48, 68)),
    "chin": tuple(range(5, 12)),
}

#: Synthetic anchor points: weighted means of landmarks (cheeks lie below the outer eye corner).
_SYNTH_ANCHORS: dict[str, dict[int, float]] = {
    "cheek_r": {41: 0.35, 40: 0.15, 1: 0.2, 31: 0.1, 48: 0.2},
    "cheek_l": {46: 0.35, 47: 0.15, 15: 0.2, 35: 0.1, 54: 0.2},
}

# AU -> (region, sigma in inter-ocular distances, [(anchors, (outward, down), weight)]).
# "outward" is away from the face midline, "down" is +y in the image.
_Part = tuple[tuple[int | str, ...], tuple[float, float], float]
_AU_SPECS: dict[int, tuple[str, float, list[_Part]]] = {
    1: ("brows", 0.16, [((20, 21, 22, 23), (0.0, -1.0), 1.0), ((19, 24), (0.0, -1.0), 0.5)]),
    2: ("brows", 0.16, [((17, 18, 25, 26), (0.0, -1.0), 1.0), ((19, 24), (0.0, -1.0), 0.5)]),
    4: ("brows", 0.16, [((20, 21, 22, 23), (-0.55, 0.85), 1.0), ((19, 24), (-0.4, 0.9), 0.6)]),
    5: ("eyes", 0.09, [((37, 38, 43, 44), (0.0, -1.0), 1.0)]),
    6: ("eyes", 0.14, [(("cheek_r", "cheek_l"), (0.15, -1.0), 1.0),
                       ((40, 41, 46, 47), (0.0, -1.0), 0.6)]),
    7: ("eyes", 0.09, [((40, 41, 46, 47), (0.0, -1.0), 1.0), ((37, 38, 43, 44), (0.0, 1.0), 0.4)]),
    9: ("nose", 0.12, [((31, 35), (0.0, -1.0), 1.0), ((32, 33, 34), (0.0, -1.0), 0.6),
                       ((28, 29), (0.0, -1.0), 0.4)]),
    10: ("mouth", 0.12, [((50, 51, 52), (0.0, -1.0), 1.0), ((49, 53), (0.0, -1.0), 0.7)]),
    12: ("mouth", 0.15, [((48, 54), (0.6, -0.8), 1.0)]),
    14: ("mouth", 0.13, [((48, 54), (-0.8, -0.2), 1.0)]),
    15: ("mouth", 0.15, [((48, 54), (0.15, 1.0), 1.0)]),
    17: ("chin", 0.16, [((7, 8, 9), (0.0, -1.0), 1.0), ((56, 57, 58), (0.0, -1.0), 0.7)]),
    20: ("mouth", 0.15, [((48, 54), (1.0, 0.2), 1.0)]),
    23: ("mouth", 0.10, [((48, 54), (-1.0, 0.0), 0.8), ((50, 51, 52), (0.0, 1.0), 0.5),
                         ((56, 57, 58), (0.0, -1.0), 0.5)]),
    25: ("mouth", 0.10, [((56, 57, 58, 65, 66, 67), (0.0, 1.0), 1.0),
                         ((50, 51, 52), (0.0, -1.0), 0.3)]),
    26: ("chin", 0.18, [((6, 7, 8, 9, 10), (0.0, 1.0), 1.0), ((56, 57, 58), (0.0, 1.0), 0.8)]),
}

#: AUs the face model can render.
SUPPORTED_AUS: tuple[int, ...] = tuple(sorted(_AU_SPECS))

#: Default frame size (width, height) the amplitudes refer to.
REFERENCE_SIZE = (256, 256)


def au_region(au: int | str | ActionUnit) -> str:
    """The facial region (``"brows"``, ``"eyes"``, ``"nose"``, ``"mouth"``, ``"chin"``) of an AU."""
    num = au.number if isinstance(au, ActionUnit) else parse_aus(str(au))[0].number
    if num not in _AU_SPECS:
        raise InputError(f"AU{num} is not rendered by the synthetic face (have {SUPPORTED_AUS})")
    return _AU_SPECS[num][0]


@functools.lru_cache(maxsize=1)
def _source_face() -> tuple[np.ndarray, np.ndarray]:
    """The astronaut photo (RGB uint8) and its 68 dlib landmarks (float, x/y), found once."""
    from skimage import data

    from mmme.face.detect import dlib_models

    img = data.astronaut()
    detector, predictor = dlib_models()
    rects = detector(img, 1)
    if not rects:  # pragma: no cover - the shipped photo always has a face
        raise InputError("dlib found no face in skimage.data.astronaut()")
    rect = max(rects, key=lambda r: r.width() * r.height())
    shape = predictor(img, rect)
    pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    return img, pts


@dataclass(frozen=True)
class FaceModel:
    """The neutral face at one frame size with its landmarks and per-AU displacement fields.

    Attributes
    ----------
    image : np.ndarray
        Neutral face, float32 RGB (H, W, 3) in 0..255.
    landmarks : np.ndarray
        The 68 dlib landmarks in frame pixels, (68, 2) as x, y.
    skin : np.ndarray
        Skin weight map (H, W) in 0..1 (face hull without eyes and mouth, blurred).
    px_scale : float
        Frame pixels per reference pixel (face size relative to the 256 x 256 default).
    iod : float
        Inter-ocular distance in frame pixels.
    """

    image: np.ndarray
    landmarks: np.ndarray
    skin: np.ndarray
    px_scale: float
    iod: float
    _fields: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames."""
        return int(self.image.shape[1]), int(self.image.shape[0])

    def region_box(self, region: str, margin: float = 0.15) -> tuple[float, float, float, float]:
        """Bounding box ``(x0, y0, x1, y1)`` of a region's landmarks, grown by ``margin`` x IOD."""
        pts = self.landmarks[list(REGIONS[region])]
        if region == "eyes":  # AU6 moves the cheeks just below the eyes
            pts = np.vstack([pts, self._anchor("cheek_r"), self._anchor("cheek_l")])
        m = margin * self.iod
        x0, y0 = pts.min(0) - m
        x1, y1 = pts.max(0) + m
        return float(x0), float(y0), float(x1), float(y1)

    def _anchor(self, a: int | str) -> np.ndarray:
        if isinstance(a, str):
            w = _SYNTH_ANCHORS[a]
            return sum(self.landmarks[i] * v for i, v in w.items()) / sum(w.values())
        return self.landmarks[a]

    def au_field(self, au: ActionUnit | str) -> np.ndarray:
        """Unit displacement field (H, W, 2) float32 of one AU: its largest vector has norm 1.

        Laterality is honoured: ``R-AU12`` moves only the subject's right side (image left).
        """
        a = au if isinstance(au, ActionUnit) else parse_aus(str(au))[0]
        key = f"{a.side or ''}{a.number}"
        if key in self._fields:
            return self._fields[key]
        if a.number not in _AU_SPECS:
            raise InputError(f"AU{a.number} is not rendered by the synthetic face")
        _, sigma_iod, parts = _AU_SPECS[a.number]
        w, h = self.size
        mid = float(self.landmarks[27:31, 0].mean())
        sig = sigma_iod * self.iod
        # Fields are computed on a window around the anchors, zero elsewhere.
        out = np.zeros((h, w, 2), np.float32)
        for anchors, (d_out, d_down), weight in parts:
            for anc in anchors:
                p = self._anchor(anc)
                side = -1.0 if p[0] < mid else 1.0  # image left = subject's right
                if a.side == "R" and side > 0 or a.side == "L" and side < 0:
                    continue
                x0, x1 = max(0, int(p[0] - 4 * sig)), min(w, int(p[0] + 4 * sig) + 1)
                y0, y1 = max(0, int(p[1] - 4 * sig)), min(h, int(p[1] + 4 * sig) + 1)
                if x1 <= x0 or y1 <= y0:
                    continue
                xx = np.arange(x0, x1, dtype=np.float32) - p[0]
                yy = np.arange(y0, y1, dtype=np.float32) - p[1]
                g = np.exp(-(yy[:, None] ** 2 + xx[None, :] ** 2) / (2 * sig**2)) * weight
                out[y0:y1, x0:x1, 0] += g * d_out * side
                out[y0:y1, x0:x1, 1] += g * d_down
        peak = float(np.sqrt((out**2).sum(-1)).max())
        if peak > 0:
            out /= peak
        out.setflags(write=False)
        self._fields[key] = out
        return out

    def expression_field(self, aus: str | Sequence[ActionUnit], amplitude_px: float) -> np.ndarray:
        """Displacement field (H, W, 2) of an expression at its apex.

        The AUs' unit fields are summed and scaled so that the largest displacement equals
        ``amplitude_px`` reference pixels (times :attr:`px_scale` in frame pixels).
        """
        units = parse_aus(aus) if isinstance(aus, str) else tuple(aus)
        if not units:
            raise InputError(f"expression without action units: {aus!r}")
        total = np.zeros_like(self.au_field(units[0]))
        for u in units:
            total += self.au_field(u)
        peak = float(np.sqrt((total**2).sum(-1)).max())
        return total * np.float32(amplitude_px * self.px_scale / peak)

    def blink_field(self) -> np.ndarray:
        """Displacement (H, W, 2) that closes both upper lids onto the lower lids."""
        if "blink" in self._fields:
            return self._fields["blink"]
        w, h = self.size
        out = np.zeros((h, w, 2), np.float32)
        sig = 0.07 * self.iod
        gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
        for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
            p = self.landmarks[upper]
            drop = float(self.landmarks[lower, 1] - p[1]) * 0.9
            g = np.exp(-((gx - p[0]) ** 2 + (gy - p[1]) ** 2) / (2 * sig**2))
            out[..., 1] = np.maximum(out[..., 1], g * drop)
        out.setflags(write=False)
        self._fields["blink"] = out
        return out


@functools.lru_cache(maxsize=4)
def face_model(size: tuple[int, int] = REFERENCE_SIZE) -> FaceModel:
    """The neutral face at ``size`` = (width, height) pixels, cached per size.

    The photo is cropped around the face to the frame's aspect ratio (the face spans about 60 %
    of the frame height) and resized; landmarks are mapped with the same transform.
    """
    w, h = int(size[0]), int(size[1])
    if w < 64 or h < 64:
        raise InputError(f"frame size {w}x{h} too small (need at least 64x64)")
    img, pts = _source_face()
    cx, cy = pts[:, 0].mean(), pts[:, 1].mean() - 4.0
    face_h = pts[:, 1].max() - pts[:, 1].min()
    ch = face_h / 0.6
    cw = ch * w / h
    if cw > img.shape[1]:
        cw = float(img.shape[1])
        ch = cw * h / w
    x0 = float(np.clip(cx - cw / 2, 0, img.shape[1] - cw))
    y0 = float(np.clip(cy - ch / 2, 0, img.shape[0] - ch))
    sx, sy = w / cw, h / ch
    affine = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
    frame = cv2.warpAffine(img, affine, (w, h), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    lms = pts * [sx, sy] - [x0 * sx, y0 * sy]
    iod = float(np.linalg.norm(lms[42:48].mean(0) - lms[36:42].mean(0)))
    ref = _reference_iod()
    skin = np.zeros((h, w), np.float32)
    hull = cv2.convexHull(np.round(lms[list(range(0, 27))]).astype(np.int32))
    cv2.fillConvexPoly(skin, hull, 1.0)
    for idx in (range(36, 42), range(42, 48), range(48, 60), range(17, 27)):
        cv2.fillConvexPoly(skin, cv2.convexHull(np.round(lms[list(idx)]).astype(np.int32)), 0.0)
    k = max(3, int(0.1 * iod) | 1)
    skin = cv2.GaussianBlur(skin, (k, k), 0)
    frame32 = frame.astype(np.float32)
    frame32.setflags(write=False)
    return FaceModel(frame32, lms, skin, px_scale=iod / ref if ref else 1.0, iod=iod)


@functools.lru_cache(maxsize=1)
def _reference_iod() -> float:
    # IOD of the 256 x 256 reference frame, from the same crop rule as face_model.
    _, pts = _source_face()
    face_h = pts[:, 1].max() - pts[:, 1].min()
    scale = REFERENCE_SIZE[1] / (face_h / 0.6)
    return float(np.linalg.norm(pts[42:48].mean(0) - pts[36:42].mean(0)) * scale)


@dataclass(frozen=True)
class FaceEvent:
    """One expression to render.

    Parameters
    ----------
    aus : str
        Canonical AU string, e.g. ``"AU4+AU7"`` or ``"R-AU12+R-AU14"``.
    onset_s, apex_s, offset_s : float
        Times on the trial's video clock (seconds from its first frame), onset < apex < offset.
    amplitude_px : float
        Largest displacement at apex, in reference pixels (256 x 256 frame).
    """

    aus: str
    onset_s: float
    apex_s: float
    offset_s: float
    amplitude_px: float

    def __post_init__(self) -> None:
        if not self.onset_s < self.apex_s < self.offset_s:
            raise InputError(
                f"expression {self.aus}: need onset < apex < offset, got "
                f"{self.onset_s}, {self.apex_s}, {self.offset_s}"
            )
        if self.amplitude_px <= 0:
            raise InputError(f"expression {self.aus}: amplitude must be > 0")


def expression_profile(t: np.ndarray, onset: float, apex: float, offset: float) -> np.ndarray:
    """Intensity 0..1 of an expression at times ``t``: raised-cosine rise and fall.

    0 up to the onset, 1 at the apex, 0 again at and after the offset.
    """
    t = np.asarray(t, float)
    out = np.zeros_like(t)
    up = (t > onset) & (t <= apex)
    out[up] = 0.5 - 0.5 * np.cos(np.pi * (t[up] - onset) / (apex - onset))
    down = (t > apex) & (t < offset)
    out[down] = 0.5 + 0.5 * np.cos(np.pi * (t[down] - apex) / (offset - apex))
    return out


def blink_profile(t: np.ndarray, blinks: Sequence[tuple[float, float]]) -> np.ndarray:
    """Lid closure 0..1 at times ``t`` for blinks given as (start_s, duration_s).

    Closing takes the first third of a blink, opening the rest (lids reopen more slowly).
    """
    t = np.asarray(t, float)
    out = np.zeros_like(t)
    for start, dur in blinks:
        peak = start + dur / 3
        out = np.maximum(out, expression_profile(t, start, peak, start + dur))
    return out


def smooth_walk(n: int, rng: np.random.Generator, scale: float, smooth: int) -> np.ndarray:
    """A slow random drift of ``n`` samples with standard deviation about ``scale``."""
    if n == 0 or scale == 0:
        return np.zeros(n)
    steps = rng.standard_normal(n + 2 * smooth)
    walk = np.cumsum(steps)
    kernel = np.hanning(2 * smooth + 1)
    walk = np.convolve(walk, kernel / kernel.sum(), mode="same")[smooth : smooth + n]
    walk -= walk[0]
    sd = walk.std()
    return walk * (scale / sd) if sd > 0 else walk


@dataclass(frozen=True)
class Distractors:
    """Nuisance settings of the rendered video.

    Parameters
    ----------
    head_drift_px : float
        Standard deviation of the slow head translation (reference pixels).
    illumination : float
        Standard deviation of the slow global gain change (fraction, 0.01 = 1 %).
    noise_sigma : float
        Sensor noise standard deviation in grey levels.
    ppg_gain : tuple[float, float, float]
        Relative skin-colour modulation per unit PPG (R, G, B); green is strongest as in rPPG.
    """

    head_drift_px: float = 0.6
    illumination: float = 0.01
    noise_sigma: float = 1.5
    ppg_gain: tuple[float, float, float] = (0.0025, 0.005, 0.0015)


def iter_trial_frames(
    times: np.ndarray,
    events: Sequence[FaceEvent] = (),
    *,
    size: tuple[int, int] = REFERENCE_SIZE,
    blinks: Sequence[tuple[float, float]] = (),
    ppg: np.ndarray | None = None,
    distractors: Distractors | None = None,
    seed: int | np.random.Generator = 0,
) -> Iterator[tuple[np.ndarray, dict[str, float]]]:
    """Yield the frames of one trial with their truth, one at a time (see :func:`render_trial`)."""
    times = np.asarray(times, float)
    n = len(times)
    if n == 0:
        return
    if np.any(np.diff(times) <= 0):
        raise InputError("frame times must increase strictly")
    d = distractors or Distractors()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    model = face_model(tuple(size))
    w, h = model.size
    if ppg is None:
        ppg = np.zeros(n)
    ppg = np.asarray(ppg, float)
    if len(ppg) != n:
        raise InputError(f"ppg has {len(ppg)} values for {n} frames")
    ppg = (ppg - ppg.mean()) / (ppg.std() or 1.0)
    fps = (n - 1) / (times[-1] - times[0]) if n > 1 else 100.0
    smooth = max(2, int(fps * 1.5))
    head = np.stack([smooth_walk(n, rng, d.head_drift_px * model.px_scale, smooth)
                     for _ in range(2)], 1)
    illum = 1.0 + smooth_walk(n, rng, d.illumination, smooth)
    profiles = [expression_profile(times, e.onset_s, e.apex_s, e.offset_s) for e in events]
    fields = [model.expression_field(e.aus, e.amplitude_px) for e in events]
    blink = blink_profile(times, blinks)
    bfield = model.blink_field() if len(blinks) else None
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    skin_gain = model.skin[..., None] * np.asarray(d.ppg_gain, np.float32)
    pad = 16
    bank = rng.standard_normal((4, h + pad, w + pad, 3), dtype=np.float32) * np.float32(
        d.noise_sigma)
    # fields are zero away from the face: add them only inside their bounding boxes
    boxes = [_support(f) for f in fields]
    peaks = [float(np.sqrt((f**2).sum(-1)).max()) for f in fields]
    bbox = _support(bfield) if bfield is not None else None
    disp = np.zeros((h, w, 2), np.float32)
    for i in range(n):
        disp[:] = 0
        active, inten = -1, 0.0
        for k, (p, f, sl) in enumerate(zip(profiles, fields, boxes, strict=True)):
            if p[i] > 0:
                disp[sl] += f[sl] * np.float32(p[i])
                if p[i] > inten:
                    active, inten = k, float(p[i])
        if bfield is not None and blink[i] > 0:
            disp[bbox] += bfield[bbox] * np.float32(blink[i])
        mx = gx - disp[..., 0] - np.float32(head[i, 0])
        my = gy - disp[..., 1] - np.float32(head[i, 1])
        img = cv2.remap(model.image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        img *= np.float32(illum[i]) * (1 + np.float32(ppg[i]) * skin_gain)
        if d.noise_sigma > 0:
            b, oy, ox = rng.integers(0, len(bank)), rng.integers(0, pad), rng.integers(0, pad)
            img += bank[b, oy : oy + h, ox : ox + w]
        frame = np.clip(img + 0.5, 0, 255).astype(np.uint8)
        amp = peaks[active] * inten if active >= 0 else 0.0
        yield frame, {
            "frame": i,
            "t_s": float(times[i]),
            "event": active,
            "intensity": inten,
            "displacement_px": amp,
            "blink": float(blink[i]),
            "head_dx": float(head[i, 0]),
            "head_dy": float(head[i, 1]),
            "illumination": float(illum[i]),
            "ppg": float(ppg[i]),
        }


def _support(f: np.ndarray) -> tuple[slice, slice]:
    """Row and column slices of the non-zero part of a displacement field."""
    nz = np.abs(f).max(-1) > 0
    rows, cols = np.flatnonzero(nz.any(1)), np.flatnonzero(nz.any(0))
    if len(rows) == 0:
        return slice(0, 0), slice(0, 0)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


@dataclass(frozen=True)
class TrialRender:
    """Frames and per-frame truth of one rendered trial.

    Attributes
    ----------
    frames : np.ndarray
        uint8 RGB frames, shape (n_frames, H, W, 3).
    truth : pd.DataFrame
        One row per frame: ``frame, t_s, event`` (index into the events, -1 if none),
        ``intensity`` (0..1 profile of that event), ``displacement_px`` (largest expression
        displacement in frame pixels), ``blink`` (lid closure 0..1), ``head_dx, head_dy``
        (frame pixels), ``illumination`` (gain), ``ppg`` (standardised pulse driving skin colour).
    landmarks : np.ndarray
        The neutral face's 68 landmarks in frame pixels.
    """

    frames: np.ndarray
    truth: pd.DataFrame
    landmarks: np.ndarray


def render_trial(
    events: Sequence[FaceEvent] = (),
    *,
    times: np.ndarray | None = None,
    n_frames: int | None = None,
    fps: float = 100.0,
    size: tuple[int, int] = REFERENCE_SIZE,
    blinks: Sequence[tuple[float, float]] = (),
    ppg: np.ndarray | None = None,
    distractors: Distractors | None = None,
    seed: int | np.random.Generator = 0,
) -> TrialRender:
    """Render one trial's face video with planted expressions.

    Parameters
    ----------
    events : sequence of FaceEvent
        Expressions with times on the trial clock (seconds from the first frame).
    times : np.ndarray, optional
        Frame times in seconds (strictly increasing). Default: ``n_frames`` frames at ``fps``.
    n_frames : int, optional
        Number of frames when ``times`` is not given.
    fps : float
        Frame rate when ``times`` is not given.
    size : (int, int)
        Frame (width, height). Amplitudes scale with the face size (see :class:`FaceModel`).
    blinks : sequence of (start_s, duration_s)
        Blinks on the trial clock.
    ppg : np.ndarray, optional
        Pulse signal sampled at the frame times; it modulates skin colour faintly.
    distractors : Distractors, optional
        Head drift, illumination drift, sensor noise and PPG gain; ``Distractors(0, 0, 0)``
        gives a clean render (only expressions and blinks move pixels).
    seed : int or np.random.Generator
        Randomness of the distractors.

    Returns
    -------
    TrialRender
        ``frames`` (n, H, W, 3) uint8 RGB, ``truth`` (one row per frame) and ``landmarks``.

    Examples
    --------
    >>> ev = FaceEvent("AU4+AU7", onset_s=0.30, apex_s=0.45, offset_s=0.65, amplitude_px=1.5)
    >>> r = render_trial([ev], n_frames=100, fps=100)
    >>> r.frames.shape, int(r.truth["intensity"].idxmax())
    ((100, 256, 256, 3), 45)
    """
    if times is None:
        if n_frames is None:
            end = max([e.offset_s for e in events], default=1.0) + 0.5
            n_frames = int(np.ceil(end * fps))
        times = np.arange(int(n_frames)) / float(fps)
    rows, frames = [], []
    for frame, row in iter_trial_frames(times, events, size=size, blinks=blinks, ppg=ppg,
                                        distractors=distractors, seed=seed):
        frames.append(frame)
        rows.append(row)
    w, h = int(size[0]), int(size[1])
    arr = np.stack(frames) if frames else np.zeros((0, h, w, 3), np.uint8)
    return TrialRender(arr, pd.DataFrame(rows), face_model(tuple(size)).landmarks.copy())


def canonical_aus(aus: str) -> str:
    """Canonical AU string (``"AU4, AU7"`` -> ``"AU4+AU7"``) after checking every AU renders."""
    units = parse_aus(aus)
    for u in units:
        au_region(u)
    return format_aus(units)
