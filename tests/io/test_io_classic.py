"""Classic ME data set readers against small constructed trees with the real layouts and quirks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmme.data.store import Store
from mmme.errors import InputError
from mmme.executor import Executor
from mmme.io.classic import (
    import_4dme,
    import_casme2,
    import_casme3,
    import_casme_sq,
    import_mmew,
    import_samm,
    import_samm_lv,
    import_smic_e,
)

INLINE = Executor(n_jobs=1, progress=False)
_JPG: bytes | None = None


def frames(folder: Path, names: list[str]) -> None:
    """Tiny valid JPEG frames (one encoded image, copied)."""
    global _JPG
    if _JPG is None:
        import cv2

        ok, buf = cv2.imencode(".jpg", np.full((8, 8, 3), 100, np.uint8))
        _JPG = buf.tobytes()
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(_JPG)


def quirks(st: Store) -> list[str]:
    return [q["quirk"] for q in st.report["quirks"]]


def by_source(st: Store) -> pd.DataFrame:
    return st.annotations.set_index("source")


# --- CASME II -----------------------------------------------------------------------------------


def casme2_tree(root: Path, extra_rows: list[dict] | None = None) -> Path:
    frames(root / "CASME2_RAW" / "sub01" / "EP02_01f", [f"img{i}.jpg" for i in range(46, 90)])
    frames(root / "CASME2_RAW" / "sub01" / "EP19_05f", [f"img{i}.jpg" for i in range(1, 31)])
    frames(root / "CASME2_RAW" / "sub02" / "EP01_11f", [f"reg_img{i}.jpg" for i in range(10, 40)])
    rows = [
        ("1", "EP02_01f", 46, 59, 86, "4+L10", "disgust"),
        ("1", "EP19_05f", 5, "/", 25, "R12", "happiness"),  # apex "/"
        ("2", "EP01_11f", 12, None, 30, "AU4+7", "repression"),  # apex missing
        ("2", "EP99_01", 1, 2, 3, "12B", "others"),  # no frames: skipped
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "Subject",
            "Filename",
            "OnsetFrame",
            "ApexFrame",
            "OffsetFrame",
            "Action Units",
            "Estimated Emotion",
        ],
    )
    if extra_rows:
        df = pd.concat([df, pd.DataFrame(extra_rows)], ignore_index=True)
    df.to_excel(root / "CASME2-coding-20140508.xlsx", index=False)
    return root


def test_casme2_counts_indices_labels_and_quirks(tmp_path):
    st = import_casme2(casme2_tree(tmp_path / "c2"), tmp_path / "store", executor=INLINE)
    assert st.sessions == [("sub01", "1"), ("sub02", "1")]
    assert st.meta["dataset"] == "casme-ii"
    tr = st.trials.set_index(["subject", "trial"])
    assert tr.loc[("sub01", "EP02_01f"), "n_frames"] == 44
    assert tr["marker"].isna().all()
    # clip 2 starts 1 s after clip 1 ends (44 frames at 200 fps)
    assert tr.loc[("sub01", "EP02_01f"), "start_s"] == 0.0
    assert tr.loc[("sub01", "EP19_05f"), "start_s"] == pytest.approx(44 / 200 + 1.0)
    a = by_source(st)
    assert len(a) == 3
    r = a.loc["CASME2-coding-20140508.xlsx:2"]
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (0, 13, 40)
    assert r["onset_rel_s"] == pytest.approx(0.0) and r["offset_rel_s"] == pytest.approx(0.2)
    assert r["aus"] == "AU4+L-AU10" and r["emotion"] == "disgust" and r["type"] == "ME"
    assert "46/59/86" in r["notes"]
    r = a.loc["CASME2-coding-20140508.xlsx:3"]
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (4, 14, 24)
    assert r["flags"] == "apex_estimated" and r["aus"] == "R-AU12"
    assert r["onset_s"] == pytest.approx(44 / 200 + 1.0 + 4 / 200)
    r = a.loc["CASME2-coding-20140508.xlsx:4"]  # reg_img frames, numbers from 10
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (2, 11, 20)
    assert r["aus"] == "AU4+AU7" and r["emotion"] == "repression"
    assert r["emotion3"] == "negative"
    q = st.report["quirks"]
    est = [x for x in q if "apex estimated" in x["quirk"]]
    assert [(x["row"], x["file"]) for x in est] == [
        (3, "CASME2-coding-20140508.xlsx"),
        (4, "CASME2-coding-20140508.xlsx"),
    ]
    assert "'/'" in est[0]["quirk"]
    sk = st.report["skipped"]
    assert len(sk) == 1 and sk[0]["row"] == 5 and "EP99_01" in sk[0]["reason"]
    # frames are read through the store from the data set root
    trial = st.trial("sub02", "1", "EP01_11f")
    assert trial.frames["path"].iloc[0] == "CASME2_RAW/sub02/EP01_11f/reg_img10.jpg"
    assert trial.read_frame(0).shape == (8, 8, 3)


@pytest.mark.parametrize(
    ("filename", "match"),
    [("../../etc", "escapes the data set root"), ("/abs/EP02_01f", "escapes the data set root")],
)
def test_casme2_refuses_escaping_filename_and_keeps_store(tmp_path, filename, match):
    store = tmp_path / "store"
    import_casme2(casme2_tree(tmp_path / "ok"), store, executor=INLINE)
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    bad = casme2_tree(
        tmp_path / "bad",
        [{"Subject": "1", "Filename": filename, "OnsetFrame": 1, "ApexFrame": 2, "OffsetFrame": 3}],
    )
    with pytest.raises(InputError, match=rf"CASME2-coding-20140508\.xlsx.*row 6.*{match}"):
        import_casme2(bad, store, executor=INLINE)
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before
    assert not list(tmp_path.glob(".store.tmp-*"))


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"OnsetFrame": "abc", "ApexFrame": 50, "OffsetFrame": 60}, r"'OnsetFrame'.*'abc'"),
        ({"OnsetFrame": 70, "ApexFrame": 50, "OffsetFrame": 60}, "onset frame 70 after offset"),
        ({"OnsetFrame": 47, "ApexFrame": 50, "OffsetFrame": 95}, "outside the clip's frames"),
        ({"OnsetFrame": 47, "ApexFrame": 50, "OffsetFrame": 60, "Action Units": "X9"}, "action"),
    ],
)
def test_casme2_bad_rows_name_file_sheet_row(tmp_path, row, match):
    bad = casme2_tree(tmp_path / "bad", [{"Subject": "1", "Filename": "EP02_01f", **row}])
    with pytest.raises(InputError, match=rf"xlsx, sheet 'Sheet1', row 6: .*{match}"):
        import_casme2(bad, tmp_path / "store", executor=INLINE)
    assert not (tmp_path / "store").exists()


def test_truncated_frame_is_named(tmp_path):
    root = casme2_tree(tmp_path / "c2")
    p = root / "CASME2_RAW" / "sub01" / "EP19_05f" / "img7.jpg"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(InputError, match=r"img7\.jpg.*truncated"):
        import_casme2(root, tmp_path / "store", executor=INLINE)


def write_rows(path: Path, rows: list[list], sheet: str = "Sheet1", **more: list[list]) -> None:
    """Write raw rows (no header handling) to one or more sheets."""
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame(rows).to_excel(xw, sheet_name=sheet, header=False, index=False)
        for name, r in more.items():
            pd.DataFrame(r).to_excel(xw, sheet_name=name, header=False, index=False)


# --- SAMM ---------------------------------------------------------------------------------------

SAMM_HEADER = [
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset Frame",
    "Apex Frame",
    "Offset Frame",
    "Duration",
    "Type",
    "Action Units",
    "Estimated Emotion",
    "Objective Classes",
    "Notes",
]


@pytest.mark.parametrize("preamble", [0, 13])
def test_samm_header_position_and_minus_one(tmp_path, preamble):
    root = tmp_path / "SAMM"
    frames(root / "006" / "006_1_2", [f"006_{i:05d}.jpg" for i in range(5562, 5600)])
    frames(root / "007" / "007_3_1", [f"007_{i:05d}.jpg" for i in range(100, 140)])
    pre = [[f"SAMM release notes line {i}"] + [None] * 11 for i in range(preamble)]
    data = [
        [6, "006_1_2", 1, 5562, 5588, 5599, 38, "Micro", "R12+L10", "Happiness", 1, None],
        [7, "007_3_1", 3, 101, -1, 120, 20, "Micro", "4", "Anger", 2, "lip press"],
        [7, "007_3_1", 3, 110, 115, -1, 6, "Micro", "AU4+7", "Other", 7, None],
    ]
    write_rows(root / "SAMM_Micro_FACS_Codes_v2.xlsx", pre + [SAMM_HEADER] + data)
    st = import_samm(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("006", "1"), ("007", "1")]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a["trial"].tolist() == ["006_1_2", "007_3_1", "007_3_1"]
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [0, 26, 37],
        [1, 10, 20],
        [10, 15, 15],
    ]
    assert a["flags"].tolist() == ["", "apex_estimated", "offset_from_apex"]
    assert a["emotion"].tolist() == ["happiness", "anger", "others"]
    assert a["aus"].tolist() == ["R-AU12+L-AU10", "AU4", "AU4+AU7"]
    assert "objective_class=1" in a["notes"][0] and "lip press" in a["notes"][1]
    assert a["emotion3"].tolist()[:2] == ["positive", "negative"]
    q = st.report["quirks"]
    header_q = [x for x in q if x["quirk"].startswith("header on row")]
    assert len(header_q) == (1 if preamble else 0)
    fixes = [(x["row"], x["quirk"]) for x in q if "apex" in x["quirk"]]
    r0 = preamble + 2
    assert fixes[0][0] == r0 + 1 and "'-1'" in fixes[0][1]
    assert fixes[1][0] == r0 + 2 and "used as offset" in fixes[1][1]


def test_samm_long_videos_type_column(tmp_path):
    root = tmp_path / "SAMM_longvideos"
    frames(root / "006_1", [f"006_1_{i:04d}.jpg" for i in range(1, 201)])
    frames(root / "011_2", [f"011_2_{i:04d}.jpg" for i in range(1, 101)])
    header = [
        "Subject",
        "Filename",
        "Inducement Code",
        "Onset",
        "Apex",
        "Offset",
        "Duration",
        "Type",
        "Action Units",
        "Notes",
    ]
    pre = [[f"preamble {i}"] + [None] * 9 for i in range(10)]
    data = [
        [6, "006_1_1", 1, 10, 30, 60, 51, "Micro - 1/2", "12", None],
        [6, "006_1_2", 1, 100, 150, 190, 91, "Macro", "6+12", None],
        [11, "011_2_1", 2, 5, -1, 50, 46, "Micro - 1/2", "L14", None],
    ]
    write_rows(root / "SAMM_LONG_VIDEOS_V3.xlsx", pre + [header] + data)
    st = import_samm_lv(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("006", "1"), ("011", "1")]
    assert st.trials["trial"].tolist() == ["006_1", "011_2"]
    assert st.trials["n_frames"].tolist() == [200, 100]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a["type_coder"].tolist() == ["ME", "MaE", "ME"]
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [9, 29, 59],
        [99, 149, 189],
        [4, 26, 49],
    ]
    # 51 frames at 200 fps = 250 ms: the ME rule agrees
    assert a["type_rule"].tolist()[0] == "ME"
    assert a["flags"].tolist()[2] == "apex_estimated"


# --- SMIC-E -------------------------------------------------------------------------------------


def test_smic_e_estimates_apex_and_uses_firstf(tmp_path):
    root = tmp_path / "SMIC-E_raw"
    frames(
        root / "HS" / "s1" / "micro" / "negative" / "s1_ne_01",
        [f"image{i:06d}.bmp".replace(".bmp", ".jpg") for i in range(2000, 2060)],
    )
    # frame files renumbered from 0 in this clip: the sheet counts from FirstF
    frames(
        root / "HS" / "s3" / "micro" / "positive" / "s3_po_02",
        [f"image{i:06d}.jpg" for i in range(0, 40)],
    )
    header = ["Subject", "Filename", "OnsetF", "OffsetF", "Emotion", "FirstF"]
    data = [
        [1, "s1_ne_01", 2010, 2041, "negative", 2000],
        [3, "s3_po_02", 510, 530, "positive", 500],
        [3, "s3_sur_09", 10, 20, "surprise", 1],  # no frames in this tree
    ]
    write_rows(root / "SMIC-E_HS.xlsx", [header] + data)
    st = import_smic_e(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("s1", "1"), ("s3", "1")]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [10, 25, 41],
        [10, 20, 30],
    ]
    assert (a["flags"] == "apex_estimated").all()
    assert a["emotion3"].tolist() == ["negative", "positive"]
    assert a["offset_rel_s"].tolist() == pytest.approx([0.41, 0.30])
    est = [x for x in st.report["quirks"] if "no apex column" in x["quirk"]]
    assert [x["row"] for x in est] == [2, 3, 4]
    assert len(st.report["skipped"]) == 1 and st.report["skipped"][0]["row"] == 4
    firstf = [x["row"] for x in st.report["quirks"] if "not at FirstF 500" in x["quirk"]]
    assert firstf == [3, 3, 3]


# --- CAS(ME)^2 ----------------------------------------------------------------------------------


def test_cas_me_2_headerless_sheet_mappings_and_offset_zero(tmp_path):
    root = tmp_path / "CASME2_long"
    frames(root / "rawpic" / "s15" / "15_0401girlcrashing", [f"img{i}.jpg" for i in range(1, 121)])
    frames(root / "rawpic" / "s16" / "16_0502funnyerrors", [f"img{i}.jpg" for i in range(1, 61)])
    main = [
        [1, "anger1_1", 20, 25, 33, "4+7", "negative", "micro-expression", "anger"],
        [1, "anger1_2", 50, 70, 0, "L10", "negative", "macro-expression", "anger"],
        [2, "happy1_1", 5, 20, 40, "12", "positive", "macro-expression", "happy"],
    ]
    write_rows(
        root / "CAS(ME)^2code_final.xlsx",
        main,
        sheet="Sheet1",
        naming_rule1=[[401, "anger1"], [502, "happy1"]],
        naming_rule2=[[15, 1], [16, 2]],
    )
    st = import_casme_sq(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("s15", "1"), ("s16", "1")]
    assert st.trials["trial"].tolist() == ["15_0401girlcrashing", "16_0502funnyerrors"]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [19, 24, 32],
        [49, 69, 69],
        [4, 19, 39],
    ]
    assert a["type_coder"].tolist() == ["ME", "MaE", "MaE"]
    assert a["flags"].tolist() == ["", "offset_from_apex", ""]
    assert a["notes"].str.contains("self_report=anger").tolist() == [True, True, False]
    assert a["source"].tolist()[1] == "CAS(ME)^2code_final.xlsx:2"
    q = [x for x in st.report["quirks"] if "used as offset" in x["quirk"]]
    assert len(q) == 1 and q[0]["row"] == 2 and "'0'" in q[0]["quirk"]


# --- CAS(ME)^3, MMEW, 4DME ----------------------------------------------------------------------


def test_cas_me_3_part_a_colour_frames_and_onset_equals_apex(tmp_path):
    root = tmp_path / "part_A"
    frames(root / "data" / "spNO.1" / "b" / "color", [f"{i}.jpg" for i in range(0, 50)])
    frames(root / "data" / "spNO.1" / "b" / "depth", [f"{i}.png" for i in range(0, 3)])
    frames(root / "data" / "spNO.2" / "a" / "color", [f"{i}.jpg" for i in range(0, 30)])
    header = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]
    data = [
        ["spNO.1", "b", 10, 10, 20, "L1+R2", 3, "disgust"],
        ["spNO.2", "a", 3, 7, 12, "12", 1, "happy"],
    ]
    write_rows(root / "CAS(ME)3_part_A_ME_label.xlsx", [header] + data)
    st = import_casme3(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("spNO.1", "1"), ("spNO.2", "1")]
    assert st.trials["trial"].tolist() == ["b", "a"] and st.trials["n_frames"].tolist() == [50, 30]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [10, 10, 20],
        [3, 7, 12],
    ]
    assert a["flags"].tolist() == ["apex_equals_onset", ""]
    assert a["aus"].tolist() == ["L-AU1+R-AU2", "AU12"]
    assert a["emotion"].tolist() == ["disgust", "happiness"]
    assert [x["row"] for x in st.report["quirks"] if "apex equals onset" in x["quirk"]] == [2]


def test_mmew_clips_grouped_by_emotion(tmp_path):
    root = tmp_path / "MMEW"
    frames(root / "Micro_Expression" / "happiness" / "S01_01", [f"{i}.jpg" for i in range(1, 41)])
    frames(root / "Micro_Expression" / "surprise" / "S02_03", [f"{i}.jpg" for i in range(1, 21)])
    header = [
        "Subject",
        "Filename",
        "OnsetFrame",
        "ApexFrame",
        "OffsetFrame",
        "AU",
        "Estimated Emotion",
    ]
    data = [
        ["S01", "S01_01", 3, 10, 30, "AU6+AU12", "happiness"],
        ["S02", "S02_03", 2, 5, 9, "AU1+AU2", "surprise"],
    ]
    write_rows(root / "MMEW_Final.xlsx", [header] + data)
    st = import_mmew(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("S01", "1"), ("S02", "1")]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [2, 9, 29],
        [1, 4, 8],
    ]
    assert a["offset_rel_s"].tolist() == pytest.approx([29 / 90, 8 / 90])
    assert a["emotion3"].tolist() == ["positive", "surprise"]


def test_4dme_multi_label_emotion_flagged(tmp_path):
    root = tmp_path / "4DME"
    frames(root / "gray_micro_crop" / "sub01" / "01_01", [f"{i:03d}.jpg" for i in range(1, 61)])
    header = ["sub_ID", "fold_name", "Emotion", "Onset", "Apex", "Offset", "AUs"]
    data = [
        [1, "01_01", "Positive", 5, 12, 25, "AU12"],
        [1, "01_01", "Negative+Surprise", 30, 36, 50, "AU4+AU1"],
    ]
    write_rows(root / "4DME_Labelling.xlsx", [header] + data)
    st = import_4dme(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("sub01", "1")]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a[["onset_frame", "apex_frame", "offset_frame"]].values.tolist() == [
        [4, 11, 24],
        [29, 35, 49],
    ]
    assert a["emotion"].tolist() == ["positive", "negative+surprise"]
    assert a["flags"].tolist() == ["", "unknown_emotion"]
    assert a["onset_s"].tolist() == pytest.approx([4 / 60, 29 / 60])


# --- the per-format importers -------------------------------------------------------------------


IMPORTERS = {
    "casme-ii": import_casme2,
    "samm": import_samm,
    "samm-lv": import_samm_lv,
    "smic-e": import_smic_e,
    "cas-me-2": import_casme_sq,
    "cas-me-3": import_casme3,
    "mmew": import_mmew,
    "4dme": import_4dme,
}


def test_each_importer_is_import_classic_bound_to_its_documented_format(tmp_path):
    import inspect
    import pickle
    import sys

    from mmme.io.classic import FORMATS, import_classic

    assert set(IMPORTERS) == set(FORMATS)
    for name, fn in IMPORTERS.items():
        fmt = FORMATS[name]
        module_doc = inspect.cleandoc(sys.modules[fn.__module__].__doc__)
        # the layout, fps and quirks of the module docstring, then the shared parameters
        assert f"(``{name}``, {fmt.fps:g} fps)" in fn.__doc__.splitlines()[0]
        assert module_doc in fn.__doc__ and "check_frames : bool" in fn.__doc__
        assert "fmt :" not in fn.__doc__
        assert list(inspect.signature(fn).parameters) == [
            "src", "store", "sheet", "executor", "check_frames", "pseudonymize", "salt"
        ]  # fmt: skip
        assert pickle.loads(pickle.dumps(fn)) is fn  # executors pickle functions by reference
    via_wrapper = import_casme2(casme2_tree(tmp_path / "c2"), tmp_path / "a", executor=INLINE)
    direct = import_classic(FORMATS["casme-ii"], tmp_path / "c2", tmp_path / "b", executor=INLINE)
    assert via_wrapper.meta["dataset"] == direct.meta["dataset"] == "casme-ii"
    pd.testing.assert_frame_equal(via_wrapper.annotations, direct.annotations)
    pd.testing.assert_frame_equal(via_wrapper.trials, direct.trials)
