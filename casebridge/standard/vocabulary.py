"""Event kinds as the stages read them: a kind's key, and SQL testing an event's kind.

Sources name kinds their own way (``missing``, ``Missing Episode``, ``missing-episode``); ingest
keeps them lower-cased and trimmed. The networks and screen stages compare kinds on one key
(lower case, trimmed, each run of spaces, hyphens and underscores as one space), against the
words of the workspace's ``[vocabulary]`` (``casebridge.workspace.VocabularySettings``), bound as
parameters. An event held by a source whose ``source.kind`` is ``duty_report`` is a duty report,
whatever kind its row gives. The SQL keeps to forms that mean the same on DuckDB and Spark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DUTY_REPORT_SOURCE = "duty_report"  # source.kind of a duty-to-report service's extract
# the default words for a duty report's event kind ([vocabulary] duty_report_kinds)
DUTY_REPORT_KINDS = ("duty report", "duty to report", "mandatory report", "mandatory reporting")


def kind_key(word: str) -> str:
    """The key a kind is compared on.

    Example:
        >>> kind_key("  Missing_Episode ")
        'missing episode'
    """
    return re.sub(r"[\s_-]+", " ", word.strip().lower()).strip()


def kind_key_sql(expr: str) -> str:
    """SQL: the key of the kind in ``expr`` (as :func:`kind_key`)."""
    return f"trim(regexp_replace(lower({expr}), '[ _-]+', ' ', 'g'))"


def kind_in_sql(expr: str, words: Iterable[str]) -> tuple[str, list[str]]:
    """SQL true when the kind in ``expr`` is one of ``words`` (never NULL), and its parameters."""
    keys = sorted({kind_key(word) for word in words})
    if not keys:
        return "false", []
    marks = ", ".join("?" for _ in keys)
    return f"coalesce({kind_key_sql(expr)} IN ({marks}), false)", keys


def duty_report_sql(kind: str, source_kind: str, words: Iterable[str]) -> tuple[str, list[str]]:
    """SQL true for a duty report: a kind among ``words``, or held by a duty-report source."""
    by_kind, keys = kind_in_sql(kind, words)
    return f"({by_kind} OR coalesce({source_kind} = '{DUTY_REPORT_SOURCE}', false))", keys
