"""Benchmark: how fast `casebridge synth` writes one million person records.

The issue's bar: 1,000,000 person records in under 60 s on a 2-core machine. This prints every
run's time and records per second, the median of the runs, and the process's peak memory. It
never fails on a timing.

    .venv/bin/python benchmarks/bench_synth.py [--people 930000] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=930_000, help="about 1.08 records a person")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default="default")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    seconds, records = [], 0
    for run in range(args.runs):
        folder = Path(tempfile.mkdtemp(prefix="casebridge-bench-"))
        started = time.perf_counter()
        summary = generate(args.people, seed=run, profile=profile, out=folder / "out")
        elapsed = time.perf_counter() - started
        shutil.rmtree(folder)
        seconds.append(elapsed)
        records = summary.person_records
        print(
            f"run {run + 1}: {records:,} person records, {sum(summary.rows.values()):,} rows, "
            f"{elapsed:.1f} s, {records / elapsed:,.0f} records/s",
            flush=True,
        )
    median = statistics.median(seconds)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"median of {args.runs}: {median:.1f} s for {records:,} person records "
        f"= {records / median:,.0f} records/s; peak memory {peak_mib:,.0f} MiB; "
        f"bar: under 60 s ({'met' if median < 60 else 'NOT met'})"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
