"""Faults found by fault injection on the raw MMME importer: each must be named, never silent."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.sync import synchronize
from mmme.errors import InputError, MMMEError, StoreError, SyncError
from mmme.executor import Executor
from mmme.io.mmme import check_edf_complete, import_mmme
from mmme.io.validate import validate_path

INLINE = Executor(n_jobs=1, progress=False)


def _markers(times: np.ndarray) -> pd.DataFrame:
    codes = [101 + i // 2 if i % 2 == 0 else 100 for i in range(len(times))]
    return pd.DataFrame({"code": codes, "time": times})


# --- 1. a declared sampling rate that the markers contradict ---------------------------------


def test_wrong_declared_rate_of_physio_is_named_with_both_rates(make_raw, tmp_path):
    # isi 2 ms declared for 1 kHz data: every device time doubles, the fit would call it drift
    raw = make_raw(physio_isi_ms=2.0)
    with pytest.raises(SyncError) as e:
        import_mmme(raw["root"], tmp_path / "store", executor=INLINE)
    msg = str(e.value)
    assert e.value.device == "physio"
    implied = re.search(r"declares 500 Hz but its markers imply ([\d.]+) Hz", msg)
    assert implied and float(implied.group(1)) == pytest.approx(1000.0, abs=0.2), msg
    assert "subject S01, session 1" in msg
    assert not (tmp_path / "store").exists()


def test_drift_limit_is_1000_ppm_and_reference_is_blamed_when_all_others_agree():
    t = np.linspace(10.0, 4000.0, 40)
    ref = _markers(t)
    ok = synchronize({"eeg": ref, "physio": _markers((t - 0.3) / (1 + 900e-6))})
    assert ok["physio"].drift_ppm == pytest.approx(900.0, abs=1e-3)
    with pytest.raises(SyncError, match=r"\+1100 ppm") as e:
        synchronize(
            {"eeg": ref, "physio": _markers((t - 0.3) / (1 + 1100e-6))},
            declared_sfreq={"eeg": 1000.0, "physio": 1000.0},
        )
    assert e.value.device == "physio"
    assert "markers imply 998.901 Hz" in str(e.value)  # 1000 / 1.0011
    # the reference's file declares half its real rate: its times double, and the physio
    # device and the camera both seem to run at half speed
    with pytest.raises(SyncError) as e:
        synchronize(
            {"eeg": _markers(2 * t), "physio": _markers(t + 0.2), "video": _markers(t - 1.0)},
            declared_sfreq={"eeg": 500.0, "physio": 1000.0},
        )
    assert e.value.device == "eeg"
    assert "declares 500 Hz but its markers imply 1000 Hz" in str(e.value)


# --- 11. errors survive worker processes and name the session --------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        SyncError("lacks marker 112", device="physio", marker=112),
        InputError("bad cell", file="coding.xlsx", row=7, sheet="Sheet1", channel=None),
        StoreError("store.json is not JSON"),
    ],
)
def test_every_error_pickles_round_trip(exc):
    exc.add_context("subject S03, session 2")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    assert str(back).startswith("subject S03, session 2: ")
    assert back.__dict__ == exc.__dict__
    assert exc.add_context("subject S03, session 2") is exc
    assert str(exc).count("subject S03") == 1  # added once


def test_sync_error_from_a_worker_process_names_device_and_session(make_raw, tmp_path):
    raw = make_raw(drop_physio_marker=3)
    with pytest.raises(SyncError) as e, Executor(n_jobs=2, progress=False) as ex:
        import_mmme(raw["root"], tmp_path / "store", executor=ex)
    assert e.value.device == "physio" and e.value.marker is not None
    assert str(e.value).startswith("subject S01, session 1: device 'physio': lacks marker")


# --- 4. duplicate coding rows ----------------------------------------------------------------


def test_duplicate_coding_row_imported_once_and_listed(make_raw, tmp_path):
    raw = make_raw(repeat_row=True)
    res = CliRunner().invoke(app, ["import", "mmme", str(raw["root"]), str(tmp_path / "st")])
    assert res.exit_code == 0, res.output
    assert "1 duplicate coding row(s) imported once: coding_file.xlsx:4" in res.output
    from mmme.data.store import Store

    st = Store(tmp_path / "st")
    assert len(st.annotations) == 2
    problems = validate_path(tmp_path / "st")
    dup = [p for p in problems if p.kind == "duplicate_row"]
    assert [(p.where, p.detail) for p in dup] == [
        ("coding_file.xlsx:4", "repeats row 2; imported once")
    ]
    on_file = [p for p in validate_path(raw["root"] / "coding_file.xlsx")]
    assert [p.where for p in on_file if p.kind == "duplicate_row"] == ["coding_file.xlsx:4"]


def test_duplicates_of_the_real_sample_counted_once(tmp_path):
    from pathlib import Path

    from mmme.io.coding import read_coding_file

    src = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    src = src / "mmme_coding_file_sample_with_type.xlsx"
    if not src.is_file():
        pytest.skip("the real sample coding file (../shared/data) is not beside this checkout")
    df = pd.read_excel(src, dtype=str)
    doubled = pd.concat([df, df.iloc[[10, 500]]], ignore_index=True)
    path = tmp_path / "coding.xlsx"
    doubled.to_excel(path, index=False)
    cf = read_coding_file(path)
    assert cf.annotations["type"].value_counts().to_dict() == {"MaE": 645, "ME": 299}
    assert [d["source"] for d in cf.duplicates] == ["coding.xlsx:946", "coding.xlsx:947"]
    assert [d["duplicate_of"] for d in cf.duplicates] == ["coding.xlsx:12", "coding.xlsx:502"]


# --- 5. a misspelled subject -----------------------------------------------------------------


def test_misspelled_subject_is_reported_by_import_and_validate(make_raw, tmp_path):
    raw = make_raw(subject_in_coding="S1")
    res = CliRunner().invoke(app, ["import", "mmme", str(raw["root"]), str(tmp_path / "st")])
    assert res.exit_code == 0, res.output
    assert "2 coding row(s) of subject S1, which has no session folder (did you mean S01?)" in (
        " ".join(res.output.split())
    )
    problems = [p for p in validate_path(tmp_path / "st") if p.kind == "subject_without_recordings"]
    assert len(problems) == 1
    assert problems[0].where == "coding_file.xlsx rows 2, 3"
    # the raw folder validates the same way
    kinds = [p.kind for p in validate_path(raw["root"])]
    assert kinds.count("subject_without_recordings") == 1


# --- 6. truncated recordings -----------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.9, 0.5])
def test_truncated_edf_is_named_at_import(make_raw, tmp_path, keep):
    raw = make_raw()
    edf = raw["root"] / "S01" / "eeg" / "S01.edf"
    data = edf.read_bytes()
    edf.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(InputError, match="file is truncated: its header announces 25 records") as e:
        import_mmme(raw["root"], tmp_path / "store", executor=INLINE)
    assert e.value.file == str(edf)


def test_complete_edf_passes_and_unknown_record_count_is_taken_from_size(make_raw, tmp_path):
    edf = make_raw()["root"] / "S01" / "eeg" / "S01.edf"
    check_edf_complete(edf)
    data = bytearray(edf.read_bytes())
    data[236:244] = b"-1      "
    edf.write_bytes(bytes(data))
    check_edf_complete(edf)


def test_half_a_tif_frame_is_named_at_import(make_raw, tmp_path):
    raw = make_raw(ext="tif")
    frame = raw["frames"]["path"].iloc[17]
    data = frame.read_bytes()
    frame.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or damaged") as e:
        import_mmme(raw["root"], tmp_path / "store", executor=INLINE)
    assert e.value.file == str(frame)


# --- 7. missing channels and recordings ------------------------------------------------------


def _missing(problems, kind="missing_channels"):
    return [p for p in problems if p.kind == kind]


def test_missing_and_renamed_channels_are_warnings(make_raw, tmp_path):
    intact = import_mmme(make_raw()["root"], tmp_path / "a", executor=INLINE)
    physio = [p for p in _missing(validate_path(intact.path)) if "physio" in p.where]
    assert len(physio) == 1 and "ECG" not in physio[0].detail.split(": ")[1].split(";")[0]
    raw = make_raw(physio_relabel={"ECG": "EKG"})
    st = import_mmme(raw["root"], tmp_path / "b", executor=INLINE)
    [p] = [p for p in _missing(validate_path(st.path)) if "physio" in p.where]
    assert p.level == "warning"
    assert p.detail.startswith("expected channel(s) missing: PPG, RSP, EMG A, SKT A, ECG,")
    assert p.detail.endswith("present but not expected: EKG (renamed?)")
    raw = make_raw(physio_relabel={"ECG": None})
    st = import_mmme(raw["root"], tmp_path / "c", executor=INLINE)
    [p] = [p for p in _missing(validate_path(st.path)) if "physio" in p.where]
    assert ", ECG," in p.detail and "renamed" not in p.detail


def test_missing_modality_is_a_warning_naming_the_folder(make_raw, tmp_path):
    import shutil

    raw = make_raw()
    shutil.rmtree(raw["root"] / "S01" / "physio")
    res = CliRunner().invoke(app, ["import", "mmme", str(raw["root"]), str(tmp_path / "st")])
    assert res.exit_code == 0, res.output
    assert "no physio recording" in res.output
    [p] = _missing(validate_path(tmp_path / "st"), "missing_recording")
    assert p.where.endswith("S01/physio") and p.level == "warning"


def test_all_mmme_errors_share_the_base():
    assert all(issubclass(c, MMMEError) for c in (InputError, SyncError, StoreError))
