"""The face front end on a stream of frames: track, align, crop, flow, ROI motion, skin colour.

One pass, frame by frame (a long video never sits in memory):

1. :class:`~mmme.face.track.FaceTracker` gives each frame a status and 68 landmarks.
2. Frames are cut into an aligned ``size x size`` crop. With ``align="segment"`` (default) one
   similarity transform serves a whole *segment* of tracked frames, so expression motion is not
   aligned away; a segment ends when the face is lost or the head drifts more than
   ``realign_px`` (crop pixels) from the segment's first frame. ``align="frame"`` aligns each
   frame on its own landmarks.
3. Dense flow from a reference crop to the current crop: the segment's first frame
   (``window=0``) or the frame ``window`` frames earlier in the same segment, over the box that
   holds the motion ROIs; the face's global (median) motion is subtracted, leaving the
   non-rigid, expression part. ``tvl1_fast`` refines the previous frame's flow (warm start).
4. Per motion ROI: mean flow vector and mean flow magnitude; per frame: mean skin RGB of the
   cheeks and forehead (for rPPG).

Frames without a face give NaN landmarks, motion and skin colour: missing, never zero.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from mmme.errors import InputError
from mmme.face.align import anchor_points, similarity_transform, transform_points, warp_face
from mmme.face.detect import FaceBackend
from mmme.face.flow import OpticalFlow, roi_flow
from mmme.face.roi import MOTION_ROIS, SKIN_ROIS, Roi, face_rois
from mmme.face.track import LOST, FaceTracker


@dataclass
class FaceAnalysis:
    """Per-frame results of :func:`analyze_frames`.

    Attributes
    ----------
    fps : float
    status : np.ndarray
        ``(n,)`` str: ``"detected"``, ``"tracked"`` or ``"lost"``.
    landmarks : np.ndarray
        ``(n, 68, 2)`` float32 image coordinates, NaN where lost.
    segment : np.ndarray
        ``(n,)`` int segment number (one alignment + flow reference), -1 where lost.
    motion : np.ndarray
        ``(n, n_rois)`` float32 mean flow magnitude per motion ROI (crop pixels), NaN where lost.
    motion_uv : np.ndarray
        ``(n, n_rois, 2)`` float32 mean flow vector (u right, v down) per motion ROI.
    skin_rgb : np.ndarray
        ``(n, 3)`` float64 mean R, G, B over the skin ROIs, NaN where lost.
    roi_names : tuple of str
        Motion ROI names, the column order of ``motion``.
    params : dict
        Parameters of the run (for caches and provenance).
    crops : np.ndarray | None
        ``(n, size, size)`` uint8 aligned gray crops (zeros where lost) when kept.
    """

    fps: float
    status: np.ndarray
    landmarks: np.ndarray
    segment: np.ndarray
    motion: np.ndarray
    motion_uv: np.ndarray
    skin_rgb: np.ndarray
    roi_names: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    crops: np.ndarray | None = None

    @property
    def face(self) -> np.ndarray:
        """``(n,)`` bool: a face was found in the frame."""
        return self.status != LOST

    @property
    def n_frames(self) -> int:
        return len(self.status)

    @property
    def lost_frames(self) -> np.ndarray:
        """Indices of the frames without a face."""
        return np.flatnonzero(~self.face)

    def frames_table(self) -> pd.DataFrame:
        """``frame, time_s, face, status, x0, y0, ..., x67, y67`` (landmarks empty where lost)."""
        n = self.n_frames
        cols: dict[str, Any] = {
            "frame": np.arange(n), "time_s": np.arange(n) / self.fps,
            "face": self.face.astype(int), "status": self.status.astype(str),
        }
        for k in range(68):
            cols[f"x{k}"] = self.landmarks[:, k, 0]
            cols[f"y{k}"] = self.landmarks[:, k, 1]
        return pd.DataFrame(cols)

    def motion_table(self) -> pd.DataFrame:
        """``frame`` plus one column of flow magnitude per motion ROI (NaN where lost)."""
        df = pd.DataFrame(self.motion.astype(np.float64), columns=list(self.roi_names))
        df.insert(0, "frame", np.arange(self.n_frames))
        return df

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for an ``.npz`` cache (no objects, loads with ``allow_pickle=False``)."""
        out = {
            "status": self.status.astype("U8"), "landmarks": self.landmarks,
            "segment": self.segment, "motion": self.motion, "motion_uv": self.motion_uv,
            "skin_rgb": self.skin_rgb, "roi_names": np.array(self.roi_names, dtype="U16"),
            "fps": np.array(self.fps),
        }
        if self.crops is not None:
            out["crops"] = self.crops
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], params: dict | None = None
                    ) -> FaceAnalysis:
        return cls(
            fps=float(arrays["fps"]), status=np.asarray(arrays["status"]).astype(str),
            landmarks=arrays["landmarks"], segment=arrays["segment"], motion=arrays["motion"],
            motion_uv=arrays["motion_uv"], skin_rgb=arrays["skin_rgb"],
            roi_names=tuple(str(s) for s in arrays["roi_names"]), params=dict(params or {}),
            crops=arrays.get("crops"),
        )


