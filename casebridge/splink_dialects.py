"""Splink's dialects with one change: the records Splink samples are the same on every engine.

Splink samples records deterministically (to estimate u, and in its other samplers) by a hash
of each record's id: ``hash()`` on DuckDB, Murmur3 ``hash()`` on Spark. The two pick different
records, so the two engines trained different models from one workspace, and at 3,000 people
two pairs either side of the threshold made the persons differ (a weight of +3.44 on DuckDB,
+3.14 on Spark). Here the bucket is the first 15 hex digits of the id's MD5 (60 bits, so that
the modulus leaves no measurable bias) on both engines, as casebridge's own training sample
is chosen by MD5. ``Engine.splink_api`` and ``SparkEngine.splink_api`` hand Splink these.
"""

from __future__ import annotations

from splink.internals.dialects import DuckDBDialect, SparkDialect

MD5_DIGITS = 15  # hex digits of the MD5 taken as the bucket's number: 60 bits fit a BIGINT


class SameSampleDuckDBDialect(DuckDBDialect):
    """DuckDB's dialect, sampling by MD5 (module docstring)."""

    def hash_bucket_expression(self, col_expression: str, modulus: int) -> str:
        if modulus <= 0:
            raise ValueError("modulus must be positive")
        digits = f"substr(md5(CAST({col_expression} AS VARCHAR)), 1, {MD5_DIGITS})"
        return f"(CAST('0x' || {digits} AS BIGINT) % {modulus})"


class SameSampleSparkDialect(SparkDialect):
    """Spark's dialect, sampling by MD5 (module docstring)."""

    def hash_bucket_expression(self, col_expression: str, modulus: int) -> str:
        if modulus <= 0:
            raise ValueError("modulus must be positive")
        digits = f"substr(md5(CAST({col_expression} AS STRING)), 1, {MD5_DIGITS})"
        return f"(CAST(conv({digits}, 16, 10) AS BIGINT) % {modulus})"
