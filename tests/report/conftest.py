"""Shared fixtures: a tiny analysed store and recognition results in the issue-13 schema."""

import json

import pytest

from mmme.analysis import analyze_store
from mmme.executor import Executor
from mmme.io.mmme import import_mmme
from mmme.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    generate(root / "raw", SynthConfig.tiny(seed=3), n_jobs=1, progress=False)
    with Executor(n_jobs=1, progress=False) as ex:
        import_mmme(root / "raw", root / "store", executor=ex)
    analyze_store(root / "store", root / "results" / "analysis")
    rec = root / "results" / "recognition"
    rec.mkdir()
    (rec / "recognition.json").write_text(json.dumps({
        "protocol": "loso", "classes": 3, "n_samples": 10, "n_subjects": 2,
        "rows": [{"modality": "face", "model": "svm", "uf1": 0.5, "uar": 0.5, "accuracy": 0.6,
                  "uf1_ci": [0.4, 0.6], "uar_ci": [0.4, 0.6],
                  "confusion": {"labels": ["a", "b"], "matrix": [[3, 1], [2, 4]]}}],
        "deltas": [], "config": {"seed": 7}}))
    return root