# Anchors used to measure head drift: eyes and nose tip (the mouth moves with expressions).
_DRIFT_ANCHORS = slice(0, 3)


FLOW_REGIONS: tuple[str, ...] = ("rois", "crop")


class _Segment:
    def __init__(self, number: int, matrix: np.ndarray, lm_crop: np.ndarray, size: int,
                 flow_region: str = "crop") -> None:
        self.number = number
        self.matrix = matrix
        self.anchors = anchor_points(lm_crop)[_DRIFT_ANCHORS]
        shape = (size, size)
        rois = face_rois(lm_crop, shape, MOTION_ROIS)
        self.skin_rois: dict[str, Roi] = face_rois(lm_crop, shape, SKIN_ROIS)
        hull = cv2.convexHull(np.round(lm_crop[:27]).astype(np.int32))
        mask = np.zeros(shape, np.uint8)
        cv2.fillConvexPoly(mask, hull, 1)
        # Flow is computed on ``flow_box`` only; ROIs and the face mask are in its coordinates.
        self.flow_box = (0, 0, size, size)
        if flow_region == "rois":
            self.flow_box = _union_box([r.box for r in rois.values() if not r.empty], size)
        x0, y0, x1, y1 = self.flow_box
        self.motion_rois: dict[str, Roi] = {
            k: Roi(r.name, (r.box[0] - x0, r.box[1] - y0, r.box[2] - x0, r.box[3] - y0), r.mask)
            for k, r in rois.items()
        }
        self.face_mask = mask.astype(bool)
        self.face_mask_u8 = mask
        self.flow_mask = self.face_mask[y0:y1, x0:x1]
        self.ref_crop: np.ndarray | None = None
        self.ref_mean = 1.0
        self.last_flow: np.ndarray | None = None  # warm start of the next frame's flow


def _union_box(boxes: list[tuple[int, int, int, int]], size: int) -> tuple[int, int, int, int]:
    """Bounding box of ``boxes`` grown by a margin (flow is less reliable near image borders)."""
    if not boxes:
        return 0, 0, size, size
    b = np.array(boxes)
    m = max(4, round(0.035 * size))
    return (max(int(b[:, 0].min()) - m, 0), max(int(b[:, 1].min()) - m, 0),
            min(int(b[:, 2].max()) + m, size), min(int(b[:, 3].max()) + m, size))


