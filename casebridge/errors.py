"""One error hierarchy for casebridge.

Every error a user can cause is a :class:`CasebridgeError`; its message says what is wrong and
how to fix it. The CLI prints it as one red line and exits with status 2. Anything else that
escapes is a bug in casebridge and keeps its traceback.

Hierarchy::

    CasebridgeError
    ├── UsageError        a command-line argument is out of range or unusable
    ├── ProfileError      a synthetic-data profile is unknown or does not validate
    ├── OutputError       an output folder cannot be created or written
    ├── DataFileError     a shipped data file (code list, name pool) is missing or malformed
    ├── WorkspaceError    a workspace or its casebridge.toml is missing or invalid
    ├── MappingError      a mapping file is missing, not YAML, or does not validate
    ├── IngestError       a whole file cannot be ingested (unreadable, missing column, empty)
    ├── RuleError         a screening rule file cannot be read or validated, or its query fails
    └── AuditError        an audit input (population baseline) is missing or malformed
"""


class CasebridgeError(Exception):
    """Base class: a problem the user can fix; the message says how."""


class UsageError(CasebridgeError):
    """Raised when a command-line argument is out of range or unusable."""


class ProfileError(CasebridgeError):
    """Raised when a synthetic-data profile is unknown or fails validation."""


class OutputError(CasebridgeError):
    """Raised when an output folder cannot be created, is not empty, or is not writable."""


class DataFileError(CasebridgeError):
    """Raised when a data file shipped with casebridge is missing or malformed."""


class WorkspaceError(CasebridgeError):
    """Raised when a workspace folder or its casebridge.toml is missing or invalid."""


class MappingError(CasebridgeError):
    """Raised when a mapping file cannot be read or validated; names the file and line."""


class IngestError(CasebridgeError):
    """Raised when a whole file cannot be ingested; the workspace is left as it was."""


class RuleError(CasebridgeError):
    """Raised when a rule file cannot be read or validated, or a rule's query fails to run;
    the message names the file and the line."""


class AuditError(CasebridgeError):
    """Raised when an audit input, such as a population baseline file, cannot be used; names
    the file, the line and the value."""
