"""Generate a synthetic MMME data set in the raw layout, with exact ground truth.

``generate(out_dir, SynthConfig(...))`` writes::

    OUT/
      coding_file.xlsx               the coders' sheet (real columns)
      S01/video/<marker>/YYYY-MM-DD-HH-MM-SS-mmm-CODE-MARKER.jpg
      S01/eeg/S01.edf                64 Neuroscan channels + HEO/VEO/EKG/EMG, marker annotations
      S01/physio/S01.mat             BIOPAC "Save as MATLAB" export, 17 channels
      ground_truth.csv               one row per planted expression
      ground_truth_responses.csv     planted physiological / EEG responses (common clock)
      ground_truth_devices.json      planted clock offsets and drifts, marker times
      synth_config.json              the configuration that made it

Each subject is an independent job run through :class:`mmme.executor.Executor`; its randomness
comes from ``numpy.random.SeedSequence([seed, subject_index])``, so a data set is identical for a
given seed whatever the parallelism.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.annotations import format_aus, me_rule, parse_aus
from mmme.errors import InputError
from mmme.synth import clock as clk
from mmme.synth.eeg import EEG_CH_TYPES, EEG_CHANNELS, EMOTION_BAND_SHIFTS, simulate_eeg
from mmme.synth.events import Response
from mmme.synth.face import Distractors, FaceEvent, iter_trial_frames
from mmme.synth.physio import PhysioTruth, SubjectPhysiology, simulate_physio
from mmme.synth.writers import (
    FRAME_FORMATS,
    write_biopac_mat,
    write_coding_file,
    write_eeg,
    write_frame,
)
from mmme.utils import atomic_path, write_json

# Marker -> stimulus category (1 sad, 2 disgust, 3 happy, 4 fear, 5 nervous, 6 calm, 7 anger,
# 8 surprise), as published.
MARKER_CATEGORY: dict[int, int] = {
    101: 1, 102: 2, 103: 3, 104: 4, 105: 5, 106: 6, 107: 7, 108: 8, 109: 1, 110: 2, 111: 3,
    112: 2, 113: 4, 114: 5, 115: 6, 116: 7, 117: 8, 118: 1, 119: 2, 120: 3, 121: 4, 122: 5,
    123: 3, 124: 6, 125: 7, 126: 8, 127: 1, 128: 2, 129: 3, 130: 4, 131: 5, 132: 6, 133: 7,
    134: 4, 135: 8, 136: 1, 137: 2, 138: 3, 139: 4, 140: 5, 141: 6, 142: 7, 143: 8, 144: 5,
    145: 6, 146: 7, 147: 8, 148: 1,
}
#: Category -> the file-name spelling of the public coding sample.
CATEGORY_NAME: dict[int, str] = {1: "sad", 2: "disgust", 3: "happy", 4: "fear", 5: "tense",
                                 6: "calm", 7: "angry", 8: "surprise"}
#: Category -> the emotion mostly expressed during it (nervous clips -> contempt, calm -> none).
CATEGORY_EMOTION: dict[int, str | None] = {1: "sadness", 2: "disgust", 3: "happiness", 4: "fear",
                                           5: "contempt", 6: None, 7: "anger", 8: "surprise"}
# Clip number within its category as in the sample's file names (calm, absent there, by analogy).
_CLIP_ORDER: dict[int, tuple[int, ...]] = {
    1: (101, 148, 109, 118, 127, 136), 2: (112, 102, 110, 119, 128, 137),
    3: (123, 103, 111, 120, 129, 138), 4: (134, 104, 113, 121, 130, 139),
    5: (144, 105, 114, 122, 131, 140), 6: (145, 106, 115, 124, 132, 141),
    7: (146, 107, 116, 125, 133, 142), 8: (147, 108, 117, 126, 135, 143),
}
CLIP_NUMBER: dict[int, int] = {m: i + 1 for ms in _CLIP_ORDER.values() for i, m in enumerate(ms)}

#: mmme fine label -> the coding file's spelling.
DATASET_EMOTION: dict[str, str] = {"anger": "angry", "disgust": "disgust", "fear": "fear",
                                   "happiness": "happy", "sadness": "sad",
                                   "surprise": "surprise", "contempt": "contempt"}
EMOTIONS: tuple[str, ...] = tuple(DATASET_EMOTION)

#: EMFACS-style AU prototypes per emotion (variants; contempt is unilateral).
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "happiness": ("AU6+AU12", "AU6+AU12+AU25", "AU12"),
    "sadness": ("AU1+AU4+AU15", "AU1+AU4+AU15+AU17"),
    "surprise": ("AU1+AU2+AU5+AU26", "AU1+AU2+AU5"),
    "fear": ("AU1+AU2+AU4+AU5+AU20+AU26", "AU1+AU2+AU4+AU5+AU7+AU20"),
    "anger": ("AU4+AU5+AU7+AU23", "AU4+AU7+AU23"),
    "disgust": ("AU9+AU15+AU17", "AU10+AU17", "AU4+AU9+AU10"),
    "contempt": ("R-AU12+R-AU14", "L-AU12+L-AU14", "R-AU14"),
}
# Physiological reactivity per emotion: HR change sign/size, SCR size, breath pause and SKT drop
# probabilities, tonic HR shift over a clip of that category (bpm).
_HR_DIR = {"fear": 1.0, "anger": 0.8, "surprise": 0.7, "happiness": 0.5, "contempt": 0.3,
           "disgust": -0.5, "sadness": -0.6}
_SCR_SIZE = {"fear": 1.0, "surprise": 0.9, "anger": 0.8, "disgust": 0.6, "happiness": 0.5,
             "contempt": 0.4, "sadness": 0.3}
_PAUSE_P = {"surprise": 0.8, "fear": 0.7, "disgust": 0.3, "anger": 0.2, "sadness": 0.2,
            "happiness": 0.1, "contempt": 0.1}
_SKT_P = {"fear": 0.8, "anger": 0.6, "disgust": 0.5, "sadness": 0.5, "surprise": 0.3,
          "contempt": 0.3, "happiness": 0.1}
_TONIC_HR = {1: -2.0, 2: -1.0, 3: 1.0, 4: 3.0, 5: 1.5, 6: -1.0, 7: 2.0, 8: 2.0}
_EMG_A_AUS = {4, 9, 10}  # corrugator / levator site
_EMG_B_AUS = {6, 12, 14}  # zygomaticus site

GROUND_TRUTH_COLUMNS = ("subject", "trial", "type", "emotion", "aus", "onset_frame",
                        "apex_frame", "offset_frame", "onset_s", "apex_s", "offset_s")
RESPONSE_COLUMNS = ("subject", "trial", "event", "expression", "emotion", "kind", "signal",
                    "band", "onset_s", "peak_s", "end_s", "amplitude", "unit")


@dataclass(frozen=True)
class SynthConfig:
    """Size and realism settings of a synthetic data set.

    Parameters
    ----------
    subjects, trials_per_subject : int
        Sessions and recorded clips per session (at most 48 clips).
    fps : float
        Nominal camera frame rate (effective rate is a few % lower, frames get dropped).
    size : (int, int)
        Frame (width, height).
    trial_s, rest_s, lead_in_s : float
        Clip length, rest between clips, recording before the first clip (s).
    me_per_trial, mae_per_trial : int
        Planted micro- and macro-expressions per clip.
    coupling : float
        0..1, how reliably physiology and EEG respond to an expression.
    seed : int
        Seed of everything.
    frame_format : str
        ``"jpg"`` (small), ``"tif"`` (the real format) or ``"png"``.
    jpeg_quality : int
        JPEG quality.
    eeg_format : str
        ``"edf"`` or ``"set"`` (EEGLAB).
    sfreq : float
        EEG and peripheral sampling rate (Hz).
    max_drift_ppm : float
        Clock drifts are uniform in +-this.
    spontaneous_per_min : float
        Rate of physiological responses without an expression.
    blinks_per_min : float
        Blink rate.
    noise_markers : bool
        Add a stray marker 77 during a rest (real recordings have them; importers ignore them).
    distractors : Distractors
        Video nuisances (head drift, illumination, sensor noise, pulse colour).
    start_date : str
        Date of the first session (ISO); later subjects follow on later days.
    """

    subjects: int = 8
    trials_per_subject: int = 4
    fps: float = 100.0
    size: tuple[int, int] = (256, 256)
    trial_s: float = 12.0
    rest_s: float = 4.0
    lead_in_s: float = 5.0
    me_per_trial: int = 2
    mae_per_trial: int = 2
    coupling: float = 0.8
    seed: int = 0
    frame_format: str = "jpg"
    jpeg_quality: int = 90
    eeg_format: str = "edf"
    sfreq: float = 1000.0
    max_drift_ppm: float = 50.0
    spontaneous_per_min: float = 2.0
    blinks_per_min: float = 15.0
    noise_markers: bool = True
    distractors: Distractors = field(default_factory=Distractors)
    start_date: str = "2023-07-21"

    @classmethod
    def tiny(cls, seed: int = 0) -> SynthConfig:
        """2 subjects x 2 short clips of small frames: a few seconds to generate (for tests)."""
        return cls(subjects=2, trials_per_subject=2, fps=50.0, size=(128, 128), trial_s=4.0,
                   rest_s=2.0, lead_in_s=3.0, me_per_trial=1, mae_per_trial=1, sfreq=250.0,
                   seed=seed)

    @classmethod
    def real_size(cls, subjects: int = 1, trials_per_subject: int = 1, seed: int = 0,
                  ) -> SynthConfig:
        """Real recording sizes: 2040x1080 tif frames at 150 fps, 60 s clips, 45 s rests."""
        return cls(subjects=subjects, trials_per_subject=trials_per_subject, fps=150.0,
                   size=(2040, 1080), trial_s=60.0, rest_s=45.0, lead_in_s=10.0,
                   me_per_trial=3, mae_per_trial=6, frame_format="tif", seed=seed)

    def validate(self) -> None:
        """Raise :class:`InputError` naming the first impossible setting."""
        checks = [
            (self.subjects >= 1, "subjects must be >= 1"),
            (1 <= self.trials_per_subject <= 48, "trials per subject must be 1..48"),
            (20 <= self.fps <= 500, "fps must be 20..500"),
            (self.size[0] >= 64 and self.size[1] >= 64, "size must be at least 64x64"),
            (self.trial_s >= 2.0, "trial_s must be >= 2 s"),
            (self.rest_s >= 1.0, "rest_s must be >= 1 s"),
            (self.lead_in_s >= 2.0, "lead_in_s must be >= 2 s"),
            (self.me_per_trial >= 0 and self.mae_per_trial >= 0, "event counts must be >= 0"),
            (0.0 <= self.coupling <= 1.0, "coupling must be in 0..1"),
            (self.frame_format in FRAME_FORMATS, f"frame format must be one of {FRAME_FORMATS}"),
            (self.eeg_format in ("edf", "set"), "eeg format must be edf or set"),
            (self.sfreq >= 100, "sfreq must be >= 100 Hz"),
            (0 <= self.max_drift_ppm <= 1000, "max drift must be 0..1000 ppm"),
        ]
        for ok, msg in checks:
            if not ok:
                raise InputError(f"synth config: {msg}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Expr:
    """A planted expression of one subject (times: rel = trial video clock, c = common)."""

    marker: int
    type: str
    emotion: str
    aus: str
    amplitude_px: float
    frames: tuple[int, int, int]
    rel: tuple[float, float, float]
    common: tuple[float, float, float]


@dataclass
class _Clip:
    marker: int
    onset: float  # common time of the clip marker
    end: float  # common time of the following 100
    dev_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # camera device times
    stamps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # ms
    codes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def rel(self) -> np.ndarray:
        """Frame times from the first frame, from the ms stamps (what the importer sees)."""
        return (self.stamps - self.stamps[0]) / 1000.0


def _subject_name(index: int) -> str:
    return f"S{index + 1:02d}"


def _pick_markers(rng: np.random.Generator, n: int) -> list[int]:
    emotional = [m for m, c in MARKER_CATEGORY.items() if c != 6]
    if n <= 7:  # one clip from each of n different emotional categories
        cats = rng.choice([1, 2, 3, 4, 5, 7, 8], size=n, replace=False)
        picks = [int(rng.choice(_CLIP_ORDER[int(c)])) for c in cats]
    elif n <= len(emotional):
        picks = [int(m) for m in rng.choice(emotional, size=n, replace=False)]
    else:
        calm = [m for m, c in MARKER_CATEGORY.items() if c == 6]
        picks = emotional + [int(m) for m in rng.choice(calm, size=n - len(emotional),
                                                         replace=False)]
    return sorted(picks)  # the stimulus programme runs in marker order


def _choose_aus(rng: np.random.Generator, emotion: str, kind: str) -> str:
    from mmme.synth.face import au_region

    proto = parse_aus(str(rng.choice(PROTOTYPES[emotion])))
    if kind == "MaE":
        if len(proto) > 2 and rng.random() < 0.3:  # coders often see a partial prototype
            drop = int(rng.integers(0, len(proto)))
            proto = tuple(a for i, a in enumerate(proto) if i != drop)
        return format_aus(proto)
    # MEs: mostly one region of the prototype, sometimes a single AU
    regions: dict[str, list] = {}
    for a in proto:
        regions.setdefault(au_region(a), []).append(a)
    if rng.random() < 0.8:
        names = sorted(regions)
        chosen = regions[names[int(rng.integers(0, len(names)))]]
    else:
        chosen = list(proto)
    if len(chosen) > 1 and rng.random() < 0.3:
        chosen = [chosen[int(rng.integers(0, len(chosen)))]]
    return format_aus(chosen)


def _durations(rng: np.random.Generator, kind: str, max_mae: float) -> tuple[float, float]:
    """(onset->apex, onset->offset) seconds, away from the ME rule boundary."""
    if kind == "ME":
        total = rng.uniform(0.22, 0.44)
        return total * rng.uniform(0.3, 0.5), total
    total = rng.uniform(0.7, max(0.71, max_mae))
    return max(0.36, total * rng.uniform(0.35, 0.6)), total


def _place_expressions(rng: np.random.Generator, cfg: SynthConfig, clip: _Clip,
                       emotion_of_clip: str | None) -> list[_Expr]:
    kinds = ["ME"] * cfg.me_per_trial + ["MaE"] * cfg.mae_per_trial
    rng.shuffle(kinds)
    rel = clip.rel
    lo, hi = 0.5, rel[-1] - 0.5
    gap = 0.8
    n = len(kinds)
    if n == 0:
        return []
    max_mae = 4.0
    for _ in range(40):
        durs = [_durations(rng, k, max_mae) for k in kinds]
        slack = (hi - lo) - sum(d[1] for d in durs) - gap * (n - 1)
        if slack > 0:
            break
        max_mae = max(0.72, max_mae * 0.8)
    else:
        raise InputError(
            f"synth config: a {cfg.trial_s:g} s trial cannot hold {cfg.me_per_trial} ME + "
            f"{cfg.mae_per_trial} MaE; lengthen --trial-s or plant fewer expressions"
        )
    parts = rng.dirichlet(np.ones(n + 1)) * slack
    out: list[_Expr] = []
    t = lo
    for k, (kind, (rise, total)) in enumerate(zip(kinds, durs, strict=True)):
        t += parts[k]
        on_f = int(np.searchsorted(rel, t))
        ap_f = max(on_f + 1, int(np.argmin(np.abs(rel - (rel[on_f] + rise)))))
        off_f = max(ap_f + 1, int(np.argmin(np.abs(rel - (rel[on_f] + total)))))
        on, ap, off = rel[on_f], rel[ap_f], rel[off_f]
        # keep a margin from the ME rule so planted type and rule agree
        if kind == "ME":
            while (off - on) * 1000 > 470 and off_f > ap_f + 1:
                off_f -= 1
                off = rel[off_f]
        else:
            while ((off - on) * 1000 < 530 or (ap - on) * 1000 < 280) and off_f + 1 < len(rel):
                if (ap - on) * 1000 < 280:
                    ap_f += 1
                    ap = rel[ap_f]
                off_f = max(off_f + 1, ap_f + 1)
                off = rel[off_f]
        if me_rule(on, ap, off) != kind:  # pragma: no cover - guarded by the margins above
            raise InputError(f"internal: planted {kind} breaks the ME rule at marker {clip.marker}")
        if emotion_of_clip is not None and rng.random() < 0.75:
            emo = emotion_of_clip
        else:
            emo = str(rng.choice(EMOTIONS))
        amp = rng.uniform(1.0, 2.0) if kind == "ME" else rng.uniform(2.5, 5.0)
        out.append(_Expr(clip.marker, kind, emo, _choose_aus(rng, emo, kind), float(amp),
                         (on_f, ap_f, off_f), (float(on), float(ap), float(off)),
                         (0.0, 0.0, 0.0)))
        t = off + gap
    return out


@dataclass
class _Plan:
    subject: str
    start: _dt.datetime
    eeg_end: float
    physio: clk.DeviceClock
    physio_end: float
    video: clk.DeviceClock
    clips: list[_Clip]
    exprs: list[_Expr]
    blinks: list[tuple[float, float]]
    responses: list[Response]
    markers: list[tuple[float, int]]  # (common time, code)
    phys: SubjectPhysiology
    alpha_hz: float
    alpha_uv: float


def plan_subject(cfg: SynthConfig, index: int) -> _Plan:
    """Draw everything about one session except the signals themselves."""
    ss = np.random.SeedSequence([int(cfg.seed), int(index)])
    rng = np.random.default_rng(ss.spawn(1)[0])
    name = _subject_name(index)
    day = _dt.date.fromisoformat(cfg.start_date) + _dt.timedelta(days=index)
    start = _dt.datetime.combine(day, _dt.time(9, 0)) + _dt.timedelta(
        seconds=int(rng.integers(0, 8 * 3600)), milliseconds=int(rng.integers(0, 1000)))

    markers_sel = _pick_markers(rng, cfg.trials_per_subject)
    clips: list[_Clip] = []
    t = cfg.lead_in_s + rng.uniform(0, 1)
    for m in markers_sel:
        dur = cfg.trial_s * rng.uniform(0.98, 1.02)
        clips.append(_Clip(m, t, t + dur))
        t += dur + cfg.rest_s * rng.uniform(0.9, 1.1)
    session_end = clips[-1].end + cfg.rest_s
    physio = clk.random_clock(rng, (-1.5, min(1.5, cfg.lead_in_s - 1.0)), cfg.max_drift_ppm)
    video = clk.DeviceClock(offset_s=clips[0].onset + rng.uniform(0, 1e-3),
                            drift_ppm=float(rng.uniform(-cfg.max_drift_ppm, cfg.max_drift_ppm)))
    markers: list[tuple[float, int]] = []
    for c in clips:
        markers += [(c.onset, c.marker), (c.end, 100)]
    if cfg.noise_markers:
        c = clips[int(rng.integers(0, len(clips)))]
        markers.append((c.end + min(1.0, cfg.rest_s / 3), 77))
        markers.sort()

    # camera: starts each clip within a ms of its marker, records until the 100
    frame_counter = int(rng.integers(0, 1000))
    for c in clips:
        d0 = 0.0 if c is clips[0] else float(video.to_device(c.onset + rng.uniform(0, 1e-3)))
        span = float(video.to_device(c.end) - video.to_device(c.onset))
        dev = d0 + clk.camera_frame_times(span, cfg.fps, rng)
        c.dev_s = dev
        c.stamps = clk.stamp_ms(dev)
        c.codes = (frame_counter + np.arange(len(dev))) % 1000
        frame_counter += len(dev)

    exprs: list[_Expr] = []
    for c in clips:
        for e in _place_expressions(rng, cfg, c, CATEGORY_EMOTION[MARKER_CATEGORY[c.marker]]):
            stamps = c.stamps[list(e.frames)] / 1000.0
            e.common = tuple(float(x) for x in video.to_common(stamps))  # type: ignore[assignment]
            exprs.append(e)

    # blinks anywhere in the session, but not during an expression
    busy = [(e.common[0] - 0.3, e.common[2] + 0.3) for e in exprs]
    blinks: list[tuple[float, float]] = []
    n_blinks = rng.poisson(cfg.blinks_per_min * session_end / 60)
    for bt in np.sort(rng.uniform(0.5, session_end, n_blinks)):
        dur = float(rng.uniform(0.15, 0.3))
        if any(a < bt + dur and bt < b for a, b in busy):
            continue
        if blinks and bt < blinks[-1][0] + blinks[-1][1] + 0.3:
            continue
        blinks.append((float(bt), dur))

    phys = SubjectPhysiology.random(rng)
    responses = _plan_responses(rng, cfg, clips, exprs, session_end)
    return _Plan(
        subject=name, start=start, eeg_end=float(math.ceil(session_end + 1.0)), physio=physio,
        physio_end=session_end + float(rng.uniform(0.5, 2.0)), video=video, clips=clips,
        exprs=exprs, blinks=blinks, responses=responses, markers=markers, phys=phys,
        alpha_hz=float(rng.uniform(9.0, 11.5)), alpha_uv=float(rng.uniform(8.0, 16.0)),
    )


def _plan_responses(rng: np.random.Generator, cfg: SynthConfig, clips: Sequence[_Clip],
                    exprs: Sequence[_Expr], session_end: float) -> list[Response]:
    u = rng.uniform
    responsive = u(0.6, 1.0)
    hr_gain, scr_gain, eeg_gain = u(0.6, 1.4), u(0.5, 1.5), u(0.6, 1.2)
    out: list[Response] = []
    for i, e in enumerate(exprs):
        on, ap, off = e.common
        big = e.type == "MaE"
        p = min(1.0, cfg.coupling * responsive * (1.0 if big else 0.75))
        if rng.random() < p:
            o = on + u(0, 0.5)
            pk = o + u(2, 4)
            amp = hr_gain * _HR_DIR[e.emotion] * (u(4, 9) if big else u(2, 5))
            out.append(Response("hr_change", "ECG", o, pk, pk + u(4, 7), amp, "bpm", i))
        if rng.random() < p:
            o = on + u(1.0, 3.0)
            pk = o + u(1.0, 2.0)
            amp = scr_gain * _SCR_SIZE[e.emotion] * (u(0.15, 0.6) if big else u(0.08, 0.3))
            out.append(Response("scr", "EDA", o, pk, pk + u(6, 10), amp, "uS", i))
        if rng.random() < p * _PAUSE_P[e.emotion]:
            o = on + u(0.2, 0.8)
            dur = u(1.5, 3.0)
            out.append(Response("breath_pause", "RSP", o, o + 0.3 * dur, o + dur, dur, "s", i))
        if rng.random() < p * _SKT_P[e.emotion]:
            o = on + u(2, 4)
            pk = o + u(6, 10)
            amp = -u(0.05, 0.2) * (1.0 if big else 0.6)
            out.append(Response("skt_drop", "SKT A", o, pk, pk + u(10, 20), amp, "degC", i))
        nums = {a.number for a in parse_aus(e.aus)}
        for ch, site in (("EMG A", _EMG_A_AUS), ("EMG B", _EMG_B_AUS)):
            if nums & site:  # muscle activity is the expression itself: always there
                out.append(Response("emg_burst", ch, on, ap, off, 0.02 * e.amplitude_px, "mV", i))
        if rng.random() < p:
            amp = eeg_gain * (u(0.5, 1.2) if big else u(0.3, 0.8))
            out.append(Response("theta_increase", "EEG", on - 0.1, on + 0.3, on + 1.0, amp,
                                "relative", i, "theta"))
        if rng.random() < p:
            amp = -eeg_gain * u(0.3, 0.6)
            out.append(Response("alpha_decrease", "EEG", on + 0.1, on + 0.6, on + 1.6, amp,
                                "relative", i, "alpha"))
    # responses without an expression
    n_sp = rng.poisson(cfg.spontaneous_per_min * session_end / 60)
    for o in np.sort(u(2.0, max(2.5, session_end - 3.0), n_sp)):
        o = float(o)
        kinds = [k for k in ("hr_change", "scr") if rng.random() < 0.6] or ["scr"]
        if "hr_change" in kinds:
            pk = o + u(2, 4)
            out.append(Response("hr_change", "ECG", o, pk, pk + u(4, 7), u(-4, 6), "bpm"))
        if "scr" in kinds:
            pk = o + u(1.0, 2.0)
            out.append(Response("scr", "EDA", o, pk, pk + u(6, 10), u(0.05, 0.3), "uS"))
    # stimulus-locked EEG band shifts over each clip
    for c in clips:
        emo = CATEGORY_EMOTION[MARKER_CATEGORY[c.marker]] or "calm"
        for band, rel in EMOTION_BAND_SHIFTS[emo].items():
            amp = rel * eeg_gain * (0.5 + 0.5 * cfg.coupling)
            out.append(Response("band_shift", "EEG", c.onset, c.onset + 3.0, c.end, amp,
                                "relative", -1, band))
    return out


def _clip_of(plan: _Plan, t: float) -> str:
    for c in plan.clips:
        if c.onset <= t < c.end:
            return str(c.marker)
    return ""


def _subject_job(cfg: SynthConfig, index: int, root: str) -> dict[str, Any]:
    """Simulate and write one session; return its ground-truth tables (picklable)."""
    plan = plan_subject(cfg, index)
    ss = np.random.SeedSequence([int(cfg.seed), int(index)]).spawn(5)
    rng_sig, rng_vid, rng_eeg, rng_dev = (np.random.default_rng(s) for s in ss[1:])
    ses = Path(root) / plan.subject
    sfreq = cfg.sfreq

    # physiology on the common clock, long enough for every device
    t0 = min(plan.physio.offset_s, 0.0) - 2.0
    t_end = max(plan.eeg_end, float(plan.physio.to_common(plan.physio_end))) + 2.0
    tonic = [(c.onset, c.end, _TONIC_HR[MARKER_CATEGORY[c.marker]]) for c in plan.clips]
    truth = simulate_physio(t0, t_end - t0, plan.responses, plan.phys, rng_sig, sfreq=sfreq,
                            tonic_hr=tonic)

    _write_video(cfg, plan, truth, ses / "video", rng_vid)
    _write_eeg(cfg, plan, truth, ses / "eeg" / f"{plan.subject}.{cfg.eeg_format}", rng_eeg)
    _write_physio(cfg, plan, truth, ses / "physio" / f"{plan.subject}.mat", rng_dev)

    gt, coding = [], []
    for e in plan.exprs:
        clip = next(c for c in plan.clips if c.marker == e.marker)
        gt.append({
            "subject": plan.subject, "trial": str(e.marker), "type": e.type,
            "emotion": e.emotion, "aus": e.aus, "onset_frame": e.frames[0],
            "apex_frame": e.frames[1], "offset_frame": e.frames[2], "onset_s": e.rel[0],
            "apex_s": e.rel[1], "offset_s": e.rel[2],
        })
        cat = MARKER_CATEGORY[e.marker]
        stamps = [clk.frame_stamp(plan.start, int(clip.stamps[f]), int(clip.codes[f]))
                  for f in e.frames]
        coded = plan.start + _dt.timedelta(days=300 + index, minutes=int(e.frames[0]) % 600)
        coding.append({
            "Subject": plan.subject,
            "Filename": f"{CATEGORY_NAME[cat]}_{CLIP_NUMBER[e.marker]}_{e.marker}_"
                        f"{plan.subject}_{plan.start:%Y%m%d}.avi",
            "Marker": e.marker,
            "OnsetTime": round(e.rel[0], 2), "ApexTime": round(e.rel[1], 2),
            "OffsetTime": round(e.rel[2], 2),
            "OnsetFrame": stamps[0], "ApexFrame": stamps[1], "OffsetFrame": stamps[2],
            "Action Units": ", ".join(str(a) for a in parse_aus(e.aus)),
            "Estimated Emotion": DATASET_EMOTION[e.emotion],
            "Macro/Micro": "Micro" if e.type == "ME" else "Macro",
            "Date": f"{coded:%Y}年{coded:%m}月{coded:%d}日-{coded:%H}时{coded:%M}分",
            "dif": e.frames[1] - e.frames[0],
        })
    responses = []
    for r in plan.responses:
        ex = plan.exprs[r.event] if r.event >= 0 else None
        responses.append({
            "subject": plan.subject,
            "trial": str(ex.marker) if ex else _clip_of(plan, r.onset_s),
            "event": r.event, "expression": ex.type if ex else "none",
            "emotion": ex.emotion if ex else "", "kind": r.kind, "signal": r.signal,
            "band": r.band, "onset_s": r.onset_s, "peak_s": r.peak_s, "end_s": r.end_s,
            "amplitude": r.amplitude, "unit": r.unit,
        })
    devices = {
        "eeg": {"offset_s": 0.0, "drift_ppm": 0.0, "sfreq": sfreq,
                "duration_s": plan.eeg_end},
        "physio": {"offset_s": plan.physio.offset_s, "drift_ppm": plan.physio.drift_ppm,
                   "sfreq": sfreq, "duration_s": plan.physio_end},
        "video": {"offset_s": plan.video.offset_s, "drift_ppm": plan.video.drift_ppm,
                  "fps_nominal": cfg.fps, "first_frame": f"{plan.start:%Y-%m-%d %H:%M:%S.%f}"[:-3],
                  "n_frames": int(sum(len(c.stamps) for c in plan.clips))},
        "markers": [{"code": code, "common_s": t} for t, code in plan.markers],
        "blinks": [{"onset_s": b, "duration_s": d} for b, d in plan.blinks],
        "physiology": dataclasses.asdict(plan.phys),
        "alpha_hz": plan.alpha_hz,
    }
    return {"subject": plan.subject, "ground_truth": gt, "coding": coding,
            "responses": responses, "devices": devices}


def _write_video(cfg: SynthConfig, plan: _Plan, truth: PhysioTruth, folder: Path,
                 rng: np.random.Generator) -> None:
    for c in plan.clips:
        d = folder / str(c.marker)
        d.mkdir(parents=True, exist_ok=True)
        rel = c.rel
        common = np.asarray(plan.video.to_common(c.stamps / 1000.0))
        ppg = truth.at("PPG", common - 0.1)  # the face pulse leads the finger a little
        events = [FaceEvent(e.aus, *e.rel, amplitude_px=e.amplitude_px)
                  for e in plan.exprs if e.marker == c.marker]
        first = c.dev_s[0]
        blinks = [(float(plan.video.to_device(b)) - first, dur) for b, dur in plan.blinks
                  if c.onset - 1 < b < c.end]
        for frame, row in iter_trial_frames(rel, events, size=cfg.size, blinks=blinks, ppg=ppg,
                                            distractors=cfg.distractors, seed=rng):
            i = row["frame"]
            name = clk.frame_name(plan.start, int(c.stamps[i]), int(c.codes[i]), c.marker,
                                  cfg.frame_format)
            write_frame(d / name, frame, cfg.frame_format, cfg.jpeg_quality)


def _write_eeg(cfg: SynthConfig, plan: _Plan, truth: PhysioTruth, path: Path,
               rng: np.random.Generator) -> None:
    n = int(round(plan.eeg_end * cfg.sfreq))
    t = np.arange(n) / cfg.sfreq  # EEG device time is the common time
    data = simulate_eeg(n, cfg.sfreq, plan.responses, plan.blinks, rng, alpha_hz=plan.alpha_hz,
                        alpha_uv=plan.alpha_uv, ecg_mv=truth.at("ECG", t),
                        emg_mv=truth.at("EMG A", t))
    # a marker lands on the first sample at or after its arrival (sub-ms latency)
    marks = [(math.ceil((tm + rng.uniform(0, 3e-4)) * cfg.sfreq) / cfg.sfreq, code)
             for tm, code in plan.markers]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_eeg(path, data, EEG_CHANNELS, EEG_CH_TYPES, cfg.sfreq, marks)


def _write_physio(cfg: SynthConfig, plan: _Plan, truth: PhysioTruth, path: Path,
                  rng: np.random.Generator) -> None:
    sf = cfg.sfreq
    n = int(round(plan.physio_end * sf))
    common = np.asarray(plan.physio.to_common(np.arange(n) / sf))
    noise = {"ECG": 0.01, "PPG": 0.01, "RSP": 0.005, "EDA": 0.003, "SKT A": 0.002,
             "SKT B": 0.002, "EMG A": 0.0, "EMG B": 0.0}
    chans = {k: truth.at(k, common) + rng.normal(0, s, n) if s else truth.at(k, common)
             for k, s in noise.items()}
    codes = np.zeros(n, np.int64)
    pulse = max(2, int(round(0.02 * sf)))  # 20 ms trigger pulses
    skew = []
    for tm, code in plan.markers:
        k = math.ceil(float(plan.physio.to_device(tm + rng.uniform(0, 3e-4))) * sf)
        if 0 <= k < n - pulse:
            codes[k:k + pulse] = code
            skew.append((k, code))
    bits = (codes[:, None] >> np.arange(8)) & 1
    for k, code in skew:  # some bits rise one sample late, as on a real trigger line
        late = (rng.random(8) < 0.3) & (((code >> np.arange(8)) & 1) == 1)
        if late.any() and not late.all():
            bits[k, late] = 0
    codes_skewed = (bits << np.arange(8)).sum(1)
    write_biopac_mat(path, chans, codes_skewed, truth.heart_rate(common), sf)


def generate(out_dir: str | Path, config: SynthConfig | None = None, *,
             n_jobs: int | None = None, scheduler: str | None = None,
             dask_workers: int | None = None, overwrite: bool = False,
             progress: bool = True) -> Path:
    """Write a synthetic MMME data set (raw layout + ground truth) to ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder to create. It is built next to its final place and moved in when complete.
    config : SynthConfig, optional
        Sizes and settings (default: ``SynthConfig()``).
    n_jobs, scheduler, dask_workers :
        Passed to :class:`mmme.executor.Executor` (one job per subject).
    overwrite : bool
        Replace an existing non-empty ``out_dir``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Path
        ``out_dir``.
    """
    from mmme.executor import Executor

    cfg = config or SynthConfig()
    cfg.validate()
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise InputError(f"{out} exists and is not empty (use overwrite)", file=str(out))
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        jobs = [(cfg, i, str(tmp)) for i in range(cfg.subjects)]
        with Executor(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers,
                      progress=progress) as ex:
            results = ex.map(_subject_job, jobs, desc="synth subjects", star=True)
        gt, coding, resp, devices = [], [], [], {}
        for res in results:
            base = len(gt)
            gt += res["ground_truth"]
            coding += res["coding"]
            for r in res["responses"]:
                r["event"] = r["event"] + base if r["event"] >= 0 else -1
                resp.append(r)
            devices[res["subject"]] = res["devices"]
        write_coding_file(tmp / "coding_file.xlsx", coding)
        pd.DataFrame(gt, columns=list(GROUND_TRUTH_COLUMNS)).to_csv(
            tmp / "ground_truth.csv", index=False, float_format="%.3f")
        pd.DataFrame(resp, columns=list(RESPONSE_COLUMNS)).to_csv(
            tmp / "ground_truth_responses.csv", index=False, float_format="%.6f")
        write_json(tmp / "ground_truth_devices.json",
                   {"reference": "eeg", "formula": clk.CLOCK_FORMULA, "subjects": devices})
        write_json(tmp / "synth_config.json", cfg.to_dict())
    return out
