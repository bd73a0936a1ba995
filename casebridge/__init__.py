"""casebridge: link, audit and screen multi-agency records of group-based child sexual exploitation.

The pipeline stages live in their own packages (``casebridge.synth`` now; ingest, link, networks,
screen and audit to follow). This module pins the small public surface.
"""

from casebridge.errors import CasebridgeError

__all__ = ["CasebridgeError", "__version__"]
__version__ = "0.2.0"
