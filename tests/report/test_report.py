import re

from mmme.report import build_report


def test_report_self_contained(results, tmp_path):
    out = build_report(results / "results", tmp_path / "r.html")
    page = out.read_text()
    assert "no spotting results" in page          # absent part: a one-line note
    assert page.count("data:image/png;base64,") >= 4  # confusion, averages, EEG, topomaps
    assert not re.search(r"(src|href)=['\"]https?://", page)  # nothing from the network
    assert "Holm" in page and '"seed": 7' in page.replace("&quot;", '"')


def test_numbers_are_printed_plainly():
    from mmme.report.html import _fmt

    assert _fmt(1210.4) == "1210" and _fmt(-352.6) == "-353"
    assert _fmt(0.5) == "0.5" and _fmt(0.12345) == "0.123" and _fmt(0.0) == "0"
    assert _fmt(0.00012) == "1.20e-04"
    assert _fmt(float("nan")) == "–" and _fmt(None) == "–"
    assert _fmt([0.4, 0.6]) == "[0.4, 0.6]"
