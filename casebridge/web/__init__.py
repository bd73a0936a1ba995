"""The review service (``casebridge serve``): accounts, roles scoped by agency, a tamper-evident
trail of every access, and a JSON API over the pipeline's published results.

Layers (shared/DESIGN.md, "The service"): ``routes/`` (HTTP) → services → ``access.py``, the one
data-access layer that enforces roles, scopes and masking and writes the trail → the stores: the
operational database (``db.py``, ``models.py``) and the pipeline's published snapshot.
"""
