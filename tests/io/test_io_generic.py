"""``mmme import generic``: a plain video, signals and an annotation sheet; pseudonymization."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store
from mmme.errors import InputError
from mmme.executor import Executor
from mmme.io.generic import import_generic, parse_mapping
from mmme.io.pseudonym import Pseudonymizer
from mmme.io.signals import fit_clock

FPS = 25.0
N_FRAMES = 40


def write_mp4(path: Path) -> None:
    import cv2

    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (32, 24))
    assert vw.isOpened()
    for k in range(N_FRAMES):
        img = np.full((24, 32, 3), 4 * k, np.uint8)  # brightness encodes the frame number
        vw.write(img)
    vw.release()


def write_edf(path: Path, dur: float = 3.0, sfreq: float = 100.0) -> None:
    import mne

    t = np.arange(int(dur * sfreq)) / sfreq
    data = np.vstack([1e-5 * np.sin(2 * np.pi * 5 * t), 2e-5 * np.cos(2 * np.pi * 3 * t)])
    raw = mne.io.RawArray(data, mne.create_info(["FZ", "CZ"], sfreq, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations([0.5, 1.25], [0, 0], ["101", "start"]))
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")


@pytest.fixture
def recording(tmp_path):
    write_mp4(tmp_path / "me_clip.mp4")
    pd.DataFrame(
        {
            "OnsetF": [5, 20],
            "ApexF": [9, None],
            "OffsetF": [14, 36],
            "Emotion": ["happy", "surprise"],
            "AU": ["AU6+AU12", "1+2"],
        }
    ).to_csv(tmp_path / "labels.csv", index=False)
    t = np.arange(0, 2.0, 0.01)
    pd.DataFrame({"time": t, "ECG": np.sin(2 * np.pi * t), "EDA": 2 + 0.1 * t}).to_csv(
        tmp_path / "physio.csv", index=False
    )
    write_edf(tmp_path / "eeg.edf")
    return tmp_path


def test_cli_generic_mp4_csv_gives_store_pipeline_accepts(recording):
    store = recording / "store"
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "import", "generic", str(recording / "me_clip.mp4"), str(store),
            "-a", str(recording / "labels.csv"),
            "--map", "onset=OnsetF,apex=ApexF", "--map", "offset=OffsetF,emotion=Emotion,aus=AU",
            "-s", str(recording / "physio.csv"), "-s", str(recording / "eeg.edf"),
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    st = Store(store)
    assert st.sessions == [("S01", "1")]
    trial = st.trial("S01", "1", "me_clip")
    assert len(trial.frames) == N_FRAMES
    assert trial.stop_s == pytest.approx(N_FRAMES / FPS)
    # decoded frame 17 is the 17th written (mp4v is lossy: brightness within a few levels)
    assert abs(int(trial.read_frame(17).mean()) - 4 * 17) <= 3
    a = st.annotations
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [5, 9, 14], [20, 28, 36]
    ]  # fmt: skip
    assert a["offset_s"].tolist() == pytest.approx([14 / FPS, 36 / FPS])
    assert a["flags"].tolist() == ["", "apex_estimated"]
    assert a["emotion"].tolist() == ["happiness", "surprise"]
    assert a["type"].tolist() == ["ME", "MaE"]  # 360 ms vs 640 ms with a 320 ms rise
    ses = st.session("S01")
    assert sorted(ses.streams) == ["eeg", "physio"]
    assert ses.streams["eeg"].ch_names == ["FZ", "CZ"]
    data, times = ses.streams["physio"].get_data(0.5, 1.0, picks=["EDA"])
    np.testing.assert_allclose(data[0], 2 + 0.1 * times, atol=1e-5)
    mk = ses.markers
    assert mk["code"].tolist() == [101] and mk["time_s"].iloc[0] == pytest.approx(0.5)
    assert any("start" in s["reason"] or "integer" in s["reason"] for s in st.report["skipped"])
    r = runner.invoke(app, ["validate", str(store)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["info", str(store), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["events"] == {"ME": 1, "MaE": 1} and info["trials"] == 1


def test_generic_image_folder_seconds_and_errors(tmp_path):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for k in range(1, 31):
        cv2.imwrite(str(folder / f"frame_{k}.png"), np.full((8, 8), k, np.uint8))
    ann = tmp_path / "ann.xlsx"
    pd.DataFrame({"onset": [0.1], "apex": [0.2], "offset": [0.4]}).to_excel(ann, index=False)
    st = import_generic(folder, tmp_path / "st", annotations=ann, units="seconds", fps=50)
    a = st.annotations.iloc[0]
    assert (a["onset_frame"], a["apex_frame"], a["offset_frame"]) == (5, 10, 20)
    assert st.trial("S01", "1", "frames").frames["path"].iloc[9] == "frame_10.png"
    with pytest.raises(InputError, match="needs --fps"):
        import_generic(folder, tmp_path / "st2")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"onset": [3], "apex": [4], "offset": [99]}).to_csv(bad, index=False)
    with pytest.raises(InputError, match=r"bad\.csv, row 2: offset frame 99 is not a frame"):
        import_generic(folder, tmp_path / "st2", annotations=bad, fps=50)
    with pytest.raises(InputError, match="FIELD=COLUMN"):
        parse_mapping("onset:OnsetF")
    with pytest.raises(InputError, match="field 'start' unknown"):
        parse_mapping("start=OnsetF")
    assert not (tmp_path / "st2").exists()


def test_csv_signal_irregular_time_is_named(tmp_path):
    t = np.arange(100) / 100.0
    t[40] += 0.007
    p = tmp_path / "sig.csv"
    pd.DataFrame({"t": t, "x": np.zeros(100)}).to_csv(p, index=False)
    with pytest.raises(InputError, match=r"sig\.csv.*sample 40 is 6\.9 ms off"):
        import_generic(p, tmp_path / "st")
    clock = fit_clock(10.0 + np.arange(50) / 100.0 * (1 + 50e-6), 100.0, "x", p, 10.0)
    assert clock.drift_ppm == pytest.approx(50, abs=1e-3) and clock.offset == pytest.approx(0)


# --- pseudonymization ---------------------------------------------------------------------------


def _all_text(store: Path) -> str:
    """Every string a store holds: file paths, JSON, and the parquet tables' cells."""
    parts = [str(p.relative_to(store)) for p in store.rglob("*")]
    for p in store.rglob("*.json"):
        parts.append(p.read_text())
    for p in store.rglob("*.parquet"):
        parts.append(pd.read_parquet(p).astype(str).to_csv())
    return "\n".join(parts)


