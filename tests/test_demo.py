"""`mmme demo --tiny`: the main job end to end, checked against the generator's truth."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mmme.cli import app


def test_demo_tiny_recovers_ground_truth(tmp_path):
    out = tmp_path / "demo"
    r = CliRunner().invoke(app, ["demo", "--tiny", "--out", str(out), "-j", "2"])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "demo_summary.json").read_text())
    assert s["problems"]["errors"] == 0
    for typ in ("ME", "MaE"):
        ev, dur = s["truth"]["events"][typ], s["truth"]["duration_ms"][typ]
        assert ev["store"] == ev["truth"] > 0
        assert abs(dur["store"] - dur["truth"]) < 1e-6
    assert all(abs(c["offset_error_ms"]) < 12 for c in s["truth"]["clocks"])
    errors = sorted(abs(f["error_frames"]) for f in s["face"])
    assert errors and errors[len(errors) // 2] <= 2  # median within 2 frames of the apex
    assert {row["feature"] for row in s["physio"]} >= {"heart rate (bpm)", "SCR amplitude (µS)"}
    # the analysis and the report follow
    assert (out / "results" / "analysis" / "analysis.json").is_file()
    page = (out / "report.html").read_text()
    assert "Event-related analysis" in page and "data:image/png;base64," in page
    assert s["report"] == str(out / "report.html")
    assert s["wall_s"] > 0 and 50 < s["peak_rss_mib"] < 24_000
    assert "wall time" in r.output and "peak memory" in r.output
    # a second run reuses the generated data, the caches and the analysis
    r = CliRunner().invoke(app, ["demo", "--tiny", "--out", str(out), "-j", "1"])
    assert r.exit_code == 0 and "reusing" in r.output
