"""Neuroscan Curry and BIOPAC .acq readers, alone and inside the MMME raw-layout importer.

Neither MNE nor bioread can write these formats. The Curry test writes a Curry 8 recording by
hand (the documented text parameter/event files plus the float32 sample-major data file) and
reads it through ``mne.io.read_raw_curry``/``curryreader``. No .acq file ships with bioread and
none can be written offline, so the .acq tests build the file object from bioread's own
``Channel`` class and substitute ``bioread.read_file``: they cover mmme's mapping (labels, units,
frequency dividers, digital trigger bits), not bioread's binary parsing.
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
from raw_builder import EEG_START, PHYSIO_START, marker_times

from mmme.errors import InputError
from mmme.executor import Executor
from mmme.io.acq import read_biopac_acq
from mmme.io.curry import curry_events, read_curry
from mmme.io.mmme import import_mmme

INLINE = Executor(n_jobs=1, progress=False)


def write_curry(
    path: Path, data_uv: np.ndarray, names: list[str], sfreq: float, events: list[tuple[int, int]]
) -> None:
    """A Curry 8 raw recording: ``path`` (.cdt), ``.cdt.dpa`` and ``.cdt.cef``."""
    n_ch, n = data_uv.shape
    data_uv.T.astype("<f4").tofile(path)  # sample-major float32
    pos = "\n".join(f"{np.cos(i):.3f} {np.sin(i):.3f} 0.5" for i in range(n_ch))
    dpa = f"""FileVersion = 804
NumSamples = {n}
NumChannels = {n_ch}
NumTrials = 1
SampleFreqHz = {sfreq:g}
TriggerOffsetUsec = 0
DataFormat = FLOAT
DataSampOrder = SAMPLE
SampleTimeUsec = {1e6 / sfreq:g}
DataByteOrder = LITTLE_ENDIAN
StartYear = 2023
StartMonth = 7
StartDay = 21
StartHour = 16
StartMin = 45
StartSec = 38
StartMillisec = 0
AmplifierInfo = SynAmps2
DEVICE_PARAMETERS START
  DataUnit = uV
  NumChanThisGroup = {n_ch}
