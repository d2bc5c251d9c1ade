"""One reader for signal files: ``mmme signals`` and ``mmme import generic`` read alike.

Issue 9: a 500 Hz CSV with a time column read with ``--sfreq 1000`` gave HR 151 instead of 75.5,
without ``--sfreq`` it was refused, and a one-column CSV headed ``ECG`` was split into
``['EC', 'Unnamed: 1']`` by the delimiter guess.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.errors import InputError
from mmme.io.generic import import_generic
from mmme.io.signals import read_csv_signals, read_recording, sniff_delimiter

ENV = {**os.environ, "COLUMNS": "80"}  # narrow: an error must still be one line


def _run(args):
    return CliRunner().invoke(app, args, env=ENV)


def _ecg_1k() -> np.ndarray:
    spec = importlib.util.find_spec("biosignalsnotebooks")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("biosignalsnotebooks is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "notebook_files" / "osf_files" / "signal_samples" / "ecg_5_min.h5"
    if not path.exists():
        pytest.skip("ecg_5_min.h5 is not in this biosignalsnotebooks release")
    return read_recording(path).pick("ECG").astype(float)


@pytest.fixture(scope="module")
def ecg500(tmp_path_factory):
    """The real ECG's first 2 minutes at 500 Hz, with a time column."""
    y = _ecg_1k()[:120_000:2]
    path = tmp_path_factory.mktemp("ecg") / "ecg500.csv"
    pd.DataFrame({"time": np.arange(y.size) / 500.0, "ECG": y}).to_csv(path, index=False)
    return path, y


def _json(res):
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout[res.stdout.index("{"):])


def test_rate_from_the_time_column(ecg500):
    path, y = ecg500
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _json(_run(["signals", str(path), "--kind", "ecg", "--json"]))
    assert out["sfreq"] == 500.0
    assert out["n_beats"] == 150
    # 150 beats in 120 s: 75 bpm; the interpolated rate's mean is 75.48 (151 at 1000 Hz)
    assert out["hr_mean_bpm"] == pytest.approx(75.48, abs=0.01)
    assert out["duration_s"] == 120.0
    assert "rate 500 Hz from time column 'time'" in out["notes"][0]
    # an agreeing --sfreq changes nothing
    agree = _json(_run(["signals", str(path), "--kind", "ecg", "--sfreq", "500", "--json"]))
    assert agree["hr_mean_bpm"] == out["hr_mean_bpm"]


def test_contradicting_sfreq_is_an_error_naming_both_rates(ecg500):
    path, _ = ecg500
    res = _run(["signals", str(path), "--kind", "ecg", "--sfreq", "1000"])
    assert res.exit_code != 0
    line = res.output.strip()
    assert "\n" not in line and "Traceback" not in res.output
    assert str(path) in line and "--sfreq 1000 Hz" in line and "500 Hz" in line
    # 0.1 % off is a crystal's error, 0.2 % is not
    assert read_csv_signals(path, sfreq=500.5).sfreq == 500.0
    with pytest.raises(InputError, match="501 Hz contradicts"):
        read_csv_signals(path, sfreq=501.0)


def test_one_column_csv_with_a_header(tmp_path):
    p = tmp_path / "one.csv"
    p.write_text("ECG\n0.5\n-0.25\n1.0\n")
    sd = read_csv_signals(p, sfreq=100.0)
    assert sd.ch_names == ["ECG"]
    assert sd.data[:, 0].tolist() == [0.5, -0.25, 1.0]
    rec = read_recording(p, sfreq=100.0)
    assert rec.ch_names == ["ECG"] and rec.data.shape == (1, 3)


@pytest.mark.parametrize(
    ("text", "names", "first"),
    [
        ("time,ECG,EDA\n0,1.5,2\n0.01,1.25,2\n0.02,1,2\n", ["ECG", "EDA"], [1.5, 2.0]),
        ("time;ECG\n0,00;1,5\n0,01;1,25\n0,02;-1,0\n", ["ECG"], [1.5]),  # decimal comma
        ("time\tECG\n0\t1.5\n0.01\t1.25\n0.02\t1\n", ["ECG"], [1.5]),
        ("time|ECG\n0|1.5\n0.01|1.25\n0.02|1\n", ["ECG"], [1.5]),
        ("time,ECG,\n0,1.5,\n0.01,1.25,\n0.02,1,\n", ["ECG"], [1.5]),  # trailing delimiter
        ('"time (s)","ECG, lead II"\n0,1.5\n0.01,1.25\n0.02,1\n', ["ECG, lead II"], [1.5]),
        ("Time [ms],ECG\n0,1.5\n10,1.25\n20,1\n", ["ECG"], [1.5]),  # milliseconds
    ],
)
def test_delimiters_headers_and_time_units(tmp_path, text, names, first):
    p = tmp_path / "sig.csv"
    p.write_text(text)
    sd = read_csv_signals(p)
    assert sd.ch_names == names
    assert sd.sfreq == 100.0
    assert sd.data[0].tolist() == first
    assert sd.data.shape == (3, len(names))


