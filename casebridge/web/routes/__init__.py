"""The service's HTTP routes; each declares its permission (``permissions.py``)."""
