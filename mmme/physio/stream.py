"""Whole-session features, chunk by chunk, in memory that does not grow with session length.

:func:`stream_features` consumes any iterator of ``(data, times)`` chunks, ``data`` shaped
``(n_channels, n_times)`` and ``times`` the common-clock time of each sample: the store's
``SignalStream.iter_chunks(chunk_s, overlap_s, picks)`` or :func:`iter_array_chunks` over a NumPy
array / memmap (same chunking). Consecutive chunks must overlap by at least ``2 * margin_s``:
each chunk is processed whole (so filters settle), and only its part ``margin_s`` away from a
neighbouring chunk is kept. Windows on a fixed grid (``win_s``, ``step_s``) are emitted once
each, by the first chunk that holds them in its kept part; events (R-peaks, breaths, SCRs, EMG
onsets) once each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmme.errors import InputError
from mmme.physio.peripheral import FEATURES, KINDS, process_signal, window_features

Chunk = tuple[np.ndarray, np.ndarray]


def iter_array_chunks(
    data: np.ndarray,
    sfreq: float,
    *,
    chunk_s: float = 60.0,
    overlap_s: float = 10.0,
    picks: Sequence[int] | None = None,
    t0: float = 0.0,
    time_major: bool = True,
) -> Iterator[Chunk]:
    """Yield overlapping ``(data, times)`` chunks of an array or memmap, as the store does.

    Chunk ``k`` covers ``[k * chunk_s - overlap_s, (k + 1) * chunk_s)`` from the first sample
    (clipped to the data), like ``SignalStream.iter_chunks``: it repeats the last ``overlap_s``
    of the previous chunk.

    Parameters
    ----------
    data : numpy.ndarray
        ``(n_samples, n_channels)`` when ``time_major`` (the store's layout) else
        ``(n_channels, n_samples)``. Only one chunk is read into memory at a time.
    sfreq : float
        Sampling frequency in Hz.
    chunk_s, overlap_s : float
        Chunk step and the overlap repeated from the previous chunk.
    picks : sequence of int | None
        Channel indices to read.
    t0 : float
        Time of sample 0.
    time_major : bool
        Layout of ``data``.

    Yields
    ------
    data : numpy.ndarray
        ``(n_picked, n)`` float64 copy of the chunk.
    times : numpy.ndarray
        ``(n,)`` times of its samples.
    """
    if overlap_s < 0 or chunk_s <= 0:
        raise InputError(f"need chunk_s > 0 and overlap_s >= 0, got {chunk_s}, {overlap_s}")
    n_total = data.shape[0] if time_major else data.shape[1]
    n_chunk = int(round(chunk_s * sfreq))
    n_over = int(round(overlap_s * sfreq))
    cols = slice(None) if picks is None else list(picks)
    k = 0
    while k * n_chunk < n_total:
        a = max(0, k * n_chunk - n_over)
        b = min((k + 1) * n_chunk, n_total)
        block = data[a:b][:, cols].T if time_major else data[cols][:, a:b]
        yield np.array(block, dtype=float), t0 + np.arange(a, b) / sfreq
        k += 1


@dataclass
class StreamResult:
    """Output of :func:`stream_features`.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per window: ``start_s``, ``stop_s``, then ``<channel>_<feature>`` for peripheral
        channels and ``<channel>_<band>_<de|power>`` for EEG channels.
    events : dict
        ``{channel: {event name: times (s)}}`` (R-peaks, breaths, SCR onsets/peaks, EMG onsets).
    bad_fraction : dict
        ``{channel: fraction of samples marked bad}`` over the whole session.
    n_chunks : int
        Chunks processed.
    """

    windows: pd.DataFrame
    events: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    bad_fraction: dict[str, float] = field(default_factory=dict)
    n_chunks: int = 0


def _peek(it: Iterator[Chunk]) -> Iterator[tuple[Chunk, bool]]:
    """Yield (chunk, is_last)."""
    try:
        cur = next(it)
    except StopIteration:
        return
    for nxt in it:
        yield cur, False
        cur = nxt
    yield cur, True


def stream_features(
    chunks: Iterable[Chunk],
    sfreq: float,
    ch_names: Sequence[str],
    kinds: Mapping[str, str],
    *,
    win_s: float = 10.0,
    step_s: float | None = None,
    margin_s: float = 5.0,
    max_bad: float = 0.2,
    eeg_params: Mapping[str, object] | None = None,
    progress: object | None = None,
) -> StreamResult:
    """Window features of a whole session from overlapping chunks.

    Parameters
    ----------
    chunks : iterable of (data, times)
        ``data`` ``(len(ch_names), n)``; consecutive chunks overlap by >= ``2 * margin_s``.
    sfreq : float
        Sampling frequency of the chunks.
    ch_names : sequence of str
        Names of the chunk rows.
    kinds : mapping channel -> kind
        Peripheral kinds (:data:`~mmme.physio.peripheral.KINDS`), ``"eeg"`` for EEG channels and
        ``"eog"`` for the EOG channels used to regress ocular artefacts out of the EEG. Channels
        not in ``kinds`` are ignored.
    win_s, step_s : float
        Feature windows on a grid from the first sample (``step_s`` defaults to ``win_s``).
    margin_s : float
        Samples this close to a chunk edge shared with a neighbour are not used.
    max_bad : float
        Windows with more bad samples than this give NaN features.
    eeg_params : mapping | None
        Keyword arguments of :func:`mmme.eeg.preprocess.preprocess_raw` for the EEG channels
        (default: 0.5-48 Hz, 50 Hz notch, average reference, EOG regression, 250 Hz).
    progress : callable | None
        Called with the seconds processed so far after each chunk.

    Returns
    -------
    StreamResult
    """
    step = win_s if step_s is None else step_s
    names = list(ch_names)
    for ch, k in kinds.items():
        if ch not in names:
            raise InputError(f"channel {ch!r} is not in the chunks' channels", channel=ch)
        if k not in (*KINDS, "eeg", "eog"):
            raise InputError(f"unknown kind {k!r}", channel=ch)
    periph = [(names.index(c), c, k) for c, k in kinds.items() if k in KINDS]
    eeg = [c for c, k in kinds.items() if k == "eeg"]
    eog = [c for c, k in kinds.items() if k == "eog"]
    eeg_rows = [names.index(c) for c in [*eeg, *eog]]
    tol = 0.5 / sfreq
    rows: list[dict[str, np.ndarray]] = []
    events: dict[str, dict[str, list[np.ndarray]]] = {c: {} for _, c, _ in periph}
    n_bad: dict[str, float] = {c: 0.0 for _, c, _ in periph}  # seconds
    seen_s = 0.0
    grid0: float | None = None
    next_win = 0
    owned_until = -np.inf
    n_chunks = 0
    for (data, times), last in _peek(iter(chunks)):
        data = np.asarray(data)
        if data.shape != (len(names), times.size):
            raise InputError(f"chunk of shape {data.shape} for {len(names)} channels")
        a, b = float(times[0]), float(times[-1]) + 1.0 / sfreq
        if grid0 is None:
            grid0, lo = a, a
        else:
            lo = a + margin_s
            if lo > owned_until + tol:
                raise InputError(
                    f"chunks overlap too little: chunk at {a:.3f} s leaves a gap after "
                    f"{owned_until:.3f} s (need overlap >= 2 x margin_s = {2 * margin_s} s)"
                )
            lo = owned_until
        hi = b if last else b - margin_s
        # windows fully inside this chunk's kept part
        starts = []
        while grid0 + next_win * step + win_s <= hi + tol:
            starts.append(grid0 + next_win * step)
            next_win += 1
        starts_a = np.asarray(starts, dtype=float)
        block: dict[str, np.ndarray] = {"start_s": starts_a, "stop_s": starts_a + win_s}
        for i, ch, kind in periph:
            proc = process_signal(data[i], sfreq, kind, channel=ch, t0=a)
            feats = [window_features(proc, s, s + win_s, max_bad=max_bad) for s in starts_a]
            for f in ("bad_fraction", *FEATURES[kind]):
                block[f"{ch}_{f}"] = np.asarray([d[f] for d in feats], dtype=float)
            # events and bad samples of the kept part only, so overlaps count once
            for ev in proc.events:
                if ev == "scr_amplitude":
                    continue
                t = proc.event_times(ev)
                keep = (t >= lo - tol) & (t < hi - tol)
                events[ch].setdefault(ev, []).append(t[keep])
                if ev == "scr_onsets":
                    amp = np.asarray(proc.events["scr_amplitude"])
                    events[ch].setdefault("scr_amplitude", []).append(amp[keep])
            i0, i1 = proc.index(lo), proc.index(hi - tol)
            n_bad[ch] += float(proc.bad[int(i0) : int(i1) + 1].sum()) / proc.sfreq
        if eeg and starts_a.size:
            from mmme.eeg.events import eeg_window_features  # MNE only when needed

            block.update(
                eeg_window_features(
                    data[eeg_rows], times, sfreq, eeg, eog, starts_a, win_s, eeg_params or {}
                )
            )
        rows.append(block)
        seen_s += hi - lo
        owned_until = hi
        n_chunks += 1
        if progress is not None:
            progress(hi - grid0)  # type: ignore[operator]
    windows = pd.concat([pd.DataFrame(r) for r in rows], ignore_index=True) if rows else (
        pd.DataFrame(columns=["start_s", "stop_s"])
    )
    ev_out = {
        ch: {k: np.concatenate(v) if v else np.zeros(0) for k, v in d.items()}
        for ch, d in events.items()
    }
    # kept parts tile the session, so seen_s is its length
    bad = {ch: min(n_bad[ch] / seen_s, 1.0) if seen_s > 0 else float("nan") for ch in n_bad}
    return StreamResult(windows=windows, events=ev_out, bad_fraction=bad, n_chunks=n_chunks)
