"""The researcher's path on the synthetic store: the example runs, and the face accessors."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import mmme
from mmme.data import Samples

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "researcher_path.py"


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory):
    from mmme.io.mmme import import_mmme
    from mmme.physio.pipeline import process_store
    from mmme.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("api_synth")
    raw = generate(root / "raw", SynthConfig.tiny(), n_jobs=1, progress=False)
    import_mmme(raw, root / "store")
    process_store(root / "store", n_jobs=1, progress=False)
    return root / "store"


def test_example_is_short_and_runs(synth_store, monkeypatch, capsys):
    assert len(EXAMPLE.read_text().splitlines()) <= 25
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), str(synth_store)])
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    n = len(Samples.from_store(synth_store, types=None))
    assert "EpochsArray" in out and f"{n} samples, " in out
    acc = float(out.rsplit("LOSO accuracy", 1)[1])
    assert 0.0 <= acc <= 1.0


def test_face_clips_and_flow_inputs_cached(synth_store, monkeypatch):
    from mmme.face.flow import ststnet_input

    samples = Samples.from_store(mmme.read_store(synth_store), types=("ME",), label="emotion")
    clips, mask = samples.face_clips(64, return_mask=True)
    meta = samples.metadata
    for clip, (_, row) in zip(clips, meta.iterrows(), strict=True):
        assert clip.shape == (row["offset_frame"] - row["onset_frame"] + 1, 64, 64)
        assert clip.dtype == np.float32 and 0 <= np.nanmin(clip) and np.nanmax(clip) <= 255
    assert mask.all()  # the synthetic face never leaves the picture
    cached = sorted((synth_store / "derived" / "samples" / "face_clips").glob("*.npy"))
    assert len(cached) == len(samples)

    def boom(*a, **k):
        raise AssertionError("recomputed instead of read from the cache")

    monkeypatch.setattr("mmme.face.pipeline.analyze_frames", boom)
    again = samples.face_clips(64)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(again, clips, strict=True))
    monkeypatch.undo()

    flows, fmask = samples.flow_inputs(28, return_mask=True)
    assert flows.shape == (len(samples), 28, 28, 3) and fmask.all()
    crops = samples.face_clips(128)
    k = int(meta["apex_frame"].iloc[0] - meta["onset_frame"].iloc[0])
    want = ststnet_input(crops[0][0].astype(np.uint8), crops[0][k].astype(np.uint8), 28, "tvl1")
    np.testing.assert_allclose(flows[0], want, rtol=1e-6, atol=1e-6)
    assert np.abs(flows[:, :, :, 2]).max() > 0  # some strain at the apex