def test_pseudonymizer_codes_and_boundaries():
    p = Pseudonymizer("salt", ["006", "zhangsan"])
    assert p.code("006") == Pseudonymizer("salt").code("006") != Pseudonymizer("x").code("006")
    assert p.code("006").startswith("P") and len(p.code("006")) == 11
    c = p.code("006")
    assert p.text("006/006_1_2/006_05562.jpg") == f"{c}/{c}_1_2/{c}_05562.jpg"
    assert p.text("1006_x ZhangSan.edf") == f"1006_x {p.code('zhangsan')}.edf"


def test_pseudonymize_mmme_import_everywhere(make_raw, tmp_path):
    raw = make_raw()
    runner = CliRunner()
    store = tmp_path / "store"
    args = ["import", "mmme", str(raw["root"]), str(store), "-j", "1", "--pseudonymize"]
    r = runner.invoke(app, [*args, "--salt", "k1"])
    assert r.exit_code == 0, r.output
    text = _all_text(store)
    assert "S01" not in text and "s01" not in text.lower().replace("s010", "")
    code = Pseudonymizer("k1").code("S01")
    st = Store(store)
    assert st.sessions == [(code, "1")]
    assert set(st.annotations["subject"]) == {code}
    trial = st.trial(code, "1", "112")
    assert len(trial.frames) == 200 and trial.read_frame(0).shape == (24, 24, 3)
    assert st.session(code).streams["physio"].ch_names == ["ECG", "EDA"]
    assert st.report["pseudonymized"]["salt"] == "given"
    assert "k1" not in text
    r = runner.invoke(app, ["validate", str(store)])
    assert r.exit_code == 0, r.output
    assert not list(tmp_path.glob(".store.raw-*"))


def test_pseudonymize_classic_trial_names_and_paths(tmp_path):
    from test_io_classic import SAMM_HEADER, frames, write_rows

    from mmme.io.classic import import_samm

    root = tmp_path / "SAMM"
    frames(root / "006" / "006_1_2", [f"006_{i:05d}.jpg" for i in range(10, 30)])
    row = [6, "006_1_2", 1, 12, 15, 20, 9, "Micro", "12", "Happiness", 1, "006 smiled"]
    write_rows(root / "samm.xlsx", [SAMM_HEADER, row])
    inline = Executor(n_jobs=1, progress=False)
    st = import_samm(root, tmp_path / "s", executor=inline, pseudonymize=True, salt="k")
    c = Pseudonymizer("k").code("006")
    assert st.trials["trial"].tolist() == [f"{c}_1_2"]
    a = st.annotations.iloc[0]
    assert f"{c} smiled" in a["notes"] and a["onset_frame"] == 2
    t = st.trial(c, "1", f"{c}_1_2")
    assert t.frames["path"].iloc[0] == f"{c}/{c}_1_2/{c}_00010.jpg"
    assert t.read_frame(0).shape == (8, 8, 3)
    assert "006" not in _all_text(tmp_path / "s")
