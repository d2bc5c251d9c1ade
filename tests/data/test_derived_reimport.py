"""Re-import into a store with face and physio results: unchanged trials keep theirs."""

from __future__ import annotations

import dataclasses
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store

ENV = {**os.environ, "COLUMNS": "300"}


def _run(*args: str) -> str:
    r = CliRunner().invoke(app, list(args), env=ENV)
    assert r.exit_code == 0, r.output
    return " ".join(r.output.split())


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    from mmme.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("reimport")
    # 2 subjects x 2 trials of 2 s with one ME each: seconds to import and analyse
    cfg = dataclasses.replace(SynthConfig.tiny(), trial_s=2.0, mae_per_trial=0)
    return generate(root / "raw", cfg, n_jobs=1, progress=False)


def _results(store):
    st = Store(store)
    face, physio = st.derived("face"), st.derived("physio")
    return ({r.trial: r.key for r in face.table("index").itertuples()},
            {r.trial: r.key for r in physio.table("index").itertuples()})


def test_reimport_keeps_results_of_unchanged_trials(raw, tmp_path):
    import openpyxl

    raw = shutil.copytree(raw, tmp_path / "raw")
    store = str(tmp_path / "store")
    _run("import", "mmme", str(raw), store, "-j", "1")
    _run("faces", store, "--flow", "dis", "-j", "1")
    _run("physio", store, "-j", "1")
    face, physio = _results(store)
    assert len(face) == len(physio) == 4
    events = Store(store).derived("physio").table("events")
    pulse = {k: Store(store).derived("face").get(k).table("rppg") for k in face.values()}

    # the same raw data again: every result stays and both stages serve them from the cache
    out = _run("import", "mmme", str(raw), store, "-j", "1")
    assert "kept 8, dropped 0 stale derived result(s)" in out
    assert _results(store) == (face, physio)
    assert "4 from cache" in _run("faces", store, "--flow", "dis", "-j", "1")
    assert "4 from cache" in _run("physio", store, "-j", "1")

    # trial T of S01: one frame file re-exported, and its expression's apex moved one frame
    st = Store(store)
    t = st.trials["trial"].iloc[0]
    frames = st.trial("S01", "1", t).frames
    f = st.trial("S01", "1", t).frame_path(len(frames) // 2)
    f.write_bytes(f.read_bytes() + b"\0")
    ann = st.trial("S01", "1", t).annotations
    apex = int(ann["apex_frame"].iloc[0])
    new_stamp = frames["stamp"].iloc[apex + 1]
    wb = openpyxl.load_workbook(raw / "coding_file.xlsx")
    ws = wb.active
    head = [c.value for c in ws[1]]
    n = 0
    for row in ws.iter_rows(min_row=2):
        if row[head.index("Marker")].value == int(t) and row[0].value == "S01":
            row[head.index("ApexFrame")].value = new_stamp
            n += 1
    assert n == 1
    wb.save(raw / "coding_file.xlsx")

    out = _run("import", "mmme", str(raw), store, "-j", "1")
    assert (f"kept 6, dropped 2 stale derived result(s): face S01/1/{t} (frames changed); "
            f"physio S01/1/{t} (annotations changed)") in out
    st = Store(store)
    assert not st.derived("face").has(face[t]) and not st.derived("physio").has(physio[t])
    for other in set(face) - {t}:
        assert st.derived("face").has(face[other]) and st.derived("physio").has(physio[other])
    assert st.report["derived"]["tables_dropped"] == ["face/index", "physio/events",
                                                      "physio/index"]

    assert "3 from cache" in _run("faces", store, "--flow", "dis", "-j", "1")
    assert "3 from cache" in _run("physio", store, "-j", "1")
    face2, physio2 = _results(store)
    assert {k for k in face2 if face2[k] != face[k]} == {t}
    assert {k for k in physio2 if physio2[k] != physio[k]} == {t}
    # the kept trials' numbers are the very same, the changed one's apex moved by one frame
    ev2 = st.derived("physio").table("events")
    keep = events["trial"] != t
    pd.testing.assert_frame_equal(ev2[ev2["trial"] != t].reset_index(drop=True),
                                  events[keep].reset_index(drop=True))
    for other in set(face) - {t}:
        pd.testing.assert_frame_equal(st.derived("face").get(face[other]).table("rppg"),
                                      pulse[face[other]])
    new_apex = st.trial("S01", "1", t).annotations["apex_s"].iloc[0]
    assert new_apex == pytest.approx(frames["time_s"].iloc[apex + 1], abs=1e-9)


def test_damaged_result_is_computed_again(raw, tmp_path):
    store = str(tmp_path / "store")
    _run("import", "mmme", str(raw), store, "-j", "1")
    _run("physio", store, "-j", "1")
    res = Store(store).derived("physio")
    index = res.table("index")
    events = res.table("events")
    k = index["key"].iloc[1]
    p = res.root / f"{k}.events.parquet"
    b = bytearray(p.read_bytes())
    b[len(b) // 2] ^= 0xFF
    p.write_bytes(bytes(b))
    (res.root / f"{index['key'].iloc[2]}.json").write_text("{not json")
    out = _run("physio", store, "-j", "1")
    assert "2 from cache" in out
    again = res.table("index")
    assert again["cached"].tolist() == [True, False, False, True]
    assert again["key"].tolist() == index["key"].tolist()
    pd.testing.assert_frame_equal(res.table("events"), events)
    assert np.isfinite(res.table("events")["value"]).any()


def test_pseudonymized_reimport_keeps_results(make_raw, tmp_path):
    raw = make_raw()
    store = str(tmp_path / "store")
    args = ["import", "mmme", str(raw["root"]), store, "-j", "1", "--pseudonymize"]
    _run(*args, "--salt", "k1")
    _run("physio", store, "-j", "1")
    n = len(Store(store).derived("physio").index)
    assert n == 3
    assert f"kept {n}, dropped 0 stale derived result(s)" in _run(*args, "--salt", "k1")
    # other codes: the trials are gone, so are their results
    out = _run(*args, "--salt", "k2")
    assert f"kept 0, dropped {n} stale derived result(s)" in out
    assert "(trial no longer in the store)" in out
