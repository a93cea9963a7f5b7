"""Self-contained HTML reports with PNG figures and a JSON twin."""

from subspacekit.report.html import Report

__all__ = ["Report"]
