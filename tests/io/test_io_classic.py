"""Classic ME data set readers against small fake trees in the real layouts.

The layouts (header rows where they sit, sheet names, sentinels, quirks) are those the field's
public loader code reads and the official CAS(ME)^3 repository publishes: see docs/formats.md.
Every expected index below is computed by hand from the frame numbers of the fake tree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmme.data.store import Store
from mmme.executor import Executor
from mmme.io.classic import (
    import_4dme,
    import_casme2,
    import_casme3,
    import_casme3_c,
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


def write_rows(path: Path, rows: list[list], sheet: str = "Sheet1", **more: list[list]) -> None:
    """Write raw rows (no header handling) to one or more sheets (``naming_rule1`` -> sheet
    ``naming rule1``)."""
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame(rows).to_excel(xw, sheet_name=sheet, header=False, index=False)
        for name, r in more.items():
            pd.DataFrame(r).to_excel(
                xw, sheet_name=name.replace("_", " "), header=False, index=False
            )


def write_xls(path: Path, sheets: dict[str, list[list]]) -> None:
    """A legacy BIFF .xls workbook (as CAS(ME)^3 ships one); cells written as given."""
    import xlwt

    wb = xlwt.Workbook()
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v is not None:
                    ws.write(i, j, v)
    wb.save(str(path))


def frame_idx(a: pd.DataFrame) -> list[list[int]]:
    return a[["onset_frame", "apex_frame", "offset_frame"]].astype(int).values.tolist()


def by_source(st: Store) -> pd.DataFrame:
    return st.annotations.set_index("source")


def repaired(st: Store) -> list[tuple[str, str]]:
    return [(r["source"], r["flag"]) for r in st.report["repaired"]]


def skipped(st: Store) -> list[str]:
    return [r["source"] for r in st.report["skipped"]]


# --- CASME II -----------------------------------------------------------------------------------

CASME2_HEADER = [
    "Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None, "Action Units",
    "Estimated Emotion",
]  # fmt: skip


def casme2_tree(root: Path, extra_rows: list[list] | None = None, cropped: bool = False) -> Path:
    """``CASME2_RAW_selected/subXX/EPxx/imgN.jpg`` + ``CASME2-coding-20140508.xlsx``, header on
    row 1 with its two blank columns; ``cropped`` adds the ``Cropped/.../reg_imgN.jpg`` release."""
    raw = root / "CASME2_RAW_selected"
    frames(raw / "sub01" / "EP02_01f", [f"img{i}.jpg" for i in range(46, 90)])
    frames(raw / "sub01" / "EP19_05f", [f"img{i}.jpg" for i in range(1, 31)])
    frames(raw / "sub02" / "EP01_11f", [f"img{i}.jpg" for i in range(10, 40)])
    frames(raw / "sub02" / "EP03_02", [f"img{i}.jpg" for i in range(1, 21)])  # not coded
    if cropped:
        frames(root / "Cropped" / "sub01" / "EP02_01f", [f"reg_img{i}.jpg" for i in range(50, 80)])
    rows = [
        [1, "EP02_01f", None, 46, 59, 86, None, "4+L10", "disgust"],
        [1, "EP19_05f", None, 5, "/", 25, None, "R12", "happiness"],  # apex "/"
        [2, "EP01_11f", None, 12, 20, 45, None, "AU4+7", "repression"],  # offset past the clip
        [2, "EP99_01", None, 1, 2, 3, None, "12B", "others"],  # no frames: skipped
    ]
    write_rows(root / "CASME2-coding-20140508.xlsx", [CASME2_HEADER, *rows, *(extra_rows or [])])
    return root


def test_casme2_real_layout_counts_repairs_and_uncoded_clips(tmp_path):
    st = import_casme2(casme2_tree(tmp_path / "c2"), tmp_path / "store", executor=INLINE)
    assert st.sessions == [("sub01", "1"), ("sub02", "1")]
    assert st.meta["dataset"] == "casme-ii" and st.report["dataset"]["release"] == "raw"
    tr = st.trials.set_index(["subject", "trial"])
    # every clip folder is a trial, coded or not
    assert list(tr.index) == [
        ("sub01", "EP02_01f"), ("sub01", "EP19_05f"), ("sub02", "EP01_11f"), ("sub02", "EP03_02")
    ]  # fmt: skip
    assert tr["n_frames"].tolist() == [44, 30, 30, 20]
    assert st.report["clips"] == {"coded": 3, "uncoded": 1}
    # clip 2 starts 1 s after clip 1 ends (44 frames at 200 fps)
    assert tr.loc[("sub01", "EP19_05f"), "start_s"] == pytest.approx(44 / 200 + 1.0)
    a = by_source(st)
    assert len(a) == 3
    r = a.loc["CASME2-coding-20140508.xlsx:2"]
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (0, 13, 40)
    assert r["aus"] == "AU4+L-AU10" and r["emotion"] == "disgust" and r["flags"] == ""
    r = a.loc["CASME2-coding-20140508.xlsx:3"]
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (4, 14, 24)
    assert r["flags"] == "apex_estimated" and r["aus"] == "R-AU12"
    assert r["onset_s"] == pytest.approx(44 / 200 + 1.0 + 4 / 200)
    r = a.loc["CASME2-coding-20140508.xlsx:4"]  # offset 45 beyond img39: clamped to the last frame
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (2, 10, 29)
    assert r["flags"] == "frame_clamped" and r["emotion3"] == "negative"
    assert repaired(st) == [
        ("CASME2-coding-20140508.xlsx:3", "apex_estimated"),
        ("CASME2-coding-20140508.xlsx:4", "frame_clamped"),
    ]
    assert "'/'" in st.report["repaired"][0]["reason"]
    sk = st.report["skipped"]
    assert skipped(st) == ["CASME2-coding-20140508.xlsx:5"] and "EP99_01" in sk[0]["reason"]
    trial = st.trial("sub02", "1", "EP01_11f")
    assert trial.frames["path"].iloc[0] == "CASME2_RAW_selected/sub02/EP01_11f/img10.jpg"
    assert trial.read_frame(0).shape == (8, 8, 3)


def test_casme2_release_is_an_explicit_choice(tmp_path):
    from mmme.errors import InputError

    root = casme2_tree(tmp_path / "c2", cropped=True)
    with pytest.raises(InputError, match="raw and the cropped releases.*--release"):
        import_casme2(root, tmp_path / "s", executor=INLINE)
    st = import_casme2(root, tmp_path / "s", executor=INLINE, release="cropped")
    assert st.trials["trial"].tolist() == ["EP02_01f"]
    t = st.trial("sub01", "1", "EP02_01f")
    assert t.frames["path"].iloc[0] == "Cropped/sub01/EP02_01f/reg_img50.jpg"
    # frames 46/59/86 of the sheet on reg_img50..79: onset clamped up, offset clamped down
    r = by_source(st).loc["CASME2-coding-20140508.xlsx:2"]
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (0, 9, 29)
    assert skipped(st) == [f"CASME2-coding-20140508.xlsx:{k}" for k in (3, 4, 5)]
    raw = import_casme2(root, tmp_path / "r", executor=INLINE, release="raw")
    assert len(raw.trials) == 4 and len(raw.annotations) == 3
    with pytest.raises(InputError, match="unknown release 'colour'"):
        import_casme2(root, tmp_path / "x", executor=INLINE, release="colour")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ([1, "../../etc", None, 1, 2, 3], "escapes the data set root"),
        ([1, "/abs/EP02_01f", None, 1, 2, 3], "escapes the data set root"),
        ([1, "EP02_01f", None, "abc", 50, 60], "'OnsetFrame': 'abc' is not a frame number"),
        ([1, "EP02_01f", None, 70, 50, 60], "onset frame 70 after offset frame 60"),
        ([1, "EP02_01f", None, 95, 96, 99], "outside the clip's frames 46..89"),
        ([None, "EP02_01f", None, 47, 50, 60], "Subject or Filename empty"),
    ],
)
def test_casme2_unusable_row_is_skipped_and_named(tmp_path, row, reason):
    st = import_casme2(casme2_tree(tmp_path / "c2", [row]), tmp_path / "s", executor=INLINE)
    assert len(st.annotations) == 3  # the good rows are all there
    sk = sorted(st.report["skipped"], key=lambda s: s["row"])
    assert [s["source"] for s in sk] == ["CASME2-coding-20140508.xlsx:5"] + [
        "CASME2-coding-20140508.xlsx:6"
    ]
    assert reason in sk[1]["reason"] and sk[1]["row"] == 6 and sk[1]["sheet"] == "Sheet1"


def test_casme2_offset_zero_takes_the_apex(tmp_path):
    row = [1, "EP02_01f", None, 47, 50, 0, None, "4", "disgust"]
    st = import_casme2(casme2_tree(tmp_path / "c2", [row]), tmp_path / "s", executor=INLINE)
    r = by_source(st).loc["CASME2-coding-20140508.xlsx:6"]
    assert (r["onset_frame"], r["apex_frame"], r["offset_frame"]) == (1, 4, 4)
    assert r["flags"] == "offset_from_apex"


def test_unreadable_au_cell_is_kept_and_flagged(tmp_path):
    row = [1, "EP02_01f", None, 47, 50, 60, None, "X9", "disgust"]
    st = import_casme2(casme2_tree(tmp_path / "c2", [row]), tmp_path / "s", executor=INLINE)
    r = by_source(st).loc["CASME2-coding-20140508.xlsx:6"]
    assert r["aus"] == "" and r["flags"] == "aus_unreadable" and "aus=X9" in r["notes"]
    assert ("CASME2-coding-20140508.xlsx:6", "aus_unreadable") in repaired(st)


def test_strict_makes_any_repair_or_skip_an_error_and_keeps_the_store(tmp_path):
    from mmme.errors import InputError

    root = casme2_tree(tmp_path / "c2")
    store = tmp_path / "store"
    import_casme2(root, store, executor=INLINE)
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    with pytest.raises(InputError, match=r"--strict: 2 repaired row\(s\), 1 skipped.*xlsx:5"):
        import_casme2(root, store, executor=INLINE, strict=True)
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before
    assert not list(tmp_path.glob(".store.tmp-*"))
    # a clean tree passes --strict
    clean = tmp_path / "clean"
    frames(clean / "CASME2_RAW_selected" / "sub01" / "EP02_01f", [f"img{i}.jpg" for i in range(9)])
    good = [1, "EP02_01f", None, 1, 4, 7, None, "12", "happiness"]
    write_rows(clean / "CASME2-coding-20140508.xlsx", [CASME2_HEADER, good])
    st = import_casme2(clean, tmp_path / "s2", executor=INLINE, strict=True)
    assert frame_idx(st.annotations) == [[1, 4, 7]]
    # one repaired row alone (apex "/") is enough to fail
    write_rows(clean / "CASME2-coding-20140508.xlsx",
               [CASME2_HEADER, good, [1, "EP02_01f", None, 2, "/", 6]])  # fmt: skip
    with pytest.raises(InputError, match=r"1 repaired row\(s\), 0 skipped.*xlsx:3: repaired "
                       r"\(apex_estimated\)"):  # fmt: skip
        import_casme2(clean, tmp_path / "s2", executor=INLINE, strict=True)
    assert frame_idx(Store(tmp_path / "s2").annotations) == [[1, 4, 7]]


def test_damaged_frame_is_listed_not_fatal(tmp_path):
    root = casme2_tree(tmp_path / "c2")
    p = root / "CASME2_RAW_selected" / "sub01" / "EP19_05f" / "img7.jpg"
    p.write_bytes(p.read_bytes()[:-10])
    st = import_casme2(root, tmp_path / "store", executor=INLINE)
    assert st.report["damaged_frames"] == [
        {"file": "CASME2_RAW_selected/sub01/EP19_05f/img7.jpg",
         "reason": "frame image is truncated or damaged"}
    ]  # fmt: skip
    # the damaged frame keeps its place: later frames keep their indices
    assert len(st.trial("sub01", "1", "EP19_05f").frames) == 30


# --- SAMM ---------------------------------------------------------------------------------------

SAMM_HEADER = [
    "Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame",
    "Duration", "Micro", "Action Units", "Estimated Emotion", "Objective Classes", "Notes",
]  # fmt: skip


def test_samm_header_on_row_14_alternatives_and_apex_outside(tmp_path):
    root = tmp_path / "SAMM"
    frames(root / "006" / "006_1_2", [f"006_{i:05d}.jpg" for i in range(5562, 5600)])
    frames(root / "007" / "007_3_1", [f"007_{i:05d}.jpg" for i in range(100, 140)])
    frames(root / "007" / "007_3_5", [f"007_{i:05d}.jpg" for i in range(500, 520)])  # not coded
    pre = [[f"SAMM release notes line {i}"] + [None] * 11 for i in range(13)]
    data = [
        [6, "006_1_2", 1, 5562, 5588, 5599, 38, "Micro", "R12 or R15", "Happiness", 1, None],
        [7, "007_3_1", 3, 101, 130, 120, 20, "Micro", "4", "Anger", 2, "lip press"],  # apex out
        [7, "007_3_1", 3, 110, 115, -1, 6, "Micro", "AU4+7", "Other", 7, None],
        [7, "007_3_1", 3, 102, 104, 108, 7, "Micro", "A1+2", "Others", 7, None],
        [9, "009_1_1", 1, 10, 12, 14, 5, "Micro", "12", "Happiness", 1, None],  # no frames
    ]
    write_rows(root / "SAMM_Micro_FACS_Codes_v2.xlsx", pre + [SAMM_HEADER] + data)
    st = import_samm(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("006", "1"), ("007", "1")]
    assert st.trials["trial"].tolist() == ["006_1_2", "007_3_1", "007_3_5"]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a["source"].tolist() == [f"SAMM_Micro_FACS_Codes_v2.xlsx:{k}" for k in (15, 16, 17, 18)]
    assert frame_idx(a) == [[0, 26, 37], [1, 10, 20], [10, 15, 15], [2, 4, 8]]
    assert a["flags"].tolist() == [
        "au_alternatives", "apex_out_of_range", "offset_from_apex", "aus_unreadable"
    ]  # fmt: skip
    assert a["aus"].tolist() == ["R-AU12|R-AU15", "AU4", "AU4+AU7", ""]
    assert a["emotion"].tolist() == ["happiness", "anger", "others", "others"]
    assert a["type_coder"].tolist() == ["ME"] * 4
    assert "objective_class=1" in a["notes"][0] and "lip press" in a["notes"][1]
    rep = st.report["repaired"]
    assert [(r["row"], r["flag"]) for r in rep] == [
        (15, "au_alternatives"), (16, "apex_out_of_range"), (17, "offset_from_apex"),
        (18, "aus_unreadable"),
    ]  # fmt: skip
    assert "apex frame 130 outside onset 101 .. offset 120" in rep[1]["reason"]
    assert "'-1'" in rep[2]["reason"]
    assert skipped(st) == ["SAMM_Micro_FACS_Codes_v2.xlsx:19"]
    header_q = [q for q in st.report["quirks"] if q["quirk"].startswith("header on row 14")]
    assert len(header_q) == 1


def test_samm_long_videos_header_on_row_10_and_uncoded_videos(tmp_path):
    root = tmp_path / "SAMM_longvideos"
    frames(root / "006_1", [f"006_1_{i:04d}.jpg" for i in range(1, 201)])
    frames(root / "011_2", [f"011_2_{i:04d}.jpg" for i in range(1, 101)])
    frames(root / "011_3", [f"011_3_{i:04d}.jpg" for i in range(1, 51)])  # no expression
    header = ["Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration",
              "Type", "Action Units", "Notes"]  # fmt: skip
    pre = [[f"preamble {i}"] + [None] * 9 for i in range(9)]
    data = [
        [6, "006_1_1", 1, 10, 30, 60, 51, "Micro - 1/2", "12", None],
        [6, "006_1_2", 1, 100, 150, 190, 91, "Macro", "6+12", None],
        [11, "011_2_1", 2, 5, -1, 50, 46, "Micro - 1/2", "L14", None],
    ]
    write_rows(root / "SAMM_LongVideos_V3_Release.xlsx", pre + [header] + data)
    st = import_samm_lv(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("006", "1"), ("011", "1")]
    assert st.trials["trial"].tolist() == ["006_1", "011_2", "011_3"]
    assert st.trials["n_frames"].tolist() == [200, 100, 50]
    assert st.report["clips"] == {"coded": 2, "uncoded": 1}
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a["source"].tolist()[0] == "SAMM_LongVideos_V3_Release.xlsx:11"
    assert a["type_coder"].tolist() == ["ME", "MaE", "ME"]
    assert frame_idx(a) == [[9, 29, 59], [99, 149, 189], [4, 26, 49]]
    assert a["type_rule"].tolist()[0] == "ME"  # 51 frames at 200 fps = 250 ms
    assert a["flags"].tolist()[2] == "apex_estimated"


# --- SMIC-E -------------------------------------------------------------------------------------

SMIC_HEADER = ["Subject", "Filename", "OnsetF", "OffsetF", "TotalMF1", "Onset2F", "Offset2F",
               "TotalMF2", "Onset3F", "Offset3F", "TotalMF3", "Emotion", "FirstF", "LastF",
               "TotalVL"]  # fmt: skip


def test_smic_e_three_expressions_per_row_note_rows_and_text_firstf(tmp_path):
    root = tmp_path / "SMIC-E"
    hs = root / "SMIC-HS-E"
    frames(hs / "s01" / "s1_ne_01", [f"image{i:06d}.jpg" for i in range(2000, 2060)])
    frames(hs / "s01" / "s1_po_02", [f"image{i:06d}.jpg" for i in range(500, 540)])
    # frame files renumbered from 0 in this clip: the sheet counts from FirstF
    frames(hs / "s03" / "s3_sur_01", [f"image{i:06d}.jpg" for i in range(0, 40)])
    frames(hs / "s03" / "s3_ne_04", [f"image{i:06d}.jpg" for i in range(0, 10)])  # not coded
    e = [None] * 6
    data = [
        [1, "s1_ne_01", 2010, 2020, 11, 2030, 2041, 12, 2050, 2055, 6, "negative", 2000, 2059, 60],
        [1, "s1_po_02", 505, 520, 16, *e, "positive", "image500", 539, 40],
        [3, "s3_sur_01", 510, 530, 21, *e, "surprise", 500, 539, 40],
        [3, "s3_sur_09", 10, 20, 11, *e, "surprise", 1, 30, 30],  # absent from the release
        [None] * 15,
        ["s3_sur_09 is missing from this release"] + [None] * 14,  # free text below the table
    ]
    write_rows(root / "SMIC-HS-E_annotation.xlsx", [SMIC_HEADER, *data])
    st = import_smic_e(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("s01", "1"), ("s03", "1")]
    assert st.trials["trial"].tolist() == ["s1_ne_01", "s1_po_02", "s3_ne_04", "s3_sur_01"]
    a = by_source(st)
    f = "SMIC-HS-E_annotation.xlsx"
    assert sorted(a.index) == sorted([f"{f}:2", f"{f}:2#2", f"{f}:2#3", f"{f}:3", f"{f}:4"])
    got = {s: [int(a.loc[s, c]) for c in ("onset_frame", "apex_frame", "offset_frame")]
           for s in a.index}  # fmt: skip
    assert got == {
        f"{f}:2": [10, 15, 20],
        f"{f}:2#2": [30, 35, 41],
        f"{f}:2#3": [50, 52, 55],
        f"{f}:3": [5, 12, 20],
        f"{f}:4": [10, 20, 30],
    }
    assert (a["flags"] == "apex_estimated").all()
    assert a.loc[f"{f}:2#2", "emotion"] == "negative" and "2nd expression" in a.loc[f"{f}:2#2",
                                                                                    "notes"]
    assert a.loc[f"{f}:3", "offset_rel_s"] == pytest.approx(0.20)
    # SMIC's missing apex is the data set's convention: reported once, not as repaired rows
    assert st.report["repaired"] == []
    assert skipped(st) == [f"{f}:5"]
    q = [x["quirk"] for x in st.report["quirks"]]
    assert sum("no apex column" in x for x in q) == 1
    assert any("'image500' is not a frame number" in x for x in q)
    assert any("not at FirstF 500" in x for x in q)
    notes = [x for x in st.report["quirks"] if "not an expression" in x["quirk"]]
    assert [x["row"] for x in notes] == [7]


# --- CAS(ME)^2 ----------------------------------------------------------------------------------


def casme_sq_tree(root: Path) -> Path:
    raw = root / "rawpic"
    frames(raw / "s15" / "15_0101disgustingteeth", [f"img{i:03d}.jpg" for i in range(1, 121)])
    frames(raw / "s32" / "32_0101disgustingteeth", [f"img{i:03d}.jpg" for i in range(1, 81)])
    frames(raw / "s32" / "32_0502funnyerrors", [f"img{i:03d}.jpg" for i in range(1, 61)])
    frames(raw / "s16" / "16_0401girlcrashing", [f"img{i:03d}.jpg" for i in range(1, 91)])
    # another release beside rawpic, not read by default
    frames(root / "cropped" / "s15" / "15_0101disgustingteeth", ["img001.jpg", "img002.jpg"])
    main = [
        [1, "disgust1_1", 20, 25, 33, "4+7", "negative", "micro-expression", "disgust"],
        [1, "disgust1_2", 50, 70, 0, "L10", "negative", "macro-expression", "disgust"],
        [15, "disgust1_1", 5, 20, 40, "12", "negative", "macro-expression", "disgust"],
        [2, "anger1_1", 10, 12, 14, "4", "negative", "micro-expression", "anger"],
        [16, "anger1_1", 10, 12, 14, "4", "negative", "micro-expression", "anger"],  # no frames
    ]
    write_rows(
        root / "CAS(ME)^2code_final.xlsx",
        main,
        sheet="CASFEcode_final",
        # folder number, folder name, subject number of the first sheet: sheet subject 15 is
        # folder s32, while folder s15 is sheet subject 1
        naming_rule1=[[15, "s15", 1], [16, "s16", 2], [32, "s32", 15], [33, "s33", 16]],
        naming_rule2=[[101, "disgust1"], ["0401", "anger1"], ["0502", "happy1"]],
    )
    return root


def test_cas_me_2_subjects_through_the_third_column_of_naming_rule1(tmp_path):
    st = import_casme_sq(casme_sq_tree(tmp_path / "CASME_sq"), tmp_path / "store", executor=INLINE)
    assert st.sessions == [("s15", "1"), ("s16", "1"), ("s32", "1")]
    assert st.report["dataset"]["release"] == "raw"
    assert st.trials["trial"].tolist() == [
        "15_0101disgustingteeth", "16_0401girlcrashing", "32_0101disgustingteeth",
        "32_0502funnyerrors",
    ]  # fmt: skip
    a = st.annotations.sort_values("source").reset_index(drop=True)
    # sheet subject 1 -> s15, sheet subject 15 -> s32 (not s15: the first column is not the key)
    assert list(zip(a["source"], a["subject"], a["trial"], strict=True)) == [
        ("CAS(ME)^2code_final.xlsx:1", "s15", "15_0101disgustingteeth"),
        ("CAS(ME)^2code_final.xlsx:2", "s15", "15_0101disgustingteeth"),
        ("CAS(ME)^2code_final.xlsx:3", "s32", "32_0101disgustingteeth"),
        ("CAS(ME)^2code_final.xlsx:4", "s16", "16_0401girlcrashing"),
    ]
    assert frame_idx(a) == [[19, 24, 32], [49, 69, 69], [4, 19, 39], [9, 11, 13]]
    assert a["type_coder"].tolist() == ["ME", "MaE", "MaE", "ME"]
    assert a["flags"].tolist() == ["", "offset_from_apex", "", ""]
    assert a["notes"].str.contains("self_report=disgust").tolist() == [True, True, True, False]
    assert repaired(st) == [("CAS(ME)^2code_final.xlsx:2", "offset_from_apex")]
    assert "'0'" in st.report["repaired"][0]["reason"]
    assert skipped(st) == ["CAS(ME)^2code_final.xlsx:5"]
    assert "'s33'" in st.report["skipped"][0]["reason"]
    assert st.trial("s15", "1", "15_0101disgustingteeth").frames["path"].iloc[0] == (
        "rawpic/s15/15_0101disgustingteeth/img001.jpg"
    )


# --- CAS(ME)^3 part A ---------------------------------------------------------------------------

CASME3_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class",
                 "emotion"]  # fmt: skip


def casme3_tree(root: Path) -> Path:
    data = root / "part_A" / "data" / "part_A"
    frames(data / "spNO.1" / "a" / "color", [f"{i}.jpg" for i in range(0, 50)])
    frames(data / "spNO.1" / "a" / "depth", [f"{i}.png" for i in range(0, 3)])
    frames(data / "spNO.1" / "j" / "color", [f"{i}.jpg" for i in range(0, 30)])
    frames(data / "spNO.2" / "b" / "color", [f"{i}.jpg" for i in range(0, 40)])
    frames(data / "spNO.2" / "c" / "color", [f"{i}.jpg" for i in range(0, 10)])  # not coded
    rows = [  # every cell stored as text, as in the published workbook
        ["spNO.1", "a", "10", "10", "20", "T28+14", "3", "disgust"],  # onset = apex
        ["spNO.1", "J", "3", "1", "12", "B28", "1", "happy"],  # apex before onset, capital J
        ["spNO.2", "b", "5", "9", "0", "4+7", "2", "anger"],  # offset 0
        ["spNO.2", "b", "20", "15", "0", "4", "2", "anger"],  # offset 0 -> apex before onset
        ["spNO.2", "b", "abc", "15", "18", "4", "2", "anger"],  # unreadable onset
    ]
    write_rows(
        root / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
        [CASME3_HEADER, *rows],
        sheet="label",
        Sheet1=[["pivot"], ["of nothing"]],
        Sheet3=[["x"]],
    )
    write_xls(
        root / "CAS(ME)3_part_A_v2.xls",
        {
            "AU+Emotion": [
                [*CASME3_HEADER, "Expression type"],
                ["spNO.1", "a", 10, 12, 20, "4", 1, "happy", "Micro-expression"],
                ["spNO.2", "b", 2, 20, 39, "12", 1, "happy", "Macro-expression"],
            ],
            "eye blink": [["Subject", "Filename", "Onset"], ["spNO.1", "a", 40]],
        },
    )
    return root


def test_cas_me_3_part_a_text_cells_prefixes_and_repairs(tmp_path):
    root = casme3_tree(tmp_path / "CASME3")
    dmg = root / "part_A" / "data" / "part_A" / "spNO.2" / "b" / "color" / "30.jpg"
    dmg.write_bytes(dmg.read_bytes()[:-10])  # the repository lists damaged images
    st = import_casme3(root, tmp_path / "store", executor=INLINE)
    assert st.report["dataset"]["sheet"] == "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
    assert any("CAS(ME)3_part_A_v2.xls" in q["quirk"] for q in st.report["quirks"])
    assert st.sessions == [("spNO.1", "1"), ("spNO.2", "1")]
    assert st.trials["trial"].tolist() == ["a", "j", "b", "c"]
    assert st.trials["n_frames"].tolist() == [50, 30, 40, 10]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    f = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
    assert a["source"].tolist() == [f"{f}:2", f"{f}:3", f"{f}:4"]
    assert a["trial"].tolist() == ["a", "j", "b"]
    assert frame_idx(a) == [[10, 10, 20], [3, 7, 12], [5, 9, 9]]
    assert a["flags"].tolist() == ["apex_equals_onset", "apex_out_of_range", "offset_from_apex"]
    assert a["aus"].tolist() == ["T-AU28+AU14", "B-AU28", "AU4+AU7"]
    assert a["emotion"].tolist() == ["disgust", "happiness", "anger"]
    assert [s["row"] for s in st.report["skipped"]] == [5, 6]
    assert "onset frame 20 after offset frame 15" in st.report["skipped"][0]["reason"]
    assert "'abc'" in st.report["skipped"][1]["reason"]
    assert [d["file"] for d in st.report["damaged_frames"]] == [
        "part_A/data/part_A/spNO.2/b/color/30.jpg"
    ]


def test_cas_me_3_legacy_xls_workbook_with_expression_type(tmp_path):
    root = casme3_tree(tmp_path / "CASME3")
    st = import_casme3(root, tmp_path / "store", executor=INLINE,
                       sheet=root / "CAS(ME)3_part_A_v2.xls")  # fmt: skip
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert a["source"].tolist() == ["CAS(ME)3_part_A_v2.xls:2", "CAS(ME)3_part_A_v2.xls:3"]
    assert frame_idx(a) == [[10, 12, 20], [2, 20, 39]]
    assert a["type_coder"].tolist() == ["ME", "MaE"]
    assert st.report["skipped"] == [] and st.report["repaired"] == []


# --- MMEW, 4DME ---------------------------------------------------------------------------------


def test_mmew_clips_grouped_by_emotion_remarks_and_wrong_frames(tmp_path):
    root = tmp_path / "MMEW"
    micro = root / "Micro_Expression"
    frames(micro / "happiness" / "S13-07-001", [f"{i}.jpg" for i in range(1, 41)])
    frames(micro / "surprise" / "S02-03-002", [f"{i}.jpg" for i in range(1, 21)])
    frames(micro / "surprise" / "S02-05-001", [f"{i}.jpg" for i in range(1, 11)])  # not coded
    frames(root / "Macro_Expression" / "S01" / "anger" / "S01-01-001", ["1.jpg", "2.jpg"])
    header = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units",
              "Estimated Emotion", "remarks"]  # fmt: skip
    data = [
        ["S13", "S13-07-001", 3, 10, 30, "AU6+AU12", "happiness", None],
        ["S02", "S02-03-002", 2, 25, 9, "AU1+AU2", "surprise", "apex checked twice"],
        ["S02", "S02-03-002", 5, 8, 24, "AU1", "surprise", None],  # offset past the clip
    ]
    write_rows(root / "MMEW_Micro_Exp.xlsx", [header, *data])
    st = import_mmew(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("S02", "1"), ("S13", "1")]
    assert st.trials["trial"].tolist() == ["S02-03-002", "S02-05-001", "S13-07-001"]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert frame_idx(a) == [[2, 9, 29], [1, 4, 8], [4, 7, 19]]
    assert a["subject"].tolist() == ["S13", "S02", "S02"]
    assert a["flags"].tolist() == ["", "apex_out_of_range", "frame_clamped"]
    assert "apex checked twice" in a["notes"][1]
    assert a["offset_rel_s"].tolist() == pytest.approx([29 / 90, 8 / 90, 19 / 90])


def test_4dme_static_aus_and_combined_emotions(tmp_path):
    root = tmp_path / "4DME"
    crop = root / "gray_micro_crop"
    frames(crop / "sub01" / "01_01", [f"{i}.jpg" for i in range(1, 61)])
    frames(crop / "sub01" / "01_02", [f"{i}.jpg" for i in range(1, 11)])  # not coded
    header = ["sub_ID", "fold_name", "Emotion", "Onset", "Apex", "Offset", "AUs", "Type"]
    data = [
        ["sub01", "01_01", "Positive", 5, 12, 25, "AU4(k)+L7", "Micro"],
        ["sub01", "01_01", "Surprise+Positive", 30, 36, 50, "AUR2+12(k)+45", "Micro"],
        ["sub01", "01_01", "Repression+Disgust+Sleepy", 1, 2, 3, "4", "Micro"],
    ]
    write_rows(root / "4DME_Labelling_Micro_release v1.xlsx", [header, *data])
    st = import_4dme(root, tmp_path / "store", executor=INLINE)
    assert st.sessions == [("sub01", "1")]
    assert st.trials["trial"].tolist() == ["01_01", "01_02"]
    a = st.annotations.sort_values("source").reset_index(drop=True)
    assert frame_idx(a) == [[4, 11, 24], [29, 35, 49], [0, 1, 2]]
    assert a["aus"].tolist() == ["AU4(k)+L-AU7", "R-AU2+AU12(k)+AU45", "AU4"]
    assert a["emotion"].tolist() == ["positive", "surprise+positive", "repression+disgust+sleepy"]
    assert a["flags"].tolist() == ["", "combined_emotion", "unknown_emotion"]
    assert a["emotion3"].tolist()[0] == "positive" and pd.isna(a["emotion3"][1])
    assert a["onset_s"].tolist()[:2] == pytest.approx([4 / 60, 29 / 60])


# --- the per-format importers -------------------------------------------------------------------


IMPORTERS = {
    "casme-ii": import_casme2,
    "samm": import_samm,
    "samm-lv": import_samm_lv,
    "smic-e": import_smic_e,
    "cas-me-2": import_casme_sq,
    "cas-me-3": import_casme3,
    "cas-me-3-c": import_casme3_c,
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
        assert module_doc in fn.__doc__ and "strict : bool" in fn.__doc__
        assert "fmt :" not in fn.__doc__
        assert list(inspect.signature(fn).parameters) == [
            "src", "store", "sheet", "executor", "check_frames", "pseudonymize", "salt",
            "release", "strict",
        ]  # fmt: skip
        assert pickle.loads(pickle.dumps(fn)) is fn  # executors pickle functions by reference
    via_wrapper = import_casme2(casme2_tree(tmp_path / "c2"), tmp_path / "a", executor=INLINE)
    direct = import_classic(FORMATS["casme-ii"], tmp_path / "c2", tmp_path / "b", executor=INLINE)
    assert via_wrapper.meta["dataset"] == direct.meta["dataset"] == "casme-ii"
    pd.testing.assert_frame_equal(via_wrapper.annotations, direct.annotations)
    pd.testing.assert_frame_equal(via_wrapper.trials, direct.trials)


# --- the command line ---------------------------------------------------------------------------


def test_cli_import_counts_validate_lists_strict_fails_info_shows_clips(tmp_path):
    import json

    from typer.testing import CliRunner

    from mmme.cli import app

    runner = CliRunner()
    root = casme2_tree(tmp_path / "c2", cropped=True)
    store = tmp_path / "store"
    r = runner.invoke(app, ["import", "casme-ii", str(root), str(store), "-j", "1"])
    assert r.exit_code == 2 and "--release" in r.output
    args = ["import", "casme-ii", str(root), str(store), "-j", "1", "--release", "raw"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "4 trial(s) (3 coded, 1 uncoded), 3 event(s)" in text
    assert "2 row(s) repaired, 1 row(s) skipped" in text
    r = runner.invoke(app, ["validate", str(store), "--json"])
    assert r.exit_code == 0, r.output
    probs = json.loads(r.output)
    listed = [(p["kind"], p["where"]) for p in probs if p["kind"].endswith("_row")]
    assert listed == [
        ("repaired_row", "CASME2-coding-20140508.xlsx:3"),
        ("repaired_row", "CASME2-coding-20140508.xlsx:4"),
        ("skipped_row", "CASME2-coding-20140508.xlsx:5"),
    ]
    detail = {p["where"]: p["detail"] for p in probs if p["kind"].endswith("_row")}
    assert detail["CASME2-coding-20140508.xlsx:4"].startswith("frame_clamped: offset frame 45")
    assert "EP99_01" in detail["CASME2-coding-20140508.xlsx:5"]
    r = runner.invoke(app, [*args, "--strict"])
    assert r.exit_code == 2 and "--strict: 2 repaired row(s), 1 skipped row(s)" in r.output
    r = runner.invoke(app, ["info", str(store)])
    assert r.exit_code == 0 and "3 coded, 1 uncoded" in r.output
    r = runner.invoke(app, ["info", str(store), "--json"])
    assert json.loads(r.output)["clips"] == {"coded": 3, "uncoded": 1}
