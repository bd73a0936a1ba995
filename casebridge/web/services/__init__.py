"""The pieces the data-access layer (``casebridge/web/access.py``) is built from: the SQL it
runs on a snapshot, the operational store's reads and writes, masking, name keys for search,
network exports and the JSON shapes the API answers with.

Nothing here checks a role, a scope or an assignment, and nothing writes the trail: only
``access.py`` calls these, after its checks, so a route never reaches a store but through it.
"""
