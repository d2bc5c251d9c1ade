"""The HTML report: ``build_report(RESULTS, "report.html")`` (``mmme report``)."""

from mmme.report.html import build_report, timeline_figure

__all__ = ["build_report", "timeline_figure"]
