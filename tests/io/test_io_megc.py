"""The MEGC2019 composite protocol built from imported SMIC-E, CASME II and SAMM stores."""

from __future__ import annotations

import pytest
from test_io_classic import SAMM_HEADER, casme2_tree, frames, write_rows

from mmme.errors import InputError
from mmme.executor import Executor
from mmme.io.classic import import_casme2, import_mmew, import_samm, import_smic_e
from mmme.io.classic.megc import megc2019_summary, megc2019_table

INLINE = Executor(n_jobs=1, progress=False)


def test_megc2019_regroups_labels_and_prefixes_subjects(tmp_path):
    casme = import_casme2(casme2_tree(tmp_path / "c2"), tmp_path / "st_c2", executor=INLINE)
    root = tmp_path / "SAMM"
    frames(root / "006" / "006_1_2", [f"006_{i:05d}.jpg" for i in range(10, 30)])
    emos = ["Contempt", "Other", "Happiness", "Fear"]
    rows = [[6, "006_1_2", 1, 11 + k, 12 + k, 13 + k, 3, "Micro", "12", e, 1, None]
            for k, e in enumerate(emos)]  # fmt: skip
    write_rows(root / "samm.xlsx", [SAMM_HEADER, *rows])
    samm = import_samm(root, tmp_path / "st_samm", executor=INLINE)
    root = tmp_path / "SMIC"
    frames(root / "s1" / "s1_sur_01", [f"image{i:06d}.jpg" for i in range(0, 20)])
    write_rows(
        root / "smic.xlsx",
        [["Subject", "Filename", "OnsetF", "OffsetF", "Emotion", "FirstF"],
         [1, "s1_sur_01", 2, 9, "surprise", 0]],
    )  # fmt: skip
    smic = import_smic_e(root, tmp_path / "st_smic", executor=INLINE)
    t = megc2019_table([casme, samm, str(smic.path)])
    # CASME II: disgust, happiness, repression kept (others would be dropped); SAMM: Other dropped
    got = sorted(zip(t["dataset"], t["emotion"], t["label"], strict=True))
    assert got == [
        ("casme-ii", "disgust", "negative"),
        ("casme-ii", "happiness", "positive"),
        ("casme-ii", "repression", "negative"),
        ("samm", "contempt", "negative"),
        ("samm", "fear", "negative"),
        ("samm", "happiness", "positive"),
        ("smic-e", "surprise", "surprise"),
    ]
    assert set(t["subject"]) == {"casme-ii/sub01", "casme-ii/sub02", "samm/006", "smic-e/s1"}
    s = megc2019_summary(t)
    assert s["total"] == {
        "subjects": 4,
        "samples": 7,
        "published": {"subjects": 68, "samples": 442},
    }
    assert s["samm"]["negative"] == 2 and s["samm"]["published"]["samples"] == 133
    with pytest.raises(InputError, match="given twice"):
        megc2019_table([casme, casme])


def test_megc2019_refuses_other_data_sets(tmp_path):
    root = tmp_path / "MMEW"
    frames(root / "S01_01", [f"{i}.jpg" for i in range(1, 10)])
    write_rows(
        root / "m.xlsx",
        [
            ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame"],
            ["S01", "S01_01", 1, 2, 3],
        ],
    )
    st = import_mmew(root, tmp_path / "st", executor=INLINE)
    with pytest.raises(InputError, match="'mmew' is not part of MEGC2019"):
        megc2019_table([st])
