"""``mmme faces STORE`` on local processes and on Dask: inline results, then the cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.data.store import Store


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory):
    from mmme.io.mmme import import_mmme
    from mmme.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("face_store")
    # tiny, with 2 s clips holding one ME each: 4 trials of 100 frames keep the runs fast
    cfg = dataclasses.replace(SynthConfig.tiny(), trial_s=2.0, mae_per_trial=0)
    raw = generate(root / "raw", cfg, n_jobs=1, progress=False)
    import_mmme(raw, root / "store")
    return root / "store"


def _results(store) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    face = store / "derived" / "face"
    index = pd.read_parquet(face / "index.parquet")
    results = Store(store).derived("face")
    arrays = {k: results.get(k).arrays for k in index["key"]}
    return index, arrays


def test_faces_parallel_runs_equal_inline_and_resume(synth_store):
    base = ["faces", str(synth_store), "--flow", "dis"]
    run = CliRunner().invoke
    r = run(app, [*base, "-j", "1"])
    assert r.exit_code == 0, r.output
    inline, inline_arrays = _results(synth_store)
    assert len(inline) == 4 and not inline["cached"].any()
    assert (inline["n_frames"] > 90).all() and (inline["n_lost"] == 0).all()

    for extra in (["-j", "2"], ["--dask-workers", "1"]):
        r = run(app, [*base, *extra, "--force"])
        assert r.exit_code == 0, (extra, r.output)
        index, arrays = _results(synth_store)
        assert not index["cached"].any(), extra  # recomputed, not read back
        cols = ["subject", "session", "trial", "key", "n_frames", "n_lost"]
        pd.testing.assert_frame_equal(index[cols], inline[cols])
        for key, ref in inline_arrays.items():
            got = arrays[key]
            assert set(got) == set(ref)
            assert np.array_equal(got["status"], ref["status"])
            for name in ("landmarks", "motion", "motion_uv", "skin_rgb", "rppg"):
                np.testing.assert_allclose(got[name], ref[name], rtol=1e-5, atol=1e-5,
                                           equal_nan=True, err_msg=f"{extra} {key} {name}")

    # a second run with the same parameters is served from the cache, whatever the executor
    r = run(app, [*base, "-j", "2"])
    assert r.exit_code == 0, r.output
    index, _ = _results(synth_store)
    assert index["cached"].all() and list(index["key"]) == list(inline["key"])
    assert "4 from cache" in r.output.replace("\n", " ")
