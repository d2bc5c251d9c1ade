"""XDF (Lab Streaming Layer) import: a small XDF writer after the specification, checked against
``pyxdf``'s own reader, then ``mmme import generic`` on files with a known clock truth.

XDF 1.0 (https://github.com/sccn/xdf/wiki/Specifications): the magic ``XDF:``, then chunks
``[NumLengthBytes][Length][Tag: uint16][Content]``, where ``Length`` counts the tag and the content
and ``NumLengthBytes`` (1, 4 or 8) says how wide ``Length`` is. Tags: 1 FileHeader (XML),
2 StreamHeader (stream id: uint32, XML), 3 Samples (stream id, variable-length sample count, each
sample ``[TimeStampBytes: 0 or 8][TimeStamp: double][values]``; numbers little-endian, strings as
variable-length length + UTF-8 bytes), 4 ClockOffset (stream id, collection time: double, offset
value: double), 5 Boundary (a fixed 16-byte UUID), 6 StreamFooter (stream id, XML). An omitted
time stamp is the previous one plus ``1 / nominal_srate``.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store
from mmme.errors import InputError
from mmme.io.generic import import_generic

#: The Boundary chunk's UUID (XDF specification).
BOUNDARY = bytes.fromhex("43A546DCCBF5410FB30ED5467383CBE4")
_NUMERIC = {"float32": "<f4", "double64": "<f8", "int8": "<i1", "int16": "<i2", "int32": "<i4"}
_NUMERIC |= {"int64": "<i8"}


@dataclass
class XStream:
    """One stream to write: header fields, samples ``(n, channels)``, per-sample stamps."""

    sid: int
    name: str
    type: str
    fmt: str  # a key of _NUMERIC or "string"
    srate: float
    values: list[list] | np.ndarray
    stamps: np.ndarray
    labels: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    #: ``(collection time, offset value)`` of the ClockOffset chunks.
    offsets: list[tuple[float, float]] = field(default_factory=list)

    @property
    def n_channels(self) -> int:
        return len(self.values[0])


def _varlen(n: int) -> bytes:
    if n < 1 << 8:
        return b"\x01" + struct.pack("<B", n)
    if n < 1 << 32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def _chunk(tag: int, content: bytes) -> bytes:
    body = struct.pack("<H", tag) + content
    return _varlen(len(body)) + body


def _xml(tag: str, fields: dict, extra: ET.Element | None = None) -> bytes:
    root = ET.Element(tag)
    for k, v in fields.items():
        ET.SubElement(root, k).text = str(v)
    if extra is not None:
        root.append(extra)
    return b'<?xml version="1.0"?>' + ET.tostring(root, encoding="utf-8")


def _header(s: XStream) -> bytes:
    desc = ET.Element("desc")
    if s.labels:
        chans = ET.SubElement(desc, "channels")
        for i, label in enumerate(s.labels):
            ch = ET.SubElement(chans, "channel")
            ET.SubElement(ch, "label").text = label
            ET.SubElement(ch, "unit").text = s.units[i] if s.units else ""
            ET.SubElement(ch, "type").text = s.type
    fields = {
        "name": s.name,
        "type": s.type,
        "channel_count": s.n_channels,
        "nominal_srate": repr(float(s.srate)),
        "channel_format": s.fmt,
        "source_id": f"src{s.sid}",
        "version": "1.1",
        "created_at": "0",
    }
    return struct.pack("<I", s.sid) + _xml("info", fields, desc)


def _samples(s: XStream, a: int, b: int) -> bytes:
    """Samples ``a..b-1``; a stamp is left out when the reader would deduce it exactly."""
    out = [struct.pack("<I", s.sid), _varlen(b - a)]
    prev = None
    for k in range(a, b):
        ts = float(s.stamps[k])
        if prev is not None and s.srate > 0 and prev + 1.0 / s.srate == ts:
            out.append(b"\x00")
        else:
            out.append(b"\x08" + struct.pack("<d", ts))
        prev = ts
        if s.fmt == "string":
            for v in s.values[k]:
                raw = str(v).encode("utf-8")
                out.append(_varlen(len(raw)) + raw)
        else:
            out.append(np.asarray(s.values[k], dtype=_NUMERIC[s.fmt]).tobytes())
    return b"".join(out)


def _footer(s: XStream) -> bytes:
    offsets = ET.Element("clock_offsets")
    for t, v in s.offsets:
        o = ET.SubElement(offsets, "offset")
        ET.SubElement(o, "time").text = repr(t)
        ET.SubElement(o, "value").text = repr(v)
    fields = {
        "first_timestamp": repr(float(s.stamps[0])),
        "last_timestamp": repr(float(s.stamps[-1])),
        "sample_count": len(s.stamps),
    }
    return struct.pack("<I", s.sid) + _xml("info", fields, offsets)


def write_xdf(path: Path, streams: list[XStream], chunk: int = 100) -> None:
    """Write an XDF file: headers, then samples and clock offsets interleaved in time as a
    recorder writes them (Boundary chunks between), then the footers."""
    parts = [b"XDF:", _chunk(1, _xml("info", {"version": "1.0"}))]
    parts += [_chunk(2, _header(s)) for s in streams]
    events = []  # (time, order, bytes)
    for s in streams:
        for a in range(0, len(s.stamps), chunk):
            b = min(len(s.stamps), a + chunk)
            events.append((float(s.stamps[b - 1]), 1, _chunk(3, _samples(s, a, b))))
        for t, v in s.offsets:
            content = struct.pack("<I", s.sid) + struct.pack("<d", t) + struct.pack("<d", v)
            events.append((t, 0, _chunk(4, content)))
    for i, (_, _, data) in enumerate(sorted(events, key=lambda e: (e[0], e[1]))):
        parts.append(data)
        if i % 5 == 4:
            parts.append(_chunk(5, BOUNDARY))
    parts += [_chunk(6, _footer(s)) for s in streams]
    path.write_bytes(b"".join(parts))


# --- the recording ------------------------------------------------------------------------------

SFREQ = 250.0
N = 1000  # 4 s
LOCAL0 = 5000.0  # the physio device's LSL clock at its first sample
C0, DRIFT = -4990.0, 40e-6  # its clock offset to the recorder: C0 + DRIFT * (t - LOCAL0)
TRIG_OFFSET = 2.0  # the trigger device's constant clock offset


def _regular(t0: float, n: int, sfreq: float) -> np.ndarray:
    """Stamps accumulated as the reader deduces them (so that most can be left out)."""
    out = np.empty(n)
    out[0] = t0
    for k in range(1, n):
        out[k] = out[k - 1] + 1.0 / sfreq
    return out


def physio_values() -> np.ndarray:
    t = np.arange(N) / SFREQ
    ecg = 1.5 * np.sin(2 * np.pi * 1.2 * t)  # millivolts
    eda = 2.0 + 0.25 * t  # microsiemens
    return np.column_stack([ecg, eda]).astype(np.float32)


def recorder_time(local: np.ndarray) -> np.ndarray:
    """Recorder-clock time of physio stamps: what pyxdf's clock synchronisation gives."""
    return local + C0 + DRIFT * (local - LOCAL0)


