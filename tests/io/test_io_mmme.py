"""The raw MMME importer against a constructed session with known clocks and events."""

from __future__ import annotations

import json

import numpy as np
import pytest
from raw_builder import EEG_START, PHYSIO_PPM, PHYSIO_START, VIDEO_PPM
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store
from mmme.errors import InputError, SyncError
from mmme.executor import Executor
from mmme.io.mmme import import_mmme, marker_category

INLINE = Executor(n_jobs=1, progress=False)


def common(true_s: float) -> float:
    return true_s - EEG_START  # the EEG clock is the common clock


def test_import_recovers_clocks_trials_and_events(make_raw, tmp_path):
    raw = make_raw()
    st = import_mmme(raw["root"], tmp_path / "store", executor=INLINE)
    assert st.sessions == [("S01", "1")]
    ses = st.session("S01")
    assert ses.reference == "eeg"
    phys, vid = ses.clocks["physio"], ses.clocks["video"]
    # physio device time = (true - start) * (1 + ppm): common = true - EEG_START
    # 6 markers over 19 s: drift precision is tens of ppm here (test_sync covers 73 min)
    assert phys.drift_ppm == pytest.approx(-PHYSIO_PPM, abs=60)
    assert phys.to_common(0.0) == pytest.approx(common(PHYSIO_START), abs=2e-3)
    # video device time 0 is the session's first frame
    assert vid.to_common(0.0) == pytest.approx(common(raw["frames"]["true_s"].iloc[0]), abs=15e-3)
    assert vid.drift_ppm == pytest.approx(-VIDEO_PPM, abs=3000)  # 3 markers, frame-quantised
    trials = st.trials
    assert list(trials["trial"]) == ["101", "112", "125"]
    assert list(trials["category"]) == [marker_category(m) for m in (101, 112, 125)]
    assert (trials["stop_s"] - trials["start_s"]).round(3).tolist() == [4.0, 4.0, 4.0]
    ann = st.annotations.sort_values("trial").reset_index(drop=True)
    assert len(ann) == 2
    for (_, row), ev in zip(ann.iterrows(), raw["events"], strict=True):
        assert (row["onset_frame"], row["apex_frame"], row["offset_frame"]) == ev["frames"]
        for p, t in zip(("onset", "apex", "offset"), ev["true_s"], strict=True):
            assert row[f"{p}_s"] == pytest.approx(common(t), abs=5e-3)
    assert ann["type"].tolist() == ["ME", "MaE"]
    assert ann["aus"].tolist() == ["AU4+AU7", "L-AU10"]
    assert ann["emotion"].tolist() == ["disgust", "anger"]
    assert ann["emotion3"].tolist() == ["negative", "negative"]


def test_streams_read_windows_on_common_clock(make_raw, tmp_path):
    st = import_mmme(make_raw()["root"], tmp_path / "store", executor=INLINE)
    ses = st.session("S01")
    phys = ses.streams["physio"]
    assert phys.ch_names == ["ECG", "EDA"]
    data, times = phys.get_data(5.0, 6.0, picks="EDA")
    assert data.shape == (1, len(times)) and len(times) in (999, 1000, 1001)
    assert times[0] >= 5.0 and times[-1] < 6.0
    chunks = list(phys.iter_chunks(chunk_s=5.0, overlap_s=1.0, picks=["ECG"]))
    full, tfull = phys.get_data(picks=["ECG"])
    kept = np.concatenate([t[t >= phys.start_s + 5.0 * k] for k, (_, t) in enumerate(chunks)])
    np.testing.assert_allclose(kept, tfull)
    ep = ses.epochs("physio", [5.0, 10.0, 1e6], -0.5, 1.0, picks="EDA").get_data()
    assert ep.shape == (3, 1, 1501) and np.isnan(ep[2]).all() and np.isfinite(ep[:2]).all()
    res, grid = ses.streams["eeg"].resample(100.0, 3.0, 5.0)
    assert res.shape == (4, 200) and grid[1] - grid[0] == pytest.approx(0.01)
    raw = ses.streams["eeg"].to_mne(3.0, 5.0)
    assert raw.ch_names == ["FP1", "FZ", "OZ", "HEO"] and raw.get_channel_types()[-1] == "eog"
    ev = st.annotations.iloc[0]
    around = ses.frames.between(ev["apex_s"] - 0.09, ev["apex_s"] + 0.09)  # 50 fps
    assert len(around) == 9 and (around["trial"] == ev["trial"]).all()
    assert around["frame"].iloc[4] == ev["apex_frame"]
    trial = st.trial("S01", "1", "112")
    assert len(trial.frames) == 200 and trial.read_frame(0).shape == (24, 24, 3)
    sig, t = trial.signal("physio", picks="ECG")
    assert t[0] >= trial.start_s and t[-1] < trial.stop_s