def test_headerless_table_and_sniffer():
    assert sniff_delimiter(["ECG", "0.5"]) == (",", ".")
    assert sniff_delimiter(["a;b", "1,5;2,5"]) == (";", ",")
    assert sniff_delimiter(["a;b", "1.5;2.5"]) == (";", ".")
    assert sniff_delimiter(["x\ty", "1\t2"]) == ("\t", ".")


def test_headerless_numbers(tmp_path):
    p = tmp_path / "raw.csv"
    p.write_text("1.0,2.0\n3.0,4.0\n")
    sd = read_csv_signals(p, sfreq=10.0)
    assert sd.ch_names == ["ch1", "ch2"] and sd.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_empty_cells_are_missing_samples_for_signals_but_not_for_a_store(tmp_path):
    p = tmp_path / "gap.csv"
    p.write_text("time,ECG\n0,1\n0.01,\n0.02,3\n0.03,4\n")
    sd = read_csv_signals(p)
    assert sd.n_missing == 1 and np.isnan(sd.data[1, 0]) and sd.data[2, 0] == 3.0
    with pytest.raises(InputError, match=r"gap\.csv, row 3, channel 'ECG': 1 empty cell"):
        import_generic(p, tmp_path / "st")


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, list[str], str]]:
    """name -> (file, extra CLI args, text the one-line error must hold)."""
    t = np.arange(100) / 100.0
    out = {}

    def csv(name, df):
        p = tmp_path / f"{name}.csv"
        df.to_csv(p, index=False)
        return p

    jit = t.copy()
    jit[40] += 0.007
    out["jitter"] = (csv("jitter", pd.DataFrame({"t": jit, "x": np.sin(t)})), [],
                     "sample 40 is 6.9 ms off a regular 100 Hz clock")
    gap = np.concatenate([t[:50], t[50:] + 0.5])
    out["gap"] = (csv("gap", pd.DataFrame({"t": gap, "x": np.sin(t)})), [],
                  "row 52: time column 't': a gap of 0.51 s (50 missing sample(s) at 100 Hz)")
    back = t.copy()
    back[30] = back[28]
    out["backwards"] = (csv("backwards", pd.DataFrame({"time": back, "x": t})), [],
                        "row 32: time column 'time': times must increase (0.29 s then 0.28 s)")
    out["contradicts"] = (csv("contra", pd.DataFrame({"time": t, "x": t})), ["--sfreq", "250"],
                          "--sfreq 250 Hz contradicts the time column 'time', whose steps give "
                          "100 Hz")
    text = pd.DataFrame({"time": t, "ECG": t.astype(object)})
    text.loc[7, "ECG"] = "n/a?"
    out["text"] = (csv("text", text), [], "row 9, channel 'ECG': 'n/a?' is not a number")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    out["empty"] = (empty, ["--sfreq", "100"], "empty file")
    header = tmp_path / "header.csv"
    header.write_text("time,ECG\n")
    out["header_only"] = (header, [], "no sample rows under the header ['time', 'ECG']")
    out["no_rate"] = (csv("norate", pd.DataFrame({"ECG": t})), [],
                      "no time column (named one of time, t")
    blank = tmp_path / "timeblank.csv"
    blank.write_text("time,ECG\n0,1\n,2\n0.02,3\n")
    out["time_blank"] = (blank, [], "row 3: time column 'time' is empty here")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    out["binary"] = (binary, ["--sfreq", "100"], "not a text table")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("time,ECG\n" + "".join(f"{k / 100},{k}\n" for k in range(60)) + "0.6,1,2\n")
    out["ragged"] = (ragged, [], "not a readable table")
    return out


BAD = ["jitter", "gap", "backwards", "contradicts", "text", "empty", "header_only", "no_rate",
       "time_blank", "binary", "ragged"]


