"""Time the audit and the report on a linked workspace: median of --runs runs.

    python benchmarks/bench_audit.py WORKSPACE [--runs 3]

The workspace is audited in place (its audit tables are replaced; nothing else changes): run it
on a copy. Prints each stage's median seconds and the report's size. Never fails on a timing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from casebridge.audit.report import render_report
from casebridge.audit.run import audit
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.link.run import MODEL_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = AuditSettings()
    timings: dict[str, list[float]] = {"audit": [], "report": [], "both": []}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        engine = Engine(args.workspace / "casebridge.duckdb")
        try:
            records = int(engine.scalar("SELECT count(*) FROM person_record"))
            for _ in range(args.runs):
                started = time.perf_counter()
                audit(engine, settings, out)
                middle = time.perf_counter()
                report = render_report(engine, settings, args.workspace / MODEL_FILE, out)
                ended = time.perf_counter()
                timings["audit"].append(middle - started)
                timings["report"].append(ended - middle)
                timings["both"].append(ended - started)
        finally:
            engine.close()
        size = report.stat().st_size
    print(f"{records:,} person records, median of {args.runs} runs")
    for stage, seconds in timings.items():
        print(f"  {stage:7s} {statistics.median(seconds):6.2f} s")
    print(
        f"  report  {size / 1024:.0f} KiB; {records / statistics.median(timings['both']):,.0f} "
        "records a second"
    )


if __name__ == "__main__":
    main()
