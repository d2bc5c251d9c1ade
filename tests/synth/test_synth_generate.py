"""The generated data set: raw layout, ground truth, determinism, importer round trip."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest
import scipy.io

from mmme.data.annotations import me_rule, parse_aus
from mmme.errors import InputError
from mmme.executor import Executor
from mmme.synth.eeg import EEG_CHANNELS
from mmme.synth.generate import MARKER_CATEGORY, SynthConfig, generate
from mmme.synth.writers import BIOPAC_LABELS, CODING_COLUMNS

SUBJECTS = ("S01", "S02")


def _frames(raw: Path, subject: str) -> pd.DataFrame:
    rows = []
    for p in sorted((raw / subject / "video").rglob("*.jpg")):
        f = p.stem.split("-")
        assert len(f) == 9, p.name
        ms = int(f[3]) * 3600_000 + int(f[4]) * 60_000 + int(f[5]) * 1000 + int(f[6])
        rows.append({"name": p.stem, "stamp": "-".join(f[3:8]), "ms": ms, "code": int(f[7]),
                     "marker": int(f[8]), "date": "-".join(f[:3])})
    df = pd.DataFrame(rows).sort_values(["date", "ms"]).reset_index(drop=True)
    df["frame"] = df.groupby("marker").cumcount()
    return df


def _mat_markers(path: Path) -> tuple[list[int], np.ndarray, dict]:
    m = scipy.io.loadmat(path)
    labels = [str(x).rstrip() for x in m["labels"]]
    sf = 1000.0 / float(np.squeeze(m["isi"]))
    bits = np.stack([m["data"][:, labels.index(f"Digital (STP Input {i})")] > 2.5
                     for i in range(8)], 1)
    code = (bits * (1 << np.arange(8))).sum(1)
    edges = np.flatnonzero((code[1:] != 0) & (code[:-1] == 0)) + 1
    return [int(code[k + 2]) for k in edges], edges / sf, m


def test_layout_and_files(synth_tiny_raw: Path) -> None:
    raw = synth_tiny_raw
    assert (raw / "coding_file.xlsx").is_file()
    for s in SUBJECTS:
        edf = list((raw / s / "eeg").glob("*.edf"))
        mat = list((raw / s / "physio").glob("*.mat"))
        assert len(edf) == 1 and len(mat) == 1
        r = mne.io.read_raw_edf(edf[0], verbose="error")
        assert r.ch_names == list(EEG_CHANNELS)
        codes = [int(d) for d in r.annotations.description]
        mat_codes, _, m = _mat_markers(mat[0])
        assert mat_codes == codes  # every device gets the same marker sequence
        assert 77 in codes and codes.count(100) == 2
        clips = [c for c in codes if c not in (77, 100)]
        assert all(c in MARKER_CATEGORY for c in clips)
        labels = [str(x).rstrip() for x in m["labels"]]
        assert labels == list(BIOPAC_LABELS)
        assert m["data"].shape[1] == 17 and str(np.squeeze(m["isi_units"])) == "ms"
        digital = m["data"][:, 8:16]
        assert set(np.unique(digital)) <= {0.0, 5.0}
        fr = _frames(raw, s)
        assert sorted(fr["marker"].unique()) == sorted(clips)
        assert fr["ms"].is_monotonic_increasing
        # frame codes count frames modulo 1000
        assert np.all(np.diff(fr["code"]) % 1000 == 1)
        eeg = r.get_data(picks=["O1", "VEO"])
        assert 1e-6 < eeg[0].std() < 1e-4


def test_ground_truth_matches_coding_file_and_frames(synth_tiny_raw: Path) -> None:
    raw = synth_tiny_raw
    gt = pd.read_csv(raw / "ground_truth.csv", dtype={"trial": str})
    xl = pd.read_excel(raw / "coding_file.xlsx")
    assert list(xl.columns) == list(CODING_COLUMNS)
    assert len(gt) == len(xl) == 2 * 2 * 2
    assert set(gt["type"]) == {"ME", "MaE"}
    frames = {s: _frames(raw, s) for s in SUBJECTS}
    for (_, g), (_, x) in zip(gt.iterrows(), xl.iterrows(), strict=True):
        fr = frames[g["subject"]]
        tf = fr[fr["marker"] == int(g["trial"])].reset_index(drop=True)
        ms0 = tf["ms"].iloc[0]
        for col, fcol, tcol in (("onset", "OnsetFrame", "OnsetTime"),
                                ("apex", "ApexFrame", "ApexTime"),
                                ("offset", "OffsetFrame", "OffsetTime")):
            k = int(g[f"{col}_frame"])
            assert tf["stamp"].iloc[k] == x[fcol]  # the stamp names the planted frame
            assert g[f"{col}_s"] == pytest.approx((tf["ms"].iloc[k] - ms0) / 1000, abs=1e-9)
            assert x[tcol] == pytest.approx(round(g[f"{col}_s"], 2), abs=1e-9)
        assert x["dif"] == g["apex_frame"] - g["onset_frame"]
        assert x["Marker"] == int(g["trial"]) and x["Subject"] == g["subject"]
        assert parse_aus(x["Action Units"]) == parse_aus(g["aus"].replace("+", ","))
        assert x["Macro/Micro"] == {"ME": "Micro", "MaE": "Macro"}[g["type"]]
        assert x["Filename"].split("_")[2] == g["trial"]
        # planted type agrees with the authors' rule, with a margin
        assert me_rule(g["onset_s"], g["apex_s"], g["offset_s"]) == g["type"]
        total = g["offset_s"] - g["onset_s"]
        if g["type"] == "ME":
            assert 0.18 <= total <= 0.47
        else:
            assert 0.53 <= total <= 4.0 and g["apex_s"] - g["onset_s"] >= 0.28


def test_responses_and_devices(synth_tiny_raw: Path) -> None:
    raw = synth_tiny_raw
    gt = pd.read_csv(raw / "ground_truth.csv", dtype={"trial": str})
    resp = pd.read_csv(raw / "ground_truth_responses.csv", dtype={"trial": str})
    dev = json.loads((raw / "ground_truth_devices.json").read_text())
    assert dev["reference"] == "eeg" and "drift_ppm" in dev["formula"]
    locked = resp[resp["event"] >= 0]
    assert (resp["expression"] == "none").any()  # responses without an expression exist
    for _, r in locked.iterrows():
        g = gt.loc[int(r["event"])]
        assert r["subject"] == g["subject"] and r["trial"] == g["trial"]
        assert r["onset_s"] <= r["peak_s"] <= r["end_s"]
    for s in SUBJECTS:
        d = dev["subjects"][s]
        assert d["eeg"]["offset_s"] == 0 and abs(d["physio"]["drift_ppm"]) <= 50
        assert abs(d["video"]["drift_ppm"]) <= 50
        # expression-locked responses start near the expression onset (common clock)
        v = d["video"]
        markers = {m["code"]: m["common_s"] for m in d["markers"]}
        for _, r in locked[locked["subject"] == s].iterrows():
            g = gt.loc[int(r["event"])]
            onset_c = markers[int(g["trial"])] + g["onset_s"] * (1 + v["drift_ppm"] * 1e-6)
            assert -0.15 <= r["onset_s"] - onset_c <= 4.1


def test_planted_scr_is_in_the_physio_file(synth_tiny_raw: Path) -> None:
    raw = synth_tiny_raw
    resp = pd.read_csv(raw / "ground_truth_responses.csv", dtype={"trial": str})
    dev = json.loads((raw / "ground_truth_devices.json").read_text())["subjects"]
    scr = resp[(resp["kind"] == "scr") & (resp["amplitude"] > 0.1)]
    checked = 0
    for _, r in scr.iterrows():
        others = scr[(scr["subject"] == r["subject"]) & (scr.index != r.name)]
        if ((others["onset_s"] - r["onset_s"]).abs() < 12).any():
            continue  # overlapping responses: not a clean check
        m = scipy.io.loadmat(raw / r["subject"] / "physio" / f"{r['subject']}.mat")
        sf = 1000.0 / float(np.squeeze(m["isi"]))
        p = dev[r["subject"]]["physio"]
        k = [int(round((t - p["offset_s"]) / (1 + p["drift_ppm"] * 1e-6) * sf))
             for t in (r["onset_s"], r["peak_s"])]
        eda = m["data"][:, 4]
        if k[1] >= len(eda):
            continue
        assert eda[k[1]] - eda[k[0]] == pytest.approx(r["amplitude"], abs=0.05)
        checked += 1
    assert checked >= 1


def test_deterministic_whatever_the_parallelism(synth_tiny_raw: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", SynthConfig.tiny(), n_jobs=2, progress=False)
    for name in ("ground_truth.csv", "ground_truth_responses.csv",
                 "ground_truth_devices.json"):
        assert (again / name).read_bytes() == (synth_tiny_raw / name).read_bytes()

    def digest(root: Path) -> str:
        h = hashlib.sha256()
        for p in sorted((root / "S02").rglob("*")):
            if p.is_file() and p.suffix in (".jpg", ".mat"):
                h.update(p.name.encode())
                h.update(p.read_bytes() if p.suffix == ".jpg" else
                         scipy.io.loadmat(p)["data"].tobytes())
        return h.hexdigest()

    assert digest(again) == digest(synth_tiny_raw)
    other = generate(tmp_path / "other", SynthConfig.tiny(seed=1), n_jobs=1, progress=False)
    assert (other / "ground_truth.csv").read_bytes() != (
        synth_tiny_raw / "ground_truth.csv").read_bytes()


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot hold"):
        generate(tmp_path / "x", SynthConfig(subjects=1, trials_per_subject=1, trial_s=3.0,
                                             me_per_trial=3, mae_per_trial=3), n_jobs=1,
                 progress=False)
    with pytest.raises(InputError, match="coupling"):
        SynthConfig(coupling=2.0).validate()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        generate(tmp_path / "full", SynthConfig.tiny(), n_jobs=1, progress=False)
    assert (tmp_path / "full" / "keep.txt").read_text() == "x"


def test_round_trip_through_the_importer(synth_tiny_raw: Path, tmp_path: Path) -> None:
    from mmme.data.store import Store
    from mmme.data.summary import summarize
    from mmme.io.mmme import import_mmme

    st = import_mmme(synth_tiny_raw, tmp_path / "store", executor=Executor(1, progress=False))
    st = Store(st.path)
    gt = pd.read_csv(synth_tiny_raw / "ground_truth.csv", dtype={"trial": str})
    summary = summarize(st.annotations, st)
    assert summary["events"] == gt["type"].value_counts().to_dict()
    ann = st.annotations.sort_values(["subject", "trial", "onset_frame"]).reset_index(drop=True)
    gt = gt.sort_values(["subject", "trial", "onset_frame"]).reset_index(drop=True)
    for col in ("subject", "trial", "type", "emotion", "aus"):
        assert list(ann[col].astype(str)) == list(gt[col].astype(str))
    for col in ("onset", "apex", "offset"):
        assert list(ann[f"{col}_frame"].astype(int)) == list(gt[f"{col}_frame"])
        np.testing.assert_allclose(ann[f"{col}_rel_s"], gt[f"{col}_s"], atol=1e-9)
    dev = json.loads((synth_tiny_raw / "ground_truth_devices.json").read_text())["subjects"]
    for s in SUBJECTS:
        clocks = st.session(s, "1").clocks
        for name in ("physio", "video"):
            # the tiny set samples at 250 Hz over ~10 s: offsets to a few samples only
            assert clocks[name].offset == pytest.approx(dev[s][name]["offset_s"], abs=0.012)


def test_cli_round_trip_recovers_clocks(tmp_path: Path) -> None:
    """mmme synth -> mmme import mmme -> mmme info --json; sync finds the planted clocks."""
    from typer.testing import CliRunner

    from mmme.cli import app
    from mmme.data.store import Store

    raw, store = tmp_path / "raw", tmp_path / "store"
    runner = CliRunner()
    res = runner.invoke(app, ["synth", str(raw), "--subjects", "1", "--trials-per-subject", "8",
                              "--fps", "25", "--size", "64x64", "--trial-s", "3",
                              "--rest-s", "3", "--me-per-trial", "1", "--mae-per-trial", "1",
                              "--seed", "5", "-j", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["import", "mmme", str(raw), str(store), "-j", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["info", str(store), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    gt = pd.read_csv(raw / "ground_truth.csv")
    assert info["events"] == {"ME": 8, "MaE": 8} == gt["type"].value_counts().to_dict()
    dur = (gt["offset_s"] - gt["onset_s"]) * 1000
    for kind in ("ME", "MaE"):
        assert info["duration_ms"][kind]["mean"] == pytest.approx(dur[gt["type"] == kind].mean())
    planted = json.loads((raw / "ground_truth_devices.json").read_text())["subjects"]["S01"]
    clocks = Store(store).session("S01", "1").clocks
    for name in ("physio", "video"):
        assert clocks[name].offset == pytest.approx(planted[name]["offset_s"], abs=0.002)
        assert clocks[name].drift_ppm == pytest.approx(planted[name]["drift_ppm"], abs=20)
