"""Shared fixtures: a small raw MMME folder built with known clocks and events."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from raw_builder import build_raw


@pytest.fixture
def make_raw(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """Factory: ``make_raw(**faults)`` writes a raw folder under tmp_path."""
    counter = iter(range(1000))

    def _make(**kw: Any) -> dict[str, Any]:
        return build_raw(tmp_path / f"raw{next(counter)}", **kw)

    return _make
