"""The public MMME sample coding files (real rows, pseudonymised) import on their own."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.annotations import has_flag
from mmme.errors import InputError
from mmme.io.coding import read_coding_file

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PLAIN = DATA / "mmme_coding_file_sample.xlsx"
TYPED = DATA / "mmme_coding_file_sample_with_type.xlsx"
needs_sample = pytest.mark.skipif(
    not TYPED.exists(), reason="the real sample lies in ../shared/data beside the checkout"
)


@needs_sample
def test_sample_with_type_column_keeps_coders_split():
    c = read_coding_file(TYPED)
    a = c.annotations
    assert len(a) == 944 and a["subject"].nunique() == 16
    assert a["type"].value_counts().to_dict() == {"MaE": 645, "ME": 299}
    # the shared README: 13 of the 299 Micro rows break the ME rule
    micro = a[a["type_coder"] == "ME"]
    assert (micro["type_rule"] == "MaE").sum() == 13
    flagged = has_flag(a, "type_disagrees_with_rule")
    assert flagged.sum() == (a["type_coder"] != a["type_rule"]).sum() == 195


@needs_sample
def test_sample_without_type_column_uses_rule():
    a = read_coding_file(PLAIN).annotations
    assert a["type_coder"].isna().all()
    assert a["type"].value_counts().to_dict() == {"MaE": 476, "ME": 468}
    # the rule on whole milliseconds of the coded times, checked independently here
    total = ((a["offset_rel_s"] - a["onset_rel_s"]) * 1000).round().astype(int)
    rise = ((a["apex_rel_s"] - a["onset_rel_s"]) * 1000).round().astype(int)
    rule = pd.Series(
        ["ME" if t <= 500 or r <= 250 else "MaE" for t, r in zip(total, rise, strict=True)]
    )
    assert (rule == a["type"].astype(str)).all()
    assert has_flag(a, "apex_equals_offset").sum() == (a["apex_stamp"] == a["offset_stamp"]).sum()


@needs_sample
def test_info_and_validate_on_sample(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["info", str(TYPED), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["subjects"] == 16 and info["events"] == {"ME": 299, "MaE": 645}
    assert sum(v["ME"] + v["MaE"] for v in info["per_emotion"].values()) == 944
    assert set(info["per_emotion"]) == {
        "anger",
        "disgust",
        "fear",
        "happiness",
        "sadness",
        "surprise",
        "tense",
    }
    assert info["au_counts"]["AU4"] > info["au_counts"]["AU12"] > 0
    assert 250 < info["duration_ms"]["ME"]["mean"] < 500
    r = runner.invoke(app, ["validate", str(TYPED), "--json"])
    assert r.exit_code == 0  # warnings only
    problems = json.loads(r.output)
    listed = {p["where"] for p in problems if p["kind"] == "type_disagrees_with_rule"}
    a = read_coding_file(TYPED).annotations
    assert listed == set(a[has_flag(a, "type_disagrees_with_rule")]["source"])
    r = runner.invoke(app, ["import", "mmme", str(TYPED), str(tmp_path / "st")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["info", str(tmp_path / "st"), "--json"])
    assert json.loads(r.output)["events"] == {"ME": 299, "MaE": 645}


def test_bad_rows_are_named(tmp_path):
    rows = pd.DataFrame(
        {
            "Subject": ["S01", "S01"],
            "Filename": ["a_1_101_S01_20230101.avi"] * 2,
            "Marker": [101, 101],
            "OnsetTime": [1.0, 3.0],
            "ApexTime": [1.1, 3.1],
            "OffsetTime": [1.3, 2.0],
            "OnsetFrame": ["10-00-01-000-1", "10-00-03-000-2"],
            "ApexFrame": ["10-00-01-100-3", "10-00-03-100-4"],
            "OffsetFrame": ["10-00-01-300-5", "10-00-03-300-6"],
            "Action Units": ["AU4", "AU12"],
            "Estimated Emotion": ["angry", "happy"],
        }
    )
    path = tmp_path / "coding.xlsx"
    rows.to_excel(path, index=False)
    with pytest.raises(InputError, match=r"coding\.xlsx.*row 3.*onset 3\.0 s after offset"):
        read_coding_file(path)
    errors: list = []
    c = read_coding_file(path, errors=errors)
    assert len(c.annotations) == 1 and errors[0]["row"] == 3
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 1 and "row 3" in r.output
    rows.drop(columns=["Marker"]).to_excel(path, index=False)
    with pytest.raises(InputError, match="missing column.*Marker"):
        read_coding_file(path)