def analyze_frames(
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    backend: str | FaceBackend = "auto",
    size: int = 128,
    flow: str = "tvl1_fast",
    window: int = 0,
    align: str = "segment",
    realign_px: float = 3.0,
    compensate: bool = True,
    flow_region: str = "rois",
    keep_crops: bool = False,
    prefetch: int = 8,
    tracker_params: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> FaceAnalysis:
    """Run the face front end over frames (BGR colour or gray), one pass.

    Parameters
    ----------
    frames : iterable of np.ndarray
        Video frames in order.
    fps : float
        Frame rate (for times; rPPG uses it later).
    backend : str | FaceBackend
        Face backend (``"auto"``, ``"dlib"``, ``"haar"``).
    size : int
        Aligned crop side (128 for spotting, 256 for recognition).
    flow : str
        Flow method, see :data:`mmme.face.flow.FLOW_METHODS`.
    window : int
        0: flow from the segment's first frame; k > 0: from the frame k frames earlier (within
        the segment; the segment's first frame while fewer than k frames are behind).
    align : str
        ``"segment"`` (one transform per segment) or ``"frame"`` (each frame its own).
    realign_px : float
        Head drift (crop pixels, eye centres and nose tip) that starts a new segment.
    compensate : bool
        Cancel global illumination gain (mean brightness of the face matched to the flow
        reference) and subtract the face's global motion (median flow over the face hull) before
        ROI statistics, so lighting drift and residual head motion do not read as expression.
    flow_region : str
        ``"rois"``: compute flow only on the bounding box of the motion ROIs (plus a margin),
        the only flow the results use (about half the crop at 128 px); ``"crop"``: the whole
        crop. ``tvl1_fast`` also warm-starts each frame's TV-L1 from the previous frame's flow
        in the same segment (see :class:`~mmme.face.flow.OpticalFlow`).
    keep_crops : bool
        Keep the aligned gray crops in the result (memory: ``n * size**2`` bytes).
    prefetch : int
        Decode up to this many frames ahead in a background thread (OpenCV decoding releases
        the GIL, so reading overlaps with tracking and flow); 0 reads inline. While
        prefetching a fast flow (all but ``"tvl1"``), OpenCV runs single-threaded
        (``cv2.setNumThreads(1)``, restored after): the two Python threads are the parallelism.
    tracker_params : dict | None
        Extra :class:`~mmme.face.track.FaceTracker` parameters.
    progress : callable | None
        Called with 1 after each frame (e.g. a rich progress bar's advance).

    Returns
    -------
    FaceAnalysis
    """
    if align not in ("segment", "frame"):
        raise InputError(f"align must be 'segment' or 'frame', got {align!r}")
    if window < 0:
        raise InputError(f"window must be >= 0, got {window}")
    if flow_region not in FLOW_REGIONS:
        raise InputError(f"flow_region must be one of {list(FLOW_REGIONS)}, got {flow_region!r}")
    if fps <= 0:
        raise InputError(f"fps must be positive, got {fps}")
    tracker = FaceTracker(backend, **(tracker_params or {}))
    of = OpticalFlow(flow)
    params = {"backend": getattr(tracker._be, "name", str(backend)), "size": size, "flow": flow,
              "window": window, "align": align, "realign_px": realign_px,
              "compensate": compensate, "flow_region": flow_region,
              "tracker": tracker_params or {}}
    status, lms, segs, mot, mot_uv, skin, crops = [], [], [], [], [], [], []
    n_roi = len(MOTION_ROIS)
    seg: _Segment | None = None
    n_seg = 0
    history: collections.deque[np.ndarray] = collections.deque(maxlen=max(window, 1))
    # Decoding runs in the reader thread: one OpenCV thread each beats OpenCV's own thread
    # pool on 128 px crops, whose jobs from two Python threads would wait on each other.
    # TV-L1 with OpenCV's defaults costs ~50x the decoding: it keeps the thread pool.
    with _opencv_threads(1 if prefetch > 0 and flow != "tvl1" else None):
        source = prefetched(frames, prefetch) if prefetch > 0 else iter(frames)
        for frame in source:
            ff = tracker.update(frame)
            status.append(ff.status)
            if not ff.face:
                seg = None
                lms.append(np.full((68, 2), np.nan, np.float32))
                segs.append(-1)
                mot.append(np.full(n_roi, np.nan, np.float32))
                mot_uv.append(np.full((n_roi, 2), np.nan, np.float32))
                skin.append(np.full(3, np.nan))
                if keep_crops:
                    crops.append(np.zeros((size, size), np.uint8))
                if progress:
                    progress(1)
                continue
            lm = ff.landmarks
            new = seg is None
            if not new and align == "segment":
                moved = transform_points(anchor_points(lm)[_DRIFT_ANCHORS], seg.matrix)
                drift = moved - seg.anchors
                new = float(np.abs(drift).max()) > realign_px
            if new:
                m = similarity_transform(lm, size)
                seg = _Segment(n_seg, m, transform_points(lm, m), size, flow_region)
                n_seg += 1
                history.clear()
            matrix = seg.matrix if align == "segment" else similarity_transform(lm, size)
            crop_c = warp_face(frame, matrix, size)
            crop = cv2.cvtColor(crop_c, cv2.COLOR_BGR2GRAY) if crop_c.ndim == 3 else crop_c
            if crop.dtype != np.uint8:
                crop = np.clip(crop, 0, 255).astype(np.uint8)
            if seg.ref_crop is None:
                seg.ref_mean = cv2.mean(crop, seg.face_mask_u8)[0]
            elif compensate:
                # Brightness constancy of the flow methods: cancel global illumination gain.
                gain = seg.ref_mean / max(cv2.mean(crop, seg.face_mask_u8)[0], 1e-6)
                crop = cv2.convertScaleAbs(crop, alpha=gain)
            if seg.ref_crop is None:
                seg.ref_crop = crop
                uv = np.zeros((n_roi, 2), np.float32)
                mag = np.zeros(n_roi, np.float32)
            else:
                ref = history[0] if window > 0 and len(history) == window else seg.ref_crop
                x0, y0, x1, y1 = seg.flow_box
                init = None
                if of.warm_start:  # the flow of a segment starts at zero on its reference
                    init = (seg.last_flow if seg.last_flow is not None
                            else np.zeros((y1 - y0, x1 - x0, 2), np.float32))
                fl = of(ref[y0:y1, x0:x1], crop[y0:y1, x0:x1], init=init)
                if of.warm_start:
                    seg.last_flow = fl
                if compensate:
                    # every 2nd pixel each way: plenty for the median of a smooth field
                    fl = fl - global_motion(fl[::2, ::2], seg.flow_mask[::2, ::2])
                uv, mag = roi_flow(fl, seg.motion_rois)
            if window > 0:
                history.append(crop)
            lms.append(lm.astype(np.float32))
            segs.append(seg.number)
            mot.append(mag)
            mot_uv.append(uv)
            skin.append(_skin_rgb(crop_c, seg.skin_rois))
            if keep_crops:
                crops.append(crop)
            if progress:
                progress(1)
    if not status:
        raise InputError("no frames to analyse")
    return FaceAnalysis(
        fps=float(fps), status=np.array(status, dtype="U8"),
        landmarks=np.stack(lms).astype(np.float32), segment=np.array(segs, dtype=np.int32),
        motion=np.stack(mot).astype(np.float32), motion_uv=np.stack(mot_uv).astype(np.float32),
        skin_rgb=np.stack(skin), roi_names=MOTION_ROIS, params=params,
        crops=np.stack(crops) if keep_crops else None,
    )


@contextlib.contextmanager
def _opencv_threads(n: int | None) -> Iterator[None]:
    """Set OpenCV's (process-wide) thread count for a block, then restore it."""
    if n is None:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def prefetched(frames: Iterable[np.ndarray], depth: int = 8) -> Iterator[np.ndarray]:
    """Iterate ``frames`` with a background thread reading up to ``depth`` items ahead.

    Exceptions of the source are re-raised in the consumer; closing the iterator early stops
    the reader.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            for f in frames:
                if not put(f):
                    return
        except BaseException as exc:  # handed to the consumer, re-raised there
            put(_Failed(exc))
            return
        put(_END)

    th = threading.Thread(target=reader, name="mmme-frame-reader", daemon=True)
    th.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        th.join(timeout=5)


def global_motion(flow: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Median flow vector ``(2,)`` over ``mask`` (whole image if ``None``): the head's motion.

    Expressions move small parts of the face, so the median over the face is the rigid part.
    """
    px = flow[mask] if mask is not None else flow.reshape(-1, 2)
    if len(px) == 0:
        return np.zeros(2, np.float32)
    return np.median(px, axis=0).astype(np.float32)


def _skin_rgb(crop: np.ndarray, rois: dict[str, Roi]) -> np.ndarray:
    if crop.ndim != 3:  # gray video: the same value in all channels (rPPG will be weak)
        crop = np.dstack([crop] * 3)
    used = [r for r in rois.values() if not r.empty]
    if not used:
        return np.full(3, np.nan)
    # pixel-weighted mean over the ROIs together
    n = np.array([r.n_pixels for r in used], np.float64)
    bgr = (np.stack([r.mean(crop) for r in used]) * n[:, None]).sum(axis=0) / n.sum()
    return bgr[::-1]


def read_video(path: str | Path) -> tuple[Iterator[np.ndarray], float, int]:
    """Open a video file with OpenCV.

    Returns
    -------
    frames : iterator of np.ndarray
        BGR frames, decoded lazily.
    fps : float
        The container's frame rate.
    n_frames : int
        The container's frame count (may be approximate; 0 if unknown).

    Raises
    ------
    InputError
        If the file is missing or OpenCV cannot decode it.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("video file not found", file=str(path))
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InputError("OpenCV cannot open this video", file=str(path))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    if fps <= 0:
        cap.release()
        raise InputError("the video has no frame rate", file=str(path))

    def gen() -> Iterator[np.ndarray]:
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                yield frame
        finally:
            cap.release()

    return gen(), fps, n