def streams(physio_stamps: np.ndarray | None = None, *, marker_srate: float = 0.0) -> list:
    stamps = _regular(LOCAL0, N, SFREQ) if physio_stamps is None else physio_stamps
    offset_times = LOCAL0 + np.arange(0.0, 4.01, 0.5)
    physio = XStream(
        sid=1,
        name="BioAmp.Physio 2",
        type="Physio",
        fmt="float32",
        srate=SFREQ,
        values=physio_values(),
        stamps=stamps,
        labels=["ECG", "EDA"],
        units=["millivolts", "microsiemens"],
        offsets=[(float(t), float(C0 + DRIFT * (t - LOCAL0))) for t in offset_times],
    )
    # recorded on the recorder's machine: no clock offset (the first marker is before the physio)
    markers = XStream(
        sid=2,
        name="Markers",
        type="Markers",
        fmt="string",
        srate=marker_srate,
        values=[["101"], ["start"], ["102"], [" 103 "]],
        stamps=np.array([9.5, 11.0, 12.5, 13.0]),
    )
    triggers = XStream(
        sid=3,
        name="Triggers",
        type="Markers",
        fmt="int32",
        srate=0.0,
        values=[[7], [8]],
        stamps=np.array([10.5, 12.0]) - TRIG_OFFSET,
        offsets=[(8.0, TRIG_OFFSET), (11.0, TRIG_OFFSET), (14.0, TRIG_OFFSET)],
    )
    return [physio, markers, triggers]


