"""CAS(ME)^3 part C: face frames + 200 Hz physiology text files onto the video's clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_io_classic import frames, write_rows

from mmme.executor import Executor
from mmme.io.classic import import_casme3_c

INLINE = Executor(n_jobs=1, progress=False)
SFREQ = 200


def physio_file(path: Path, n: int, mark_at: int | None, header: bool, seed: int) -> np.ndarray:
    """A tab-separated physiology file: time, PPG, RSP, ECG, EDA, mark (5 at ``mark_at``)."""
    import neurokit2 as nk

    dur = n // SFREQ
    cols = [
        nk.ppg_simulate(duration=dur, sampling_rate=SFREQ, heart_rate=70, random_state=seed),
        nk.rsp_simulate(duration=dur, sampling_rate=SFREQ, respiratory_rate=15, random_state=seed),
        nk.ecg_simulate(duration=dur, sampling_rate=SFREQ, heart_rate=70, random_state=seed),
        nk.eda_simulate(duration=dur, sampling_rate=SFREQ, scr_number=3, random_state=seed),
    ]
    sig = np.column_stack([np.asarray(c)[:n] for c in cols])
    mark = np.zeros(n)
    if mark_at is not None:
        mark[mark_at : mark_at + 20] = 5  # the mark lasts a few samples: its first one counts
    lines = ["time\tPPG\tRSP\tECG\tEDA\tmark"] if header else []
    for i in range(n):
        vals = "\t".join(f"{v:.5f}" for v in sig[i])
        lines.append(f"{i / SFREQ:.3f}\t{vals}\t{mark[i]:g}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return sig


def part_c_tree(root: Path) -> dict[str, np.ndarray]:
    frames(root / "sub01" / "color", [f"{i}.jpg" for i in range(300)])  # 10 s at 30 fps
    frames(root / "sub02" / "color", [f"{i}.jpg" for i in range(150)])
    frames(root / "sub03" / "color", [f"{i}.jpg" for i in range(90)])
    sig1 = physio_file(root / "sub01" / "sub01_physio.txt", 8000, 1000, header=True, seed=1)
    sig2 = physio_file(root / "physio" / "sub02.txt", 6000, 600, header=False, seed=2)
    physio_file(root / "sub03" / "sub03.txt", 2000, None, header=True, seed=3)  # no mark
    header = ["sub", "count", "onset", "offset", "au", "emotion"]
    rows = [
        ["sub01", 1, 60, 90, "4+7", "anger"],
        ["sub01", 2, 200, 211, "12", "happy"],
        ["sub02", 1, 30, 45, "R12 or R15", "happy"],
        ["sub03", 1, 10, 20, "4", "disgust"],
        ["sub04", 1, 10, 20, "4", "disgust"],  # no frames
    ]
    write_rows(root / "CAS(ME)3_part_C_ME.xlsx", [header, *rows], sheet="mockCrimeME")
    return {"sub01": sig1, "sub02": sig2}


def test_part_c_face_and_physiology_on_the_video_clock(tmp_path):
    sigs = part_c_tree(tmp_path / "part_C")
    st = import_casme3_c(tmp_path / "part_C", tmp_path / "store", executor=INLINE)
    assert st.meta["dataset"] == "cas-me-3-c"
    assert st.sessions == [("sub01", "1"), ("sub02", "1"), ("sub03", "1")]
    assert st.trials["trial"].tolist() == ["mock_crime"] * 3
    assert st.trials["n_frames"].tolist() == [300, 150, 90]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a["subject"].tolist() == ["sub01", "sub01", "sub02", "sub03"]
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [60, 75, 90], [200, 205, 211], [30, 37, 45], [10, 15, 20]
    ]  # fmt: skip
    assert a["onset_s"].tolist() == pytest.approx([2.0, 200 / 30, 1.0, 10 / 30])
    assert "count=2" in a["notes"][1] and a["aus"][2] == "R-AU12|R-AU15"
    for subject, s0, n in (("sub01", 1000, 8000), ("sub02", 600, 6000)):
        ses = st.session(subject)
        s = ses.streams["physio"]
        assert s.ch_names == ["PPG", "RSP", "ECG", "EDA"] and s.sfreq == 200.0
        assert s.n_samples == n
        # sample s0 is video frame 0 (common time 0); frame f is sample s0 + f / 30 * 200
        assert s.times(0, 1)[0] == pytest.approx(-s0 / 200)
        for f in (0, 60, 147):
            data, times = s.get_data(f / 30, f / 30 + 0.5 / 200)
            k = s0 + round(f / 30 * 200)
            assert times[0] == pytest.approx(f / 30)
            np.testing.assert_allclose(data[:, 0], sigs[subject][k], rtol=0, atol=1e-4)
        assert ses.markers["code"].tolist() == [5]
    # sub03 has no video-start mark, sub04 no frames: listed, not fatal
    sk = {(s.get("subject"), s["source"] if "source" in s else s["file"]): s["reason"]
          for s in st.report["skipped"]}  # fmt: skip
    assert any(k[0] == "sub03" and "no video-start mark" in v for k, v in sk.items())
    assert any("sub04" in v for v in sk.values())
    assert st.session("sub03").streams == {}


def test_mmme_physio_runs_on_part_c(tmp_path):
    from typer.testing import CliRunner

    from mmme.cli import app

    part_c_tree(tmp_path / "part_C")
    runner = CliRunner()
    r = runner.invoke(app, ["import", "cas-me-3-c", str(tmp_path / "part_C"),
                            str(tmp_path / "store"), "-j", "1"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "3 trial(s) (3 coded, 0 uncoded), 4 event(s)" in " ".join(r.output.split())
    r = runner.invoke(app, ["physio", str(tmp_path / "store"), "--no-eeg", "-j", "1",
                            "--pad-s", "4"])  # fmt: skip
    assert r.exit_code == 0, r.output
    import pandas as pd

    ev = pd.read_parquet(tmp_path / "store" / "derived" / "physio" / "events.parquet")
    # the events of the subjects with physiology, on all four channels
    assert set(ev["subject"]) == {"sub01", "sub02"}
    assert set(ev["channel"]) == {"PPG", "RSP", "ECG", "EDA"}


def test_validate_lists_subjects_left_without_physiology(tmp_path):
    from mmme.data.store import Store
    from mmme.data.validate import validate_store

    part_c_tree(tmp_path / "part_C")
    st = import_casme3_c(tmp_path / "part_C", tmp_path / "store", executor=INLINE)
    probs = validate_store(Store(st.path), check_signals=False)
    got = [(p.kind, p.where) for p in probs if p.kind.startswith("skipped")]
    assert got == [("skipped_row", "CAS(ME)3_part_C_ME.xlsx:6"), ("skipped", "sub03/sub03.txt")]
