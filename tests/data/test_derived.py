"""The results layer: one key scheme, input fingerprints, has/get/put, damaged entries."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import pytest

import mmme
from mmme.data.derived import (
    DerivedKey,
    TrialInputs,
    canonical_json,
    carry_over,
    derived_key,
    summary_line,
)
from mmme.data.store import Store, StoreWriter
from mmme.data.sync import ClockMap
from mmme.errors import StoreError

FS = 8.0  # 8 Hz: every window edge below is an exact binary fraction
MTIME_NS = 1_700_000_000_123_456_789
FACE_PARAMS = {"size": 128, "flow": "dis", "window": 0, "align": "segment", "realign_px": 3.0,
               "compensate": True}


# --- the key scheme --------------------------------------------------------------------------
def test_key_known_answers():
    # the text that is hashed, written out: sorted keys, no spaces, 20.0 written as 20
    text = ('{"inputs":{"trial":"S01/1/101"},"params":{"pad_s":20},"stage":"physio",'
            '"version":"0.1.0"}')
    assert canonical_json({"stage": "physio", "params": {"pad_s": 20.0},
                           "inputs": {"trial": "S01/1/101"}, "version": "0.1.0"}) == text
    assert hashlib.sha256(text.encode()).hexdigest()[:32] == "fc07cc7e4be865c54287cf7a69f2b1a5"
    assert derived_key("physio", {"pad_s": 20.0}, {"trial": "S01/1/101"},
                       version="0.1.0") == "fc07cc7e4be865c54287cf7a69f2b1a5"
    inputs = {"trial": "S01/1/101", "frames": "0123456789abcdef0123456789abcdef"}
    assert derived_key("face", FACE_PARAMS, inputs, version="0.1.0") == \
        "dd6c390863a9d3942daf1a588d7f1e3f"


def test_key_changes_with_each_part_and_nothing_else():
    base = derived_key("face", FACE_PARAMS, {"trial": "S01/1/101", "frames": "aa"}, "0.1.0")
    # equal parameters written differently: one key
    same = {k: FACE_PARAMS[k] for k in reversed(list(FACE_PARAMS))}
    same["realign_px"], same["size"] = 3, 128.0
    assert derived_key("face", same, {"frames": "aa", "trial": "S01/1/101"}, "0.1.0") == base
    assert derived_key("physio", {"w": (0.0, 2.0)}, {}, "0.1.0") == \
        derived_key("physio", {"w": [0, 2]}, {}, "0.1.0")
    # every parameter, input, the stage and the version count
    keys = {base}
    for name, value in [("size", 64), ("flow", "tvl1"), ("window", 1), ("align", "none"),
                        ("realign_px", 3.5), ("compensate", False)]:
        keys.add(derived_key("face", {**FACE_PARAMS, name: value},
                             {"trial": "S01/1/101", "frames": "aa"}, "0.1.0"))
    keys.add(derived_key("face", {**FACE_PARAMS, "extra": None},
                         {"trial": "S01/1/101", "frames": "aa"}, "0.1.0"))
    keys.add(derived_key("face", FACE_PARAMS, {"trial": "S01/1/101", "frames": "ab"}, "0.1.0"))
    keys.add(derived_key("face", FACE_PARAMS, {"trial": "S01/1/102", "frames": "aa"}, "0.1.0"))
    keys.add(derived_key("face", FACE_PARAMS, {"trial": "S01/1/101"}, "0.1.0"))
    keys.add(derived_key("physio", FACE_PARAMS, {"trial": "S01/1/101", "frames": "aa"},
                         "0.1.0"))
    keys.add(derived_key("face", FACE_PARAMS, {"trial": "S01/1/101", "frames": "aa"}, "0.1.1"))
    assert len(keys) == 13
    # True is not 1, a NaN is a value, and the default version is this mmme's
    assert derived_key("s", {"a": True}, {}) != derived_key("s", {"a": 1}, {})
    assert derived_key("s", {"a": float("nan")}, {}) != derived_key("s", {"a": 0.0}, {})
    assert derived_key("s", {}, {}) == derived_key("s", {}, {}, version=mmme.__version__)
    assert DerivedKey("s", {}, {}).id == derived_key("s", {}, {}, mmme.__version__)
    with pytest.raises(StoreError, match="object"):
        derived_key("s", {"a": object()}, {})


# --- fingerprints on a hand-made store -------------------------------------------------------
def _data() -> np.ndarray:
    return (np.arange(64, dtype=np.float32).reshape(32, 2) / 8).astype(np.float32)


def _write(path, frames_root, data=None, onsets=(0.625, 2.125), emotion="happy",
           stop_101=1.0, n_frames=(4, 4)):
    data = _data() if data is None else data
    rows = []
    for trial, t0, n in (("101", 0.5, n_frames[0]), ("102", 2.0, n_frames[1])):
        for i in range(n):
            rel = f"{trial}/{i:03d}.jpg"
            f = frames_root / rel
            if not f.exists():
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(bytes([i]) * (100 + i))
                os.utime(f, ns=(MTIME_NS, MTIME_NS))
            rows.append({"trial": trial, "frame": i, "device_time_s": t0 + i / 8,
                         "time_s": t0 + i / 8, "stamp": f"s{i}", "path": rel})
    with StoreWriter(path, "test") as w:
        mm = w.signal_file("S01", "1", "physio", len(data), 2)
        mm[:] = data
        mm.flush()
        del mm
        w.add_session(
            "S01", "1", clocks={"physio": ClockMap(0.0), "video": ClockMap(0.0)},
            reference="physio",
            markers=pd.DataFrame({"device": ["physio"], "code": [101], "device_time_s": [0.5],
                                  "time_s": [0.5]}),
            streams={"physio": {"ch_names": ["ECG", "EDA"], "units": ["mV", "uS"], "sfreq": FS,
                                "device": "physio", "kind": "physio"}},
            frames=pd.DataFrame(rows), video={"frames_root": str(frames_root), "fps": 8.0})
        w.add_trials([
            {"subject": "S01", "session": "1", "trial": "101", "marker": 101, "category": "1",
             "start_s": 0.5, "stop_s": stop_101, "n_frames": n_frames[0], "video_start_s": 0.5},
            {"subject": "S01", "session": "1", "trial": "102", "marker": 102, "category": "1",
             "start_s": 2.0, "stop_s": 2.5, "n_frames": n_frames[1], "video_start_s": 2.0}])
        w.add_annotations(pd.DataFrame({
            "subject": ["S01", "S01"], "session": ["1", "1"], "trial": ["101", "102"],
            "marker": [101, 102], "onset_s": list(onsets), "apex_s": [0.75, 2.25],
            "offset_s": [0.875, 2.375], "emotion": [emotion, "sad"]}))
    return Store(path)


SPEC = {"span": True, "frames": True, "annotations": ("event", "onset_s", "apex_s"),
        "streams": True, "pad_s": 0.25}


def _fp(store, trial="101", **kw):
    return TrialInputs("S01", "1", trial, **{**SPEC, **kw}).fingerprints(store)


def test_stream_fingerprint_known_answer(tmp_path):
    store = _write(tmp_path / "store", tmp_path / "frames")
    fp = _fp(store)
    assert set(fp) == {"trial", "span", "frames", "annotations", "stream:physio"}
    assert fp["trial"] == "S01/1/101"
    # span 0.5..1.0 s padded by 0.25 s at 8 Hz: samples 2..9, one more each side -> rows 1..10
    head = ('{"clock":{"drift_ppm":0,"n_markers":0,"offset":0,"residual_max_s":0,'
            '"residual_rms_s":0,"scale":1},"dtype":"<f4","rows":[1,11],"shape":[2],'
            '"stream":{"ch_names":["ECG","EDA"],"device":"physio","kind":"physio","sfreq":8,'
            '"units":["mV","uS"]}}')
    want = hashlib.sha256(head.encode() + _data()[1:11].tobytes()).hexdigest()[:32]
    assert fp["stream:physio"] == want
    # span: the JSON of [start_s, stop_s]
    assert fp["span"] == hashlib.sha256(b"[0.5,1]").hexdigest()[:32]


def _changed(tmp_path, name, **kw):
    a = _fp(_write(tmp_path / "a", tmp_path / "frames"))
    b = _fp(_write(tmp_path / name, tmp_path / "frames", **kw))
    return sorted(k for k in a if a[k] != b[k])


@pytest.mark.parametrize("row, changed", [(0, []), (1, ["stream:physio"]),
                                          (10, ["stream:physio"]), (11, [])])
def test_stream_fingerprint_covers_exactly_its_window(tmp_path, row, changed):
    data = _data()
    data[row, 1] += 1e-3  # one sample of one channel, a small change
    assert _changed(tmp_path, "b", data=data) == changed


def test_fingerprints_follow_the_data_they_name(tmp_path):
    assert _changed(tmp_path, "same") == []
    # another trial's annotation, or a column the stage does not read: nothing changes
    assert _changed(tmp_path, "other", onsets=(0.625, 2.0)) == []
    assert _changed(tmp_path, "emo", emotion="angry") == []
    assert _changed(tmp_path, "onset", onsets=(0.5, 2.125)) == ["annotations"]
    assert _changed(tmp_path, "span", stop_101=1.125) == ["span", "stream:physio"]
    assert _changed(tmp_path, "nframes", n_frames=(3, 4)) == ["frames"]


def test_frames_fingerprint_sees_file_edits(tmp_path):
    store = _write(tmp_path / "store", tmp_path / "frames")
    before, other = _fp(store), _fp(store, "102")
    f = tmp_path / "frames" / "101" / "002.jpg"
    f.write_bytes(f.read_bytes()[:-1] + b"\xff")  # same size, new content, new mtime
    assert _fp(store)["frames"] != before["frames"]
    os.utime(f, ns=(MTIME_NS, MTIME_NS))  # content differs, stat is back: unseen (documented)
    assert _fp(store)["frames"] == before["frames"]
    f.write_bytes(f.read_bytes() + b"x")
    os.utime(f, ns=(MTIME_NS, MTIME_NS))
    assert _fp(store)["frames"] != before["frames"]  # size
    f.unlink()
    assert _fp(store)["frames"] != before["frames"]
    assert _fp(store, "102") == other


# --- has / get / put -------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    return _write(tmp_path / "store", tmp_path / "frames")


def test_put_get_round_trip(store):
    res = store.derived("physio")
    key = res.key({"pad_s": 0.25}, TrialInputs("S01", "1", "101", **SPEC))
    assert key.inputs == _fp(store) and len(key.id) == 32
    assert not res.has(key) and res.get(key) is None
    arrays = {"motion": np.arange(6.0).reshape(2, 3), "status": np.array(["lost", "ok"]),
              "n": np.array([3], dtype=np.int16)}
    table = pd.DataFrame({"channel": ["ECG", "EDA"], "value": [1.5, np.nan]})
    res.put(key, arrays=arrays, tables={"events": table}, meta={"n_events": 2})
    assert res.has(key) and res.has(key.id)
    e = res.get(key.id)
    assert set(e.arrays) == set(arrays)
    for k, a in arrays.items():
        assert e.arrays[k].dtype == a.dtype and np.array_equal(e.arrays[k], a)
    pd.testing.assert_frame_equal(e.table("events"), table)
    assert e.meta == {"n_events": 2} and e.params == {"pad_s": 0.25} and e.tables == ["events"]
    with pytest.raises(StoreError, match="no table 'sliding'"):
        e.table("sliding")
    idx = res.index
    assert idx[["key", "subject", "session", "trial"]].values.tolist() == [
        [key.id, "S01", "1", "101"]]
    # the same inputs and parameters from a fresh handle give the same key
    assert Store(store.path).derived("physio").key(
        {"pad_s": 0.25}, TrialInputs("S01", "1", "101", **SPEC)).id == key.id
    # stage tables
    res.write_table("events", table, sources=[key.id])
    pd.testing.assert_frame_equal(res.table("events"), table)
    with pytest.raises(StoreError, match="no such table"):
        res.table("index")


def test_put_refuses_what_it_cannot_store(store):
    res = store.derived("face")
    key = res.key({}, TrialInputs("S01", "1", "101", frames=True))
    with pytest.raises(StoreError, match="object dtype"):
        res.put(key, arrays={"x": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(StoreError, match="DerivedKey"):
        res.put(key.id, meta={})
    with pytest.raises(StoreError, match="cannot be stored in derived/physio"):
        store.derived("physio").put(key, meta={})
    with pytest.raises(StoreError, match="bad derived kind"):
        store.derived("../face")
    assert not res.has(key)


@pytest.mark.parametrize("damage", ["truncate_npz", "flip_parquet", "drop_parquet", "bad_json",
                                    "empty_json"])
def test_damaged_entry_is_absent(store, damage):
    res = store.derived("face")
    key = res.key({}, TrialInputs("S01", "1", "101", frames=True))
    res.put(key, arrays={"x": np.arange(1000.0)}, tables={"t": pd.DataFrame({"a": [1, 2]})})
    assert res.has(key)
    npz, pq, js = (res.root / f"{key}{s}" for s in (".npz", ".t.parquet", ".json"))
    if damage == "truncate_npz":
        npz.write_bytes(npz.read_bytes()[:-10])
    elif damage == "flip_parquet":
        b = bytearray(pq.read_bytes())
        b[len(b) // 2] ^= 0xFF  # same size, one byte altered: only the checksum sees it
        pq.write_bytes(bytes(b))
    elif damage == "drop_parquet":
        pq.unlink()
    elif damage == "bad_json":
        js.write_text(js.read_text()[:-20])
    else:
        js.write_text("")
    assert not res.has(key) and res.get(key) is None
    assert res.index.empty if damage.endswith("json") else len(res.index) == 1
    # computing it again repairs it
    res.put(key, arrays={"x": np.arange(1000.0)}, tables={"t": pd.DataFrame({"a": [1, 2]})})
    assert res.has(key)


# --- carry-over on a re-import ---------------------------------------------------------------
def _fill(store):
    keys = {}
    for kind, spec in (("face", {"frames": True}),
                       ("physio", {"span": True, "streams": True, "pad_s": 0.25,
                                   "annotations": ("event", "onset_s", "apex_s")})):
        res = store.derived(kind)
        for trial in ("101", "102"):
            key = res.key({"p": 1}, TrialInputs("S01", "1", trial, **spec))
            res.put(key, arrays={"x": np.arange(3.0)}, meta={"trial": trial})
            keys[kind, trial] = key.id
        res.write_table("index", pd.DataFrame({"key": [keys[kind, "101"], keys[kind, "102"]]}),
                        sources=[keys[kind, "101"], keys[kind, "102"]])
        res.write_table("first", pd.DataFrame({"key": [keys[kind, "101"]]}),
                        sources=[keys[kind, "101"]])
    return keys


def test_reimport_keeps_unchanged_and_names_the_stale(tmp_path):
    frames = tmp_path / "frames"
    keys = _fill(_write(tmp_path / "store", frames))
    (tmp_path / "store" / "derived" / "face" / "0123.json").write_text("{}")  # older format
    # the same data again: everything stays
    st = _write(tmp_path / "store", frames)
    rep = st.report["derived"]
    assert rep["kept"] == 4 and rep["dropped"] == [] and rep["files_dropped"] == 1
    assert sorted(rep["tables_kept"]) == ["face/first", "face/index", "physio/first",
                                          "physio/index"]
    for (kind, _trial), k in keys.items():
        assert st.derived(kind).get(k).arrays["x"].tolist() == [0.0, 1.0, 2.0]
    assert summary_line(rep) == "kept 4, dropped 0 stale derived result(s)"
    # trial 102's annotation changes: only its physio result goes, with its reason
    data = _data()
    data[0, 0] = 7.0  # outside both trials' padded windows: changes nothing
    st = _write(tmp_path / "store", frames, data=data, onsets=(0.625, 2.0))
    rep = st.report["derived"]
    assert rep["kept"] == 3
    assert rep["dropped"] == [{"kind": "physio", "key": keys["physio", "102"],
                               "trial": "S01/1/102", "reason": "annotations changed"}]
    assert sorted(rep["tables_kept"]) == ["face/first", "face/index", "physio/first"]
    assert rep["tables_dropped"] == ["physio/index"]
    assert summary_line(rep) == ("kept 3, dropped 1 stale derived result(s): physio S01/1/102 "
                                 "(annotations changed)")
    many = {"kept": 0, "dropped": [{"kind": "face", "trial": f"S01/1/{i}", "key": "k",
                                    "reason": "frames changed"} for i in range(12)]}
    assert summary_line(many, limit=2) == (
        "kept 0, dropped 12 stale derived result(s): face S01/1/0 (frames changed); face S01/1/1 "
        "(frames changed); and 10 more (see import_report.json)")
    assert not st.derived("physio").has(keys["physio", "102"])
    assert st.derived("physio").has(keys["physio", "101"])
    assert st.report == Store(st.path).report  # in import_report.json too
    # a frame edited and trial 101 gone: face 101's entry goes with both reasons named
    f = frames / "101" / "000.jpg"
    f.write_bytes(b"new")
    data[5, 1] = -1.0  # inside trial 101's window
    st = _write(tmp_path / "store", frames, data=data, onsets=(0.625, 2.0))
    got = {(d["kind"], d["trial"]): d["reason"] for d in st.report["derived"]["dropped"]}
    assert got == {("face", "S01/1/101"): "frames changed",
                   ("physio", "S01/1/101"): "stream:physio changed"}
    assert st.report["derived"]["kept"] == 1  # face 102


def test_carry_over_drops_other_versions_and_uncheckable(tmp_path):
    store = _write(tmp_path / "store", tmp_path / "frames")
    res = store.derived("spotting")
    res.put(res.key({}, {"trial": "x"}), meta={})  # plain fingerprints: cannot be checked
    old = DerivedKey("spotting", {}, TrialInputs("S01", "1", "101").fingerprints(store),
                     TrialInputs("S01", "1", "101").to_dict(), version="0.0.1")
    res.put(old, meta={})
    new = _write(tmp_path / "new", tmp_path / "frames")
    rep = carry_over(store.path, new.path)
    assert rep["kept"] == 0
    assert sorted(d["reason"] for d in rep["dropped"]) == ["inputs cannot be checked",
                                                           "made by mmme 0.0.1"]
    # a damaged entry is not carried
    res2 = store.derived("face")
    k = res2.key({}, TrialInputs("S01", "1", "101", frames=True))
    res2.put(k, arrays={"x": np.arange(3.0)})
    (res2.root / f"{k}.npz").write_bytes(b"junk")
    rep = carry_over(store.path, new.path)
    assert [d["reason"] for d in rep["dropped"] if d["kind"] == "face"] == ["damaged"]
    # a trial that is gone
    res2.put(k, arrays={"x": np.arange(3.0)})
    gone = TrialInputs("S01", "1", "999", frames=True)
    res2.put(DerivedKey("face", {}, {"trial": "S01/1/999"}, gone.to_dict()), meta={})
    rep = carry_over(store.path, new.path)
    reasons = {d["trial"]: d["reason"] for d in rep["dropped"] if d["kind"] == "face"}
    assert reasons == {"S01/1/999": "trial no longer in the store"}
    # a description this mmme cannot read
    res2.put(DerivedKey("face", {}, {"trial": "S01/1/101"}, {"type": "trial"}), meta={})
    rep = carry_over(store.path, new.path)
    reasons = sorted(d["reason"] for d in rep["dropped"] if d["kind"] == "face")
    assert reasons == ["inputs unreadable (KeyError: 'subject')", "trial no longer in the store"]