@pytest.fixture(scope="module")
def xdf_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("xdf") / "rec.xdf"
    write_xdf(p, streams())
    return p


def test_writer_read_back_by_pyxdf(xdf_file):
    import pyxdf

    written = {s.sid: s for s in streams()}
    raw, header = pyxdf.load_xdf(str(xdf_file), synchronize_clocks=False, dejitter_timestamps=False)
    assert header["info"]["version"] == ["1.0"]
    got = {int(s["info"]["stream_id"]): s for s in raw}
    assert sorted(got) == [1, 2, 3]
    for sid, w in written.items():
        s = got[sid]
        assert s["info"]["name"] == [w.name] and s["info"]["channel_format"] == [w.fmt]
        np.testing.assert_array_equal(s["time_stamps"], w.stamps)  # elided stamps deduced exactly
        assert s["footer"]["info"]["sample_count"] == [str(len(w.stamps))]
        assert s["clock_times"] == [t for t, _ in w.offsets]
        assert s["clock_values"] == [v for _, v in w.offsets]
    np.testing.assert_array_equal(got[1]["time_series"], physio_values())
    assert got[1]["time_series"].dtype == np.float32
    chans = got[1]["info"]["desc"][0]["channels"][0]["channel"]
    assert [c["label"][0] for c in chans] == ["ECG", "EDA"]
    assert [c["unit"][0] for c in chans] == ["millivolts", "microsiemens"]
    assert got[2]["time_series"] == [["101"], ["start"], ["102"], [" 103 "]]
    np.testing.assert_array_equal(got[3]["time_series"], [[7], [8]])
    # most physio stamps were left out of the file (9 bytes each otherwise)
    assert xdf_file.stat().st_size < N * (1 + 2 * 4) + 8 * N // 10 + 4000
    # with synchronisation pyxdf maps each stream onto the recorder's clock
    synced = {int(s["info"]["stream_id"]): s for s in pyxdf.load_xdf(str(xdf_file))[0]}
    np.testing.assert_allclose(
        synced[1]["time_stamps"], recorder_time(written[1].stamps), atol=1e-7, rtol=0
    )
    np.testing.assert_allclose(synced[3]["time_stamps"], [10.5, 12.0], atol=1e-9, rtol=0)