DEVICE_PARAMETERS END
LABELS START
LABELS END
LABELS START_LIST
{chr(10).join(names)}
LABELS END_LIST
SENSORS START
SENSORS END
SENSORS START_LIST
{pos}
SENSORS END_LIST
"""
    path.with_name(path.name + ".dpa").write_text(dpa)
    rows = "\n".join(f"{s} 1 {c} 0 {s} {s + 1} 0 0 0 0 0" for s, c in events)
    remarks = "\n".join("Trigger" for _ in events)
    cef = (
        "NUMBER_LIST START\nNUMBER_LIST END\nNUMBER_LIST START_LIST\n"
        f"{rows}\nNUMBER_LIST END_LIST\n"
        f"REMARK_LIST START_LIST\n{remarks}\nREMARK_LIST END_LIST\n"
    )
    path.with_name(path.name + ".cef").write_text(cef)


def test_read_curry_data_units_and_event_codes(tmp_path):
    sfreq, n = 250.0, 1000
    rng = np.random.default_rng(1)
    data = rng.standard_normal((3, n)) * 20  # µV
    p = tmp_path / "Acquisition 01.cdt"
    write_curry(p, data, ["FP1", "FZ", "OZ"], sfreq, [(100, 101), (600, 100)])
    raw = read_curry(p)
    assert raw.ch_names == ["FP1", "FZ", "OZ"] and raw.info["sfreq"] == sfreq
    np.testing.assert_allclose(raw.get_data(), data.astype("<f4") * 1e-6, rtol=1e-6)
    assert list(raw.annotations.description) == ["101", "100"]  # codes, not the remarks
    np.testing.assert_allclose(raw.annotations.onset, [0.4, 2.4])
    ev = curry_events(p)
    assert ev["code"].tolist() == [101, 100] and ev["sample"].tolist() == [100, 600]
    (tmp_path / "Acquisition 01.cdt.dpa").write_text("NumSamples = 3\n")
    with pytest.raises(InputError, match=r"Acquisition 01\.cdt.*cannot read Curry"):
        read_curry(p)


def _acq_file(data: np.ndarray, labels: list[str], units: list[str], dividers: list[int]):
    from bioread.biopac import Channel

    chans = []
    for j, (lab, unit, div) in enumerate(zip(labels, units, dividers, strict=True)):
        col = data[::div, j]
        ch = Channel(
            frequency_divider=div,
            raw_scale_factor=1.0,
            raw_offset=0.0,
            name=lab,
            units=unit,
            fmt_str="<f8",
            samples_per_second=1000.0 / div,
            point_count=len(col),
            order_num=j,
        )
        ch.raw_data = col.copy()
        chans.append(ch)
    return types.SimpleNamespace(channels=chans, samples_per_second=1000.0)


def test_read_biopac_acq_upsamples_divided_channels(monkeypatch, tmp_path):
    import bioread

    n = 1000
    t = np.arange(n) / 1000.0
    data = np.column_stack([np.sin(2 * np.pi * t), np.repeat(np.arange(n // 4), 4) * 1.0])
    acq = _acq_file(data, ["ECG, X, RSPEC-R", "EDA, X, PPGED-R"], ["mV", "microsiemens"], [1, 4])
    monkeypatch.setattr(bioread, "read_file", lambda p: acq)
    bp = read_biopac_acq(tmp_path / "x.acq")
    assert bp["names"] == ["ECG", "EDA"] and bp["units"] == ["mV", "microsiemens"]
    assert bp["sfreq"] == 1000.0 and bp["data"].shape == (n, 2)
    np.testing.assert_allclose(bp["data"][:, 1], data[:, 1])  # nearest-neighbour upsampling
    (tmp_path / "bad.acq").write_bytes(b"not an acq file")
    monkeypatch.undo()
    with pytest.raises(InputError, match=r"bad\.acq.*cannot read AcqKnowledge"):
        read_biopac_acq(tmp_path / "bad.acq")


def test_mmme_import_with_curry_eeg_and_acq_physio(make_raw, monkeypatch, tmp_path):
    import bioread
    from scipy.io import loadmat

    raw = make_raw()
    ses = raw["root"] / "S01"
    # EEG: the EDF replaced by a Curry recording with the same markers
    (ses / "eeg" / "S01.edf").unlink()
    sfreq = 250.0
    dur = float(marker_times()[-1][1]) + 4.0 - EEG_START
    n = int(dur * sfreq)
    data = np.random.default_rng(2).standard_normal((4, n)) * 10
    events = [(int(round((t - EEG_START) * sfreq)), c) for c, t in marker_times()]
    write_curry(ses / "eeg" / "Acquisition 01.cdt", data, ["FP1", "FZ", "OZ", "CZ"], sfreq, events)
    # physio: the .mat's channels served as an .acq file
    m = loadmat(ses / "physio" / "S01.mat")
    labels = [str(s).strip() for s in m["labels"]]
    (ses / "physio" / "S01.mat").unlink()
    (ses / "physio" / "S01.acq").write_bytes(b"")
    acq = _acq_file(m["data"], labels, ["mV", "uS"] + ["Volts"] * 8, [1] * len(labels))
    monkeypatch.setattr(bioread, "read_file", lambda p: acq)
    st = import_mmme(raw["root"], tmp_path / "store", executor=INLINE)
    s = st.session("S01")
    assert s.reference == "eeg" and s.streams["eeg"].ch_names == ["FP1", "FZ", "OZ", "CZ"]
    assert s.streams["physio"].ch_names == ["ECG", "EDA"]
    assert s.clocks["physio"].to_common(0.0) == pytest.approx(PHYSIO_START - EEG_START, abs=3e-3)
    eeg_codes = s.markers[s.markers["device"] == "eeg"]["code"].tolist()
    assert eeg_codes == [c for c, _ in marker_times()]
    assert st.trials["trial"].tolist() == ["101", "112", "125"]
    assert len(st.annotations) == 2
