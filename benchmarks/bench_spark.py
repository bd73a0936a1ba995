"""Benchmark: the whole pipeline on DuckDB and on Spark, side by side, and where Spark's time goes.

For each size, one synthetic workspace is made (``casebridge synth``, not timed) and copied for
each engine; each copy runs ingest, link, networks, screen and audit (as ``casebridge run``
does, less the report) in a process of its own, so that each engine's peak memory is its own:
the Python process's peak RSS, and on Spark the JVM's too (Spark local runs in one JVM, driver
and executors; its peak is read from /proc before it stops). On Spark, every statement is timed
by the engine (``SparkEngine.timings``: casebridge's statements by kind and table, Splink's by
its table name), and the statements that took most of the time are listed per stage.

    .venv/bin/python benchmarks/bench_spark.py [--people 2000 ...] [--engines duckdb spark]
        [--master 'local[2]'] [--driver-memory 2g] [--seed 7] [--top 8]

The records are about 1.1 per person under the default profile: ``--people 90000`` gives about
100,000 records, ``--people 900000`` about 1,000,000. The default (2,000 people) finishes in a
few minutes on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

STAGES = ("ingest", "link", "networks", "screen", "audit")


def _java_peak_bytes() -> int:
    """The peak RSS (VmHWM) of the java processes below this one: Spark local's JVM."""
    peak, pending = 0, [os.getpid()]
    while pending:
        pid = pending.pop()
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                pending += [int(c) for c in children.read_text().split()]
            except OSError:
                continue
        if pid == os.getpid():
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if "java" in Path(f"/proc/{pid}/comm").read_text():
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
    return peak


def child(engine: str, root: Path) -> None:
    """Run every stage on ``engine`` over the workspace in ``root``; print one JSON line."""
    import casebridge.cli as cli
    from casebridge.spark_engine import SparkEngine
    from casebridge.workspace import engine_chosen

    timings: dict[str, list[tuple[str, float]]] = defaultdict(list)
    stage = ["startup"]
    close = SparkEngine.close

    def harvesting_close(self: SparkEngine) -> None:
        timings[stage[0]].extend(self.timings)
        close(self)

    SparkEngine.close = harvesting_close  # type: ignore[method-assign]
    run = {
        "ingest": lambda: cli._ingest(root, None),
        "link": lambda: cli._link(root),
        "networks": lambda: cli._networks(root),
        "screen": lambda: cli._screen(root),
        "audit": lambda: cli._audit(root, None),
    }
    seconds: dict[str, float] = {}
    found: dict[str, Any] = {}
    with engine_chosen(engine):  # type: ignore[arg-type]
        for name in STAGES:
            stage[0] = name
            started = time.perf_counter()
            result = run[name]()
            seconds[name] = time.perf_counter() - started
            # Each stage's time as it ends, so that a run stopped part-way still says something.
            print(f"{engine} {name}: {seconds[name]:.1f} s", file=sys.stderr, flush=True)
            if name == "link":
                found |= {"records": result.records, "persons": result.persons,
                          "pairs": result.scored_pairs}  # fmt: skip
        java = _java_peak_bytes()
    python = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"engine": engine, "seconds": seconds, "python": python, "java": java,
                      "timings": timings, **found}))  # fmt: skip


def _on_spark(root: Path, master: str, driver_memory: str) -> None:
    settings = root / "casebridge.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text + f'\n[spark]\nmaster = "{master}"\nconfig = {{"spark.driver.memory" = '
        f'"{driver_memory}"}}\n',
        encoding="utf-8",
    )


def _gib(value: float) -> str:
    return f"{value / 1024**3:.2f} GiB"


def report(people: int, results: list[dict[str, Any]], top: int) -> None:
    """Print the engines side by side, then where Spark's time went."""
    print(f"\n== {people:,} people, {results[0].get('records', 0):,} records")
    print(f"{'stage':10s}" + "".join(f"{r['engine']:>14s}" for r in results))
    for stage in STAGES:
        print(f"{stage:10s}" + "".join(f"{r['seconds'][stage]:>12.1f} s" for r in results))
    total = "".join(f"{sum(r['seconds'].values()):>12.1f} s" for r in results)
    print(f"{'total':10s}{total}")
    print(f"{'persons':10s}" + "".join(f"{r.get('persons', 0):>14,}" for r in results))
    print(f"{'pairs':10s}" + "".join(f"{r.get('pairs', 0):>14,}" for r in results))
    print(f"{'python':10s}" + "".join(f"{_gib(r['python']):>14s}" for r in results))
    print(f"{'jvm':10s}" + "".join(f"{_gib(r['java']):>14s}" for r in results))
    for result in results:
        if result["engine"] != "spark":
            continue
        print("where Spark's time goes (statements timed by the engine):")
        for stage in STAGES:
            kinds: dict[str, list[float]] = defaultdict(list)
            for kind, seconds in result["timings"].get(stage, []):
                kinds[kind].append(seconds)
            spent = sum(sum(v) for v in kinds.values())
            count = sum(len(v) for v in kinds.values())
            print(f"  {stage}: {count} statements, {spent:.1f} s of {result['seconds'][stage]:.1f}")
            ranked = sorted(kinds.items(), key=lambda item: -sum(item[1]))
            for kind, values in ranked[:top]:
                print(f"    {sum(values):7.1f} s {len(values):4d}x {kind[:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[2_000])
    parser.add_argument("--engines", nargs="+", choices=["duckdb", "spark"],
                        default=["duckdb", "spark"])  # fmt: skip
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=8, help="statement kinds listed per stage")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "WORKSPACE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    command = [sys.executable, "-c", "from casebridge.cli import app; app()"]
    folder = Path(tempfile.mkdtemp(prefix="casebridge-bench-spark-"))
    try:
        for people in args.people:
            made = folder / f"synth-{people}"
            synth = ["synth", "--people", str(people), "--seed", str(args.seed), "--out", str(made)]
            subprocess.run([*command, *synth], check=True, capture_output=True)
            results = []
            for engine in args.engines:
                root = folder / f"{engine}-{people}"
                shutil.copytree(made, root)
                if engine == "spark":
                    _on_spark(root, args.master, args.driver_memory)
                done = subprocess.run(
                    [sys.executable, __file__, "--child", engine, str(root)],
                    check=True, stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
                shutil.rmtree(root)
            report(people, results, args.top)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
