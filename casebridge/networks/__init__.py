"""Networks: find group-based offending among linked persons, measure it, and export it.

``run.build_networks`` writes ``network``, ``network_member`` and ``network_edge``;
``export.export_networks`` writes them as GraphML, GEXF and CSV for link-analysis tools;
``evaluate.evaluate_networks`` scores them against a synthetic truth folder.
"""