def test_cli_import_generic_xdf_streams_markers_and_clocks(xdf_file, tmp_path):
    store = tmp_path / "store"
    r = CliRunner().invoke(app, ["import", "generic", str(xdf_file), str(store)])
    assert r.exit_code == 0, r.output
    st = Store(store)
    ses = st.session("S01", "1")
    # the stream keeps its own name, dots and all; markers are a device of their own
    assert sorted(ses.streams) == ["bioamp_physio_2"]
    sig = ses.streams["bioamp_physio_2"]
    assert sig.ch_names == ["ECG", "EDA"] and sig.sfreq == SFREQ and sig.n_samples == N
    assert sig.units == ["V", "microsiemens"]
    data, times = sig.get_data()
    truth = physio_values().astype(float).T * np.array([[1e-3], [1.0]])  # mV -> V
    assert data.shape == (2, N)
    np.testing.assert_allclose(data, truth, rtol=1e-6)
    # the common clock: recorder time since the first stamp of any stream (the marker at 9.5 s)
    t0 = 9.5
    expected = recorder_time(_regular(LOCAL0, N, SFREQ)) - t0
    clock = ses.clocks["bioamp_physio_2"]
    assert clock.offset == pytest.approx(expected[0], abs=1e-6)
    assert clock.drift_ppm == pytest.approx(DRIFT * 1e6, abs=0.05)
    np.testing.assert_allclose(times, expected, atol=1e-6, rtol=0)
    mk = ses.markers.sort_values("time_s").reset_index(drop=True)
    assert mk["device"].unique().tolist() == ["lsl_markers"]
    assert mk["code"].tolist() == [101, 7, 8, 102, 103]
    np.testing.assert_allclose(
        mk["time_s"], np.array([9.5, 10.5, 12.0, 12.5, 13.0]) - t0, atol=1e-9, rtol=0
    )
    np.testing.assert_allclose(mk["device_time_s"], mk["time_s"], atol=0, rtol=0)
    assert ses.clocks["lsl_markers"].offset == 0 and ses.clocks["lsl_markers"].scale == 1
    skipped = [s for s in st.report["skipped"] if s.get("stream") == "Markers"]
    assert len(skipped) == 1 and skipped[0]["reason"].startswith("1 marker(s)")
    trial = st.trial("S01", "1", "1")
    assert trial.start_s == 0.0
    assert trial.stop_s == pytest.approx(expected[0] + (1 + DRIFT) * N / SFREQ, abs=1e-6)


def test_xdf_jittered_stamps_fit_but_a_gap_is_named(tmp_path):
    rng = np.random.default_rng(3)
    # LSL stamps jitter by more than half a sample (2 ms at 250 Hz) around the device clock
    regular = _regular(LOCAL0, N, SFREQ)
    jittered = regular + rng.uniform(-3e-3, 3e-3, N)
    p = tmp_path / "jitter.xdf"
    write_xdf(p, streams(jittered))
    ses = import_generic(p, tmp_path / "st").session("S01", "1")
    expected = recorder_time(regular) - 9.5
    # the fitted clock averages the jitter out: far closer to the truth than any single stamp
    np.testing.assert_allclose(ses.streams["bioamp_physio_2"].times(0, N), expected, atol=5e-4)
    assert ses.clocks["bioamp_physio_2"].residual_max_s > 2e-3  # the jitter is on record
    # 0.2 s of samples lost at 2 s: one line cannot map the stream; nothing is written
    gap = np.concatenate([regular[:500], regular[550:] + 0.0])
    s = streams(gap)
    s[0].values = physio_values()[: len(gap)]
    write_xdf(tmp_path / "gap.xdf", s)
    with pytest.raises(InputError, match=r"gap\.xdf.*stream 'BioAmp\.Physio 2'.*near 2\.0 s"):
        import_generic(tmp_path / "gap.xdf", tmp_path / "st2")
    assert not (tmp_path / "st2").exists()


def test_xdf_string_markers_with_a_nominal_rate_and_a_video(tmp_path):
    import cv2

    p = tmp_path / "rec.xdf"
    write_xdf(p, streams(marker_srate=10.0))  # some marker outlets declare a rate
    video = tmp_path / "face.avi"
    vw = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (16, 16))
    for k in range(10):
        vw.write(np.full((16, 16, 3), 20 * k, np.uint8))
    vw.release()
    st = import_generic(video, tmp_path / "st", signals=[p])
    ses = st.session("S01", "1")
    assert sorted(ses.streams) == ["bioamp_physio_2"]
    assert sorted(ses.markers["code"]) == [7, 8, 101, 102, 103]
    # the video shares no clock with the LSL streams: the report says what was assumed
    quirks = [q["quirk"] for q in st.report["quirks"] if "start together" in q["quirk"]]
    assert len(quirks) == 1 and "video" in quirks[0]
    assert ses.frames is not None and len(ses.frames.table) == 10
