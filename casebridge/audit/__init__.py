"""Audit: data quality, the linkage result, networks and the review queue, and demographic
statistics with their denominators, missing data as bounds and disclosure control; and the
HTML report. ``run.audit`` and ``report.render_report`` are the entry points (docs/audit.md).
"""
