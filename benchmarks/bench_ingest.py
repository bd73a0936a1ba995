"""Benchmark: ingest of about 1,000,000 synthetic person records with their events.

The issue's bar: under 60 s on 2 cores, under 4 GB peak memory. This writes the synthetic
workspace once (not timed), then ingests it into a fresh database ``--runs`` times, printing
rows per second per source and per step, the median and the peak memory of the process.

    .venv/bin/python benchmarks/bench_ingest.py [--people 930000] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from casebridge.ingest.run import ingest_source
from casebridge.workspace import open_workspace


def _one_run(root: Path) -> tuple[float, int, dict[str, tuple[int, float]]]:
    for stale in root.glob("casebridge.duckdb*"):
        stale.unlink()
    workspace = open_workspace(root)
    started = time.perf_counter()
    engine = workspace.connect()
    per_source = {}
    for source in workspace.settings.sources:
        begun = time.perf_counter()
        report = ingest_source(engine, workspace, source)
        per_source[source.key] = (report.rows_read, time.perf_counter() - begun)
    records = int(engine.scalar("SELECT count(*) FROM person_record"))
    engine.close()
    return time.perf_counter() - started, records, per_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=930_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="casebridge-bench-"))
    try:
        # generated in another process, so that peak memory below is the ingest's own
        subprocess.run(
            [sys.executable, "-c", "from casebridge.cli import app; app()", "synth",
             "--people", str(args.people), "--seed", "1", "--out", str(folder / "ws")],
            check=True, capture_output=True,
        )  # fmt: skip
        seconds = []
        for run in range(args.runs):
            elapsed, records, per_source = _one_run(folder / "ws")
            seconds.append(elapsed)
            rows = sum(read for read, _ in per_source.values())
            print(
                f"run {run + 1}: {records:,} person records from {rows:,} rows in {elapsed:.1f} s "
                f"({rows / elapsed:,.0f} rows/s)"
            )
            for key, (read, spent) in per_source.items():
                print(f"    {key:8} {read:>9,} rows {spent:6.1f} s {read / spent:>10,.0f} rows/s")
        median = statistics.median(seconds)
        peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(
            f"median of {args.runs}: {median:.1f} s for {records:,} person records; peak memory "
            f"{peak_gib:.2f} GiB; bar: under 60 s and 4 GB "
            f"({'met' if median < 60 and peak_gib < 4 else 'NOT met'})"
        )
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
