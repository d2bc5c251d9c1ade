"""``mmme signals`` on CSV and EDF files, and ``mmme physio STORE`` (cached, resumable)."""

from __future__ import annotations

import json
import os

import mne
import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.quality import SignalQualityWarning

ENV = {**os.environ, "COLUMNS": "200"}


def _run(args):
    return CliRunner().invoke(app, args, env=ENV)


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    fs = 100
    d = tmp_path_factory.mktemp("csv")
    rsp = nk.rsp_simulate(duration=60, sampling_rate=fs, respiratory_rate=12, random_state=1)
    eda = nk.eda_simulate(duration=60, sampling_rate=fs, scr_number=3, random_state=1)
    skt = 33.0 - 0.2 * np.arange(60 * fs) / fs / 60
    path = d / "rec.csv"
    pd.DataFrame({"time": np.arange(60 * fs) / fs, "RSP": rsp, "EDA": eda, "SKT": skt,
                  "dead": 0.0}).to_csv(path, index=False)
    return path


def test_signals_csv_kinds(csv_file):
    out = json.loads(_run(["signals", str(csv_file), "--kind", "rsp", "--sfreq", "100",
                           "--json"]).output)
    assert out["rate_mean_bpm"] == pytest.approx(12, abs=1.5)
    out = json.loads(_run(["signals", str(csv_file), "--kind", "eda", "--sfreq", "100",
                           "--json"]).output)
    assert out["n_scr"] == 3 and out["tonic_mean"] > 0
    out = json.loads(_run(["signals", str(csv_file), "--kind", "skt", "--sfreq", "100",
                           "--json"]).output)
    assert out["mean"] == pytest.approx(32.9, abs=0.01)
    assert out["slope_per_min"] == pytest.approx(-0.2, abs=0.02)


def test_signals_csv_errors(csv_file):
    # the time column gives the rate; a contradicting --sfreq is an error
    res = _run(["signals", str(csv_file), "--kind", "eda", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["sfreq"] == 100.0
    res = _run(["signals", str(csv_file), "--kind", "eda", "--sfreq", "200"])
    assert res.exit_code == 2 and "200 Hz contradicts the time column 'time'" in res.output
    res = _run(["signals", str(csv_file), "--kind", "ecg", "--sfreq", "100"])
    assert res.exit_code == 2 and "--channel" in res.output
    with pytest.warns(SignalQualityWarning, match="channel 'dead'.*flat"):
        res = _run(["signals", str(csv_file), "--kind", "eda", "--sfreq", "100", "--channel",
                    "dead", "--json"])
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert out["n_scr"] is None and "flat" in out["quality"]["problems"]


def test_signals_eeg_edf(tmp_path):
    fs = 250.0
    t = np.arange(int(20 * fs)) / fs
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, t.size)) * 2e-6
    x[0] += 20e-6 * np.sin(2 * np.pi * 10 * t)  # alpha at OZ
    x[1] += 20e-6 * np.sin(2 * np.pi * 6 * t)  # theta at FZ
    raw = mne.io.RawArray(x, mne.create_info(["OZ", "FZ", "CZ"], fs, "eeg"), verbose="error")
    path = tmp_path / "rec.edf"
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    res = _run(["signals", str(path), "--kind", "eeg", "--json"])
    assert res.exit_code == 0, res.output
    bp = json.loads(res.stdout)["band_power"]
    assert set(bp) == {"OZ", "FZ", "CZ"}
    for ch in bp.values():
        assert sum(ch.values()) == pytest.approx(1.0)
    assert max(bp["OZ"], key=bp["OZ"].get) == "alpha"
    assert max(bp["FZ"], key=bp["FZ"].get) == "theta"
