"""Dense optical flow (TV-L1, Farneback, DIS), optical strain and STSTNet inputs.

All methods are OpenCV's. Flow is ``(H, W, 2)`` float32 with ``flow[..., 0] = u`` (x, pixels to the
right) and ``flow[..., 1] = v`` (y, pixels *down*), mapping ``prev`` to ``next``:
``next(x + u, y + v) ~ prev(x, y)``.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from mmme.errors import InputError

#: TV-L1 parameters of the ``"tvl1_fast"`` preset from a cold start (no initial flow): fewer
#: pyramid levels, warps and iterations (~8x faster than OpenCV's defaults on 128 px crops;
#: sub-pixel motions stay accurate).
TVL1_FAST: dict[str, Any] = {
    "nscales": 3, "warps": 2, "innnerIterations": 5, "outerIterations": 2, "medianFiltering": 1,
}

#: TV-L1 parameters of ``"tvl1_fast"`` when it refines an initial flow (``init``; the previous
#: frame's flow in a video): one scale and one warp, since a pyramid only helps motions of
#: several pixels and consecutive frames differ by a fraction of one; a smaller ``theta`` and a
#: 5x5 median filter hold down the noise that a short refinement leaves.
TVL1_FAST_WARM: dict[str, Any] = {
    "nscales": 1, "warps": 1, "innnerIterations": 6, "outerIterations": 1, "medianFiltering": 5,
    "theta": 0.15,
}

#: Gaussian smoothing (sigma, pixels) of the warm ``tvl1_fast`` flow: expression fields are
#: smooth over several pixels, sensor noise is not.
TVL1_FAST_WARM_SIGMA = 1.5

FLOW_METHODS: tuple[str, ...] = ("tvl1", "tvl1_fast", "farneback", "dis")

_FARNEBACK_DEFAULTS: dict[str, Any] = {
    "pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5,
    "poly_sigma": 1.2, "flags": 0,
}


class OpticalFlow:
    """A reusable optical-flow estimator (the OpenCV object is built once).

    Parameters
    ----------
    method : str
        ``"tvl1"`` (OpenCV's TV-L1 defaults), ``"tvl1_fast"`` (:data:`TVL1_FAST`, or
        :data:`TVL1_FAST_WARM` when refining an initial flow), ``"farneback"`` or ``"dis"``
        (DIS, medium preset).
    **params
        Overrides passed to the OpenCV constructor (TV-L1, DIS setters) or to
        :func:`cv2.calcOpticalFlowFarneback`.
    """

    def __init__(self, method: str = "tvl1_fast", **params: Any) -> None:
        if method not in FLOW_METHODS:
            raise InputError(f"unknown flow method {method!r}; choose from {list(FLOW_METHODS)}")
        self.method = method
        self.params = params
        self._impl: Any = None
        self._warm: Any = None  # TV-L1 object that refines an initial flow, built on first use
        if method in ("tvl1", "tvl1_fast"):
            kw = {**(TVL1_FAST if method == "tvl1_fast" else {}), **params}
            self._impl = cv2.optflow.DualTVL1OpticalFlow_create(**kw)
        elif method == "dis":
            self._impl = cv2.DISOpticalFlow_create(
                int(params.get("preset", cv2.DISOPTICAL_FLOW_PRESET_MEDIUM))
            )
            for k, v in params.items():
                if k != "preset":
                    getattr(self._impl, f"set{k[0].upper()}{k[1:]}")(v)
        else:
            unknown = set(params) - set(_FARNEBACK_DEFAULTS)
            if unknown:
                raise InputError(f"unknown Farneback parameter(s) {sorted(unknown)}")
            self._fb = {**_FARNEBACK_DEFAULTS, **params}

    @property
    def warm_start(self) -> bool:
        """Whether a video should pass the previous frame's flow as ``init`` (``tvl1_fast``)."""
        return self.method == "tvl1_fast"

    def __call__(self, prev: np.ndarray, next: np.ndarray,  # noqa: A002
                 init: np.ndarray | None = None) -> np.ndarray:
        """Flow from ``prev`` to ``next`` (8-bit gray images of equal shape).

        Parameters
        ----------
        prev, next : np.ndarray
            Gray (or BGR) frames.
        init : np.ndarray | None
            TV-L1 only: an initial flow ``(H, W, 2)`` to refine (OpenCV's ``useInitialFlow``),
            e.g. the flow of the previous frame pair. ``tvl1_fast`` then runs
            :data:`TVL1_FAST_WARM` instead of :data:`TVL1_FAST` (~7x cheaper) and smooths the
            result (:data:`TVL1_FAST_WARM_SIGMA`). On synthetic AU videos (0.5-1.7 px at
            apex, sensor noise) the warm-started flow fed back frame by frame is as accurate
            as the cold preset: end-point error, direction and noise floor in the ROIs, apex.
        """
        a, b = _as_u8_gray(prev), _as_u8_gray(next)
        if a.shape != b.shape:
            raise InputError(f"flow frames differ in shape: {a.shape} vs {b.shape}")
        if init is not None:
            return self._refine(a, b, init)
        if self.method == "farneback":
            f = self._fb
            return cv2.calcOpticalFlowFarneback(
                a, b, None, f["pyr_scale"], f["levels"], f["winsize"], f["iterations"],
                f["poly_n"], f["poly_sigma"], f["flags"],
            )
        return self._impl.calc(a, b, None)

    def _refine(self, a: np.ndarray, b: np.ndarray, init: np.ndarray) -> np.ndarray:
        if self.method not in ("tvl1", "tvl1_fast"):
            raise InputError(f"an initial flow is only used by TV-L1, not {self.method!r}")
        f0 = np.asarray(init, dtype=np.float32)
        if f0.shape != (*a.shape, 2):
            raise InputError(f"initial flow has shape {f0.shape}, frames need {(*a.shape, 2)}")
        if self._warm is None:
            kw = {**(TVL1_FAST_WARM if self.method == "tvl1_fast" else {}), **self.params}
            self._warm = cv2.optflow.DualTVL1OpticalFlow_create(**kw)
            self._warm.setUseInitialFlow(True)
        # OpenCV writes the result into the initial flow: hand it a copy
        flow = self._warm.calc(a, b, np.array(f0, dtype=np.float32, order="C", copy=True))
        if self.method == "tvl1_fast":
            flow = cv2.GaussianBlur(flow, (0, 0), TVL1_FAST_WARM_SIGMA)
        return flow

    def __getstate__(self) -> dict[str, Any]:  # OpenCV objects do not pickle: rebuild them
        return {"method": self.method, "params": self.params}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["method"], **state["params"])