def test_bad_input_names_file_row_channel_and_keeps_store(make_raw, tmp_path):
    store = tmp_path / "store"
    import_mmme(make_raw()["root"], store, executor=INLINE)
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    with pytest.raises(InputError, match=r"S01\.mat.*channel 'EDA'.*NaN"):
        import_mmme(make_raw(nan_channel="EDA, X, PPGED-R")["root"], store, executor=INLINE)
    with pytest.raises(InputError, match=r"\.jpg.*truncated"):
        import_mmme(make_raw(truncate_frame=7)["root"], store, executor=INLINE)
    tif = make_raw(truncate_frame=9, ext="tif")
    with pytest.raises(InputError, match=r"-9-101\.tif.*truncated"):
        import_mmme(tif["root"], store, executor=INLINE)
    intact = import_mmme(make_raw(ext="tif")["root"], tmp_path / "tif", executor=INLINE)
    assert intact.trial("S01", "1", "101").read_frame(0).shape == (24, 24, 3)
    with pytest.raises(InputError, match=r"coding_file\.xlsx.*row 2.*onset .* after offset"):
        import_mmme(make_raw(bad_row=True)["root"], store, executor=INLINE)
    with pytest.raises(SyncError, match=r"'physio'.*lacks marker 112"):
        import_mmme(make_raw(drop_physio_marker=2)["root"], store, executor=INLINE)
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before
    assert len(Store(store).annotations) == 2
    assert not list(tmp_path.glob(".store.tmp-*"))


def test_cli_import_info_validate(make_raw, tmp_path):
    runner = CliRunner()
    raw = make_raw()
    store = tmp_path / "store"
    r = runner.invoke(app, ["import", "mmme", str(raw["root"]), str(store), "-j", "1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["info", str(store), "--json"])
    info = json.loads(r.output)
    assert info["subjects"] == 1 and info["trials"] == 3
    assert info["events"] == {"ME": 1, "MaE": 1}
    ev = raw["events"]
    want = [1000 * (e["true_s"][2] - e["true_s"][0]) for e in ev]
    assert info["duration_ms"]["ME"]["mean"] == pytest.approx(want[0], abs=1.0)
    assert info["modalities"]["physio"]["channels"] == 2
    assert info["modalities"]["video"]["frames"] == 600
    r = runner.invoke(app, ["validate", str(store)])
    assert r.exit_code == 0, r.output
    bad = make_raw(nan_channel="ECG, X, RSPEC-R")
    r = runner.invoke(app, ["validate", str(bad["root"])])
    assert r.exit_code == 1 and "ECG" in r.output
    r = runner.invoke(app, ["import", "mmme", str(bad["root"]), str(tmp_path / "s2"), "-j", "1"])
    assert r.exit_code != 0 and "NaN" in r.output


def test_dask_executor_runs_import(make_raw, tmp_path):
    with Executor(dask_workers=1, progress=False) as ex:
        st = import_mmme(make_raw()["root"], tmp_path / "store", executor=ex)
    assert len(st.trials) == 3


def test_device_that_stopped_early(make_raw, tmp_path):
    raw = make_raw(drop_physio_marker=5)  # physio misses the last rest marker
    with pytest.raises(SyncError, match=r"'physio'.*lacks marker 100"):
        import_mmme(raw["root"], tmp_path / "a", executor=INLINE)
    st = import_mmme(raw["root"], tmp_path / "b", executor=INLINE, allow_truncated=True)
    clock = st.session("S01").clocks["physio"]
    assert clock.n_markers == 5
    assert clock.to_common(0.0) == pytest.approx(common(PHYSIO_START), abs=2e-3)
    r = CliRunner().invoke(
        app,
        ["import", "mmme", str(raw["root"]), str(tmp_path / "c"), "-j", "1", "--allow-truncated"],
    )
    assert r.exit_code == 0, r.output


def test_noise_code_in_frame_names_does_not_split_a_clip(make_raw, tmp_path):
    raw = make_raw(noise_frames=(250, 251))  # in the middle of clip 112
    st = import_mmme(raw["root"], tmp_path / "st", executor=INLINE)
    trial = st.trial("S01", "1", "112")
    assert len(trial.frames) == 200 and trial.frames["frame"].tolist() == list(range(200))
    ann = st.annotations.sort_values("trial")
    assert tuple(ann.iloc[0][["onset_frame", "apex_frame", "offset_frame"]]) == (20, 24, 35)


def test_clip_marker_twice_is_refused(make_raw, tmp_path):
    import shutil

    raw = make_raw(extra_markers=((112, 22.5),), coding=False)
    shutil.rmtree(raw["root"] / "S01" / "video")  # no camera to tell the two apart
    with pytest.raises(InputError, match=r"clip marker 112 more than once"):
        import_mmme(raw["root"], tmp_path / "st", executor=INLINE)


def test_eeg_trigger_channel_decoded_in_chunks(tmp_path):
    import mne

    from mmme.io.mmme import read_eeg_markers

    sfreq, n = 250.0, 1000  # 1 s chunks end at samples 250, 500, 750
    trig = np.zeros(n)
    planted = {248: 101, 498: 112, 750: 100}  # edges just before and on chunk boundaries
    for start, code in planted.items():
        trig[start : start + 5] = code
    trig[248] = 1  # first sample of 101 before all bits settled: read 2 samples later
    info = mne.create_info(["FZ", "Trigger"], sfreq, ["eeg", "stim"])
    raw = mne.io.RawArray(np.vstack([np.zeros(n), trig]), info, verbose="error")
    got = read_eeg_markers(raw, tmp_path / "x.edf", chunk_s=1.0)
    assert got["code"].tolist() == list(planted.values())
    assert got["time"].tolist() == pytest.approx([k / sfreq for k in planted])
