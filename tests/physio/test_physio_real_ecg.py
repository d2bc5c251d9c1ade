"""Real recording: the 5-minute 1 kHz OpenSignals ECG bundled with biosignalsnotebooks."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.physio import hrv_features, process_signal
from mmme.physio.io import read_recording


def _sample(name: str) -> Path:
    spec = importlib.util.find_spec("biosignalsnotebooks")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("biosignalsnotebooks is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "notebook_files" / "osf_files" / "signal_samples" / name
    if not path.exists():
        pytest.skip(f"{name} is not in this biosignalsnotebooks release")
    return path


@pytest.fixture(scope="module")
def ecg_path() -> Path:
    return _sample("ecg_5_min.h5")


@pytest.fixture(scope="module")
def proc(ecg_path):
    rec = read_recording(ecg_path)
    assert rec.sfreq == 1000.0 and rec.ch_names == ["ECG"]
    assert rec.data.shape == (1, 300_000)
    return process_signal(rec.pick("ECG"), rec.sfreq, "ecg", channel="ECG")


def test_r_peaks_and_heart_rate(proc):
    peaks = proc.events["peaks"]
    assert 380 <= len(peaks) <= 390  # a careful reader counts about 385
    assert np.mean(proc.signals["ECG_Rate"]) == pytest.approx(77, abs=1.5)


def test_r_peaks_agree_with_opensignals(ecg_path, proc):
    """The file also stores the R-peaks OpenSignals' HRV plugin found: we agree beat by beat."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(ecg_path, "r") as fh:
        dev = next(iter(fh.values()))
        ref = np.asarray(dev["plugin"]["hrv"]["RR_peaks1"][:])
    ours = proc.events["peaks"]
    d = np.abs(ref[:, None] - ours[None, :]).min(axis=1)
    assert (d <= 40).mean() >= 0.99  # within 40 ms


def test_hrv_domains(proc):
    hrv = hrv_features(proc)
    assert 700 < hrv["HRV_MeanNN"] < 850  # 60000 / 77 = 779 ms
    for k in ("HRV_RMSSD", "HRV_SDNN", "HRV_LF", "HRV_HF", "HRV_SD1", "HRV_SampEn"):
        assert np.isfinite(hrv[k]), k


def test_cli_signals_json(ecg_path):
    res = CliRunner().invoke(app, ["signals", str(ecg_path), "--kind", "ecg", "--json"],
                             env={**os.environ, "COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert 380 <= out["n_beats"] <= 390
    assert out["hr_mean_bpm"] == pytest.approx(77, abs=1.5)
    assert 5 < out["rmssd_ms"] < 80


def test_opensignals_txt_reader():
    rec = read_recording(_sample("ecg_sample.txt"))
    assert rec.sfreq == 200.0 and rec.ch_names == ["ECG"]
    proc = process_signal(rec.pick("ecg"), rec.sfreq, "ecg")
    assert 40 < np.nanmean(proc.signals["ECG_Rate"]) < 120