def _as_u8_gray(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim == 3:
        a = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    if a.ndim != 2:
        raise InputError(f"flow needs 2-D gray frames, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def optical_flow(prev: np.ndarray, next: np.ndarray, method: str = "tvl1_fast",  # noqa: A002
                 **params: Any) -> np.ndarray:
    """Dense flow ``(H, W, 2)`` from ``prev`` to ``next``; see :class:`OpticalFlow`."""
    return OpticalFlow(method, **params)(prev, next)


def optical_strain(flow: np.ndarray) -> np.ndarray:
    """Optical strain magnitude of a flow field (Shreve et al.; as STSTNet uses it).

    ``sqrt(u_x^2 + v_y^2 + 0.5 * (u_y + v_x)^2)``, from central differences, shape ``(H, W)``.
    """
    f = np.asarray(flow, dtype=np.float32)
    if f.ndim != 3 or f.shape[2] != 2:
        raise InputError(f"flow must be (H, W, 2), got {f.shape}")
    u_y, u_x = np.gradient(f[..., 0])
    v_y, v_x = np.gradient(f[..., 1])
    return np.sqrt(u_x**2 + v_y**2 + 0.5 * (u_y + v_x) ** 2).astype(np.float32)


def ststnet_input(onset: np.ndarray, apex: np.ndarray, size: int = 28,
                  method: str = "tvl1") -> np.ndarray:
    """STSTNet's three-channel input: u, v and optical strain of the onset->apex flow.

    Parameters
    ----------
    onset, apex : np.ndarray
        Aligned gray (or BGR) crops of the onset and apex frames.
    size : int
        Output side (28 in STSTNet).
    method : str
        Flow method (STSTNet used TV-L1).

    Returns
    -------
    np.ndarray
        ``(size, size, 3)`` float32, channels ``(u, v, strain)``; flow rescaled to the output
        resolution so values are in output pixels.
    """
    flow = optical_flow(onset, apex, method)
    strain = optical_strain(flow)
    scale = size / flow.shape[1]
    stack = np.dstack([flow[..., 0] * scale, flow[..., 1] * scale, strain])
    return cv2.resize(stack, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)


def flow_to_image(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colour-code a flow field (hue = direction, value = magnitude) as a BGR uint8 image."""
    f = np.asarray(flow, dtype=np.float32)
    mag, ang = cv2.cartToPolar(f[..., 0], f[..., 1])
    top = float(max_magnitude) if max_magnitude else float(np.nanmax(mag)) or 1.0
    hsv = np.zeros((*f.shape[:2], 3), np.uint8)
    hsv[..., 0] = (ang * 90 / np.pi).astype(np.uint8)  # OpenCV hue is 0..180
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(mag / top * 255, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def roi_flow(flow: np.ndarray, rois: dict) -> tuple[np.ndarray, np.ndarray]:
    """Mean flow vector and mean per-pixel magnitude in each ROI.

    Parameters
    ----------
    flow : np.ndarray
        ``(H, W, 2)`` flow.
    rois : dict of str to :class:`mmme.face.roi.Roi`

    Returns
    -------
    mean_uv : np.ndarray
        ``(n_rois, 2)`` mean (u, v), in the order of ``rois``.
    magnitude : np.ndarray
        ``(n_rois,)`` mean of ``|flow|`` over the ROI's pixels (NaN for an empty ROI).
    """
    f = np.asarray(flow, dtype=np.float32)
    # (u, v, |flow|) in one image: one masked mean per ROI gives all three
    stack = np.dstack([f, cv2.magnitude(np.ascontiguousarray(f[..., 0]),
                                        np.ascontiguousarray(f[..., 1]))])
    means = np.array([roi.mean(stack) for roi in rois.values()], np.float32).reshape(-1, 3)
    return means[:, :2].copy(), means[:, 2].copy()
