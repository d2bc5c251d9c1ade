"""Session fixtures of the synth tests: the tiny data set, generated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmme.synth.generate import SynthConfig, generate


@pytest.fixture(scope="session")
def synth_tiny_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``SynthConfig.tiny()`` generated inline (n_jobs=1)."""
    return generate(tmp_path_factory.mktemp("synth") / "raw", SynthConfig.tiny(), n_jobs=1,
                    progress=False)
