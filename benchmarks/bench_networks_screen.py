"""Time networks and screening on a linked workspace: median of --runs runs.

    python benchmarks/bench_networks_screen.py WORKSPACE [--runs 3]

The issue's bar: networks + screening on a 1,000,000-record workspace in under 60 s on 2 cores.
The workspace's network and review tables are replaced (nothing else changes): run it on a copy
made by `casebridge synth` and `casebridge run` (or `ingest` then `link`). Never fails on a
timing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from casebridge.networks.run import build_networks
from casebridge.screen.rules import load_rules
from casebridge.screen.run import screen
from casebridge.workspace import open_workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workspace = open_workspace(args.workspace)
    rules = load_rules(workspace.root / "rules")
    timings: dict[str, list[float]] = {"networks": [], "screen": [], "both": []}
    engine = workspace.connect()
    try:
        records = int(engine.scalar("SELECT count(*) FROM person_record"))
        for _ in range(args.runs):
            started = time.perf_counter()
            networks = build_networks(
                engine, workspace.settings.networks, workspace.settings.vocabulary
            )
            middle = time.perf_counter()
            screened = screen(engine, rules, workspace.settings.vocabulary)
            ended = time.perf_counter()
            timings["networks"].append(middle - started)
            timings["screen"].append(ended - middle)
            timings["both"].append(ended - started)
    finally:
        engine.close()
    print(
        f"{records:,} person records; {networks.networks:,} networks, {screened.items:,} review "
        f"items; median of {args.runs} runs"
    )
    for stage, seconds in timings.items():
        print(f"  {stage:8s} {statistics.median(seconds):6.2f} s")
    print(f"  bar: networks + screening under 60 s: {statistics.median(timings['both']):.1f} s")


if __name__ == "__main__":
    main()