@pytest.mark.parametrize("case", BAD)
def test_cli_bad_csv_is_one_line_naming_the_file(tmp_path, case):
    path, extra, expect = _bad_files(tmp_path)[case]
    res = _run(["signals", str(path), "--kind", "ecg", *extra])
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    line = res.output.strip()
    assert "\n" not in line, res.output
    assert line.startswith("error: file " + str(path)), line
    assert expect in line, line
    # mmme import generic reads the file by the same rules (its errors are the same)
    if case == "contradicts":
        return  # import generic has no --sfreq
    res = _run(["import", "generic", str(path), str(tmp_path / f"store_{case}")])
    assert res.exit_code != 0 and "Traceback" not in res.output
    line = res.output.strip()
    assert "\n" not in line and str(path) in line and expect in line, line
    assert not (tmp_path / f"store_{case}").exists()
    if case == "no_rate":  # and no --sfreq to suggest
        assert "add a time column" in line and "--sfreq" not in line


def test_import_generic_reads_csv_as_signals_does(tmp_path):
    """A semicolon CSV with a decimal comma: the same channels, rate and values both ways."""
    p = tmp_path / "phys.csv"
    t = np.arange(0, 3.0, 0.004)  # 250 Hz
    lines = ["Zeit;Time (s);ECG"]  # a first column that is not the time
    lines += [f"{k};{x:.3f}".replace(".", ",") + f";{np.sin(x):.6f}".replace(".", ",")
              for k, x in enumerate(t)]
    p.write_text("\n".join(lines) + "\n")
    rec = read_recording(p)
    assert rec.ch_names == ["Zeit", "ECG"] and rec.sfreq == 250.0
    st = import_generic(p, tmp_path / "st")
    ses = st.session("S01", "1")
    stream = next(iter(ses.streams.values()))
    assert stream.sfreq == 250.0 and list(stream.ch_names) == ["Zeit", "ECG"]
    # the store holds float32
    assert np.array_equal(stream.read(0, stream.n_samples), rec.data.astype(np.float32))
    report = json.loads((st.path / "import_report.json").read_text())
    assert any("rate 250 Hz from time column 'Time (s)'" in q.get("quirk", "")
               for q in report["quirks"])


def _xdf_module():
    path = Path(__file__).with_name("test_io_xdf.py")
    spec = importlib.util.spec_from_file_location("_xdf_writer", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_signals_reads_xdf_as_import_does(tmp_path):
    xdf = _xdf_module()
    p = tmp_path / "rec.xdf"
    xdf.write_xdf(p, xdf.streams())
    rec = read_recording(p)  # one regular stream: no --channel needed
    assert rec.ch_names == ["ECG", "EDA"] and rec.sfreq == xdf.SFREQ
    # millivolts -> volts, as in the store
    assert np.allclose(rec.data[0], xdf.physio_values()[:, 0] * 1e-3, atol=1e-9)
    st = import_generic(p, tmp_path / "st")
    stream = st.session("S01", "1").streams["bioamp_physio_2"]
    assert np.array_equal(stream.read(0, stream.n_samples), rec.data.astype(np.float32))
    res = _run(["signals", str(p), "--kind", "ecg", "--sfreq", str(2 * xdf.SFREQ)])
    assert res.exit_code != 0 and "contradicts the file's" in res.output


def test_signals_xdf_with_two_streams_picks_by_channel(tmp_path):
    xdf = _xdf_module()
    eeg = xdf.XStream(sid=4, name="EEG amp", type="EEG", fmt="float32", srate=100.0,
                      values=np.full((300, 1), 2.0, np.float32),
                      stamps=xdf.LOCAL0 + np.arange(300) / 100.0, labels=["CZ"], units=["uV"])
    p = tmp_path / "two.xdf"
    xdf.write_xdf(p, [*xdf.streams(), eeg])
    with pytest.raises(InputError, match=r"two\.xdf: several streams, pick a channel"):
        read_recording(p)
    rec = read_recording(p, channel="cz")
    assert rec.ch_names == ["CZ"] and rec.sfreq == 100.0
    assert np.allclose(rec.data, 2e-6)  # microvolts -> volts
    assert read_recording(p, channel="EDA").ch_names == ["ECG", "EDA"]
    res = _run(["signals", str(p), "--kind", "ecg"])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "several streams" in res.output and "\n" not in res.output.strip()
