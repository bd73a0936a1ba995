"""Load the review service: signed-in sessions on loopback against a 200k-person workspace, with
a pipeline run publishing a new snapshot in the middle of the load.

    python benchmarks/bench_serve.py [--workspace W] [--seconds 60] [--sessions 50]
        [--think 1.0] [--pipeline screen] [--database-url URL] [--keep]

Without ``--workspace`` it makes one (``casebridge synth --people 200000 --seed 3`` and
``casebridge run``: several minutes) in a temporary folder, deleted at the end unless
``--keep``. A workspace given is changed as a pipeline run changes it (a new snapshot, and the
stage run during the load rewrites its tables): give a copy.

It starts ``casebridge serve`` (uvicorn, one process) on 127.0.0.1 with this checkout's code,
over a new SQLite database in a temporary folder (or ``--database-url``), creates one account
per session (supervisors and analysts seeing every agency, reviewers one force each, sending a
break-glass reason), and signs each in with its password and its own TOTP code. Then each
session (asyncio, httpx2) asks for the review queue, persons, pairs, items, records, events,
networks and searches, and now and then writes a note, pausing a random think time (mean
``--think`` seconds; 0 sends the next request at once) between requests, for ``--seconds``.
A third of the way in, ``casebridge <pipeline> -w W`` runs and publishes a new snapshot; the
load goes on until it has finished and the service has switched (at most three times
``--seconds``), then stops by itself.

It prints the requests, the errors (any answer but 2xx, and any exception), the throughput,
p50/p95/p99 latency per endpoint, the server's peak resident memory (VmHWM), the pipeline's
time and whether the service switched snapshots, and the issue's bars: 0 errors, and p95 under
300 ms for the queue, person and pair endpoints. Never fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx2
import pyotp
from argon2 import PasswordHasher, Type

from casebridge.web.auth.accounts import begin_enrolment, create_account
from casebridge.web.db import make_engine, migrate, session_factory, transaction
from casebridge.web.snapshot import DATABASE, current_name, ensure_snapshot, snapshots_folder

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
BARS_MS = {"queue": 300.0, "person": 300.0, "pair": 300.0}
# how often each session asks for each endpoint (relative weights)
WEIGHTS = {"queue": 30, "person": 25, "pair": 20, "item": 8, "record": 5, "event": 4,
           "networks": 3, "network": 2, "search": 2, "note": 1}  # fmt: skip
# cheap argon2 for making the accounts: the service rehashes at its own cost on sign-in
MAKING_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
SAMPLE = 5000


# ---- the workspace -----------------------------------------------------------------------


def cli(*arguments: str, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``casebridge ARGUMENTS`` with this checkout's code."""
    command = [sys.executable, "-c", "from casebridge.cli import app; app()", *arguments]
    return subprocess.run(
        command, env=checkout_env(), cwd=ROOT, check=True, text=True, capture_output=quiet
    )


def checkout_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def make_workspace(folder: Path) -> Path:
    """A 200,000-person synthetic workspace, run end to end."""
    workspace = folder / "workspace"
    print(f"making a 200,000-person workspace in {workspace} (several minutes)", flush=True)
    started = time.perf_counter()
    cli("synth", "--out", str(workspace), "--people", "200000", "--seed", "3")
    cli("run", "-w", str(workspace))
    print(f"  made in {time.perf_counter() - started:.0f} s", flush=True)
    return workspace


@dataclass
class Pools:
    """Ids to ask for, from the current snapshot: for everyone, and per agency."""

    persons: list[str]
    pairs: list[tuple[str, str]]
    items: list[str]
    records: list[str]
    events: list[str]
    networks: list[str]
    surnames: list[str]
    agencies: list[str]
    by_agency: dict[str, dict[str, list]] = field(default_factory=dict)  # type: ignore[type-arg]


def read_pools(workspace: Path, rng: random.Random) -> Pools:
    """Samples of the snapshot's ids, read from it directly (read-only, as the service does)."""
    name = current_name(workspace)
    assert name is not None
    connection = duckdb.connect(str(snapshots_folder(workspace) / name / DATABASE), read_only=True)

    def column(sql: str, params: list[object] | None = None) -> list[str]:
        return [str(row[0]) for row in connection.execute(sql, params or []).fetchall()]

    def sample(values: list[str]) -> list[str]:
        return rng.sample(values, min(SAMPLE, len(values)))

    try:
        pairs = connection.execute("SELECT record_l, record_r FROM match_pair").fetchall()
        pools = Pools(
            persons=sample(column("SELECT person_id FROM person")),
            pairs=rng.sample([(str(a), str(b)) for a, b in pairs], min(SAMPLE, len(pairs))),
            items=sample(column("SELECT item_id FROM review_item")),
            records=sample(column("SELECT record_id FROM person_record")),
            events=sample(column("SELECT event_id FROM event")),
            networks=column("SELECT network_id FROM network"),
            surnames=sample(column("SELECT surname FROM person WHERE surname IS NOT NULL")),
            agencies=column("SELECT DISTINCT agency FROM source ORDER BY 1"),
        )
        for agency in column("SELECT agency FROM source WHERE kind = 'police' ORDER BY 1"):
            sources = "(SELECT source FROM source WHERE agency = ?)"
            pools.by_agency[agency] = {
                "persons": sample(column(
                    f"""SELECT DISTINCT l.person_id FROM person_link l JOIN person_record r
                    ON r.record_id = l.record_id WHERE r.source IN {sources}""", [agency])),
                "records": sample(column(
                    f"SELECT record_id FROM person_record WHERE source IN {sources}", [agency])),
                "pairs": [(str(a), str(b)) for a, b in connection.execute(
                    f"""SELECT m.record_l, m.record_r FROM match_pair m
                    JOIN person_record a ON a.record_id = m.record_l
                    JOIN person_record b ON b.record_id = m.record_r
                    WHERE a.source IN {sources} AND b.source IN {sources}
                    LIMIT {SAMPLE}""", [agency, agency]).fetchall()],
            }  # fmt: skip
    finally:
        connection.close()
    return pools


# ---- accounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """An account a session signs in as."""

    username: str
    password: str
    secret: str
    role: str
    agencies: tuple[str, ...]


def make_members(database_url: str, count: int, pools: Pools) -> list[Member]:
    """``count`` accounts with enrolled second factors: a fifth reviewers (one force each,
    bound to their assignments, so they give a reason), the rest supervisors and analysts
    seeing every agency."""
    engine = make_engine(database_url)
    migrate(engine)
    made: list[Member] = []
    forces = sorted(pools.by_agency)
    try:
        with transaction(session_factory(engine)) as db:
            for number in range(count):
                agencies: tuple[str, ...]
                if number % 5 == 4 and forces:
                    role, agencies = "reviewer", (forces[number % len(forces)],)
                else:
                    role, agencies = ("supervisor", "analyst")[number % 2], tuple(pools.agencies)
                username = f"bench-{number:03d}-{os.urandom(3).hex()}"
                password = f"bench password {os.urandom(8).hex()}"
                account = create_account(
                    db, MAKING_HASHER, username=username, role=role, scopes=agencies,
                    password=password,
                ).account  # fmt: skip
                secret = begin_enrolment(account)
                account.totp_confirmed = True
                made.append(Member(username, password, secret, role, agencies))
    finally:
        engine.dispose()
    return made


# ---- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(workspace: Path, database_url: str, port: int, log: Path) -> Iterator[int]:
    """``casebridge serve`` in a subprocess, until the block ends; yields its process id."""
    command = [sys.executable, "-c", "from casebridge.cli import app; app()", "serve",
               "--workspace", str(workspace), "--host", HOST, "--port", str(port),
               "--insecure-cookies"]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
            env=checkout_env(CASEBRIDGE_DATABASE_URL=database_url),
        )  # fmt: skip
        try:
            wait_until_up(port, process)
            yield process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_up(port: int, process: subprocess.Popen[bytes], limit: float = 180.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service stopped while starting (exit {process.returncode})")
        try:
            if httpx2.get(f"http://{HOST}:{port}/api/health", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the service did not answer within {limit:.0f} s")


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_of(pid: int) -> dict[str, int]:
    """VmHWM (peak) and VmRSS of a process, in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0])
    return found


# ---- the load ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineRun:
    """When the pipeline stage started (seconds into the load), how long it took, its exit."""

    started_at: float
    seconds: float
    exit: int | None
    stderr: str


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # (seconds into the load when it was sent, endpoint, milliseconds) of every answer
    timeline: list[tuple[float, str, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    snapshots: list[tuple[float, str]] = field(default_factory=list)


class Load:
    """The sessions, the snapshot watcher and the pipeline run, sharing one tally."""

    def __init__(self, args: argparse.Namespace, port: int, pools: Pools, workspace: Path) -> None:
        self.args = args
        self.base = f"http://{HOST}:{port}"
        self.pools = pools
        self.workspace = workspace
        self.tally = Tally()
        self.stop = asyncio.Event()
        self.started = 0.0
        self.pipeline: PipelineRun | None = None
        self.ready = asyncio.Event()
        self.all_in = asyncio.Event()
        self.waiting = 0
        self.cpu_of: Callable[[], float] = lambda: 0.0
        self.cpu_used = 0.0

    async def request(
        self, client: httpx2.AsyncClient, endpoint: str, method: str, path: str, **kwargs: object
    ) -> httpx2.Response | None:
        began = time.perf_counter()
        try:
            answer = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except Exception as error:  # every exception is an error of the run
            self.tally.errors[f"{endpoint}: {type(error).__name__}"] += 1
            self.tally.requests += 1
            return None
        took = (time.perf_counter() - began) * 1000
        self.tally.latencies[endpoint].append(took)
        self.tally.timeline.append((time.monotonic() - self.started - took / 1000, endpoint, took))
        self.tally.requests += 1
        if not answer.is_success:
            self.tally.errors[f"{endpoint}: {answer.status_code}"] += 1
        return answer

    async def sign_in(self, client: httpx2.AsyncClient, member: Member) -> str:
        answer = await client.post(
            "/api/auth/login", json={"username": member.username, "password": member.password}
        )
        answer.raise_for_status()
        token = str(answer.json()["csrf_token"])
        code = pyotp.TOTP(member.secret).at(dt.datetime.now(dt.UTC))
        answer = await client.post(
            "/api/auth/second-factor", json={"code": code}, headers={"X-CSRF-Token": token}
        )
        answer.raise_for_status()
        assert answer.json()["next"] == "complete", answer.text
        return token

    def choose(self, member: Member, rng: random.Random) -> tuple[str, str, str, dict[str, object]]:
        """(endpoint, method, path, request arguments) for the next request of ``member``."""
        endpoint = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        own = self.pools.by_agency.get(member.agencies[0], {}) if member.role == "reviewer" else {}
        persons = own.get("persons") or self.pools.persons
        pairs = own.get("pairs") or self.pools.pairs
        records = own.get("records") or self.pools.records
        if member.role == "reviewer" and endpoint in ("item", "event", "network", "note"):
            endpoint = "person"  # reviewers of one force ask for what that force holds
        if member.role == "analyst" and endpoint == "note":
            endpoint = "queue"  # analysts do not work items
        if endpoint == "queue":
            params: dict[str, object] = {"page": rng.randint(1, 5), "page_size": 25}
            if rng.random() < 0.3:
                params["status"] = "new"
            return endpoint, "GET", "/api/queue", {"params": params}
        if endpoint == "person":
            return endpoint, "GET", f"/api/persons/{rng.choice(persons)}", {}
        if endpoint == "pair":
            first, second = rng.choice(pairs)
            return endpoint, "GET", "/api/pairs", {"params": {"first": first, "second": second}}
        if endpoint == "record":
            return endpoint, "GET", f"/api/records/{rng.choice(records)}", {}
        if endpoint == "item":
            return endpoint, "GET", f"/api/items/{rng.choice(self.pools.items)}", {}
        if endpoint == "event":
            return endpoint, "GET", f"/api/events/{rng.choice(self.pools.events)}", {}
        if endpoint == "networks":
            return endpoint, "GET", "/api/networks", {"params": {"page_size": 25}}
        if endpoint == "network":
            return endpoint, "GET", f"/api/networks/{rng.choice(self.pools.networks)}", {}
        if endpoint == "search":
            body = {"name": rng.choice(self.pools.surnames), "reason": "load test"}
            return endpoint, "POST", "/api/search", {"json": body}
        item = rng.choice(self.pools.items)
        return endpoint, "POST", f"/api/items/{item}/notes", {"json": {"text": "load test note"}}

    async def session(self, member: Member, number: int) -> None:
        rng = random.Random(number)
        async with httpx2.AsyncClient(base_url=self.base, timeout=30.0) as client:
            try:
                token = await self.sign_in(client, member)
            except Exception as error:
                self.tally.errors[f"sign-in: {type(error).__name__}"] += 1
                return
            finally:
                self.arrived()
            client.headers["X-CSRF-Token"] = token
            if member.role == "reviewer":
                client.headers["X-Access-Reason"] = "load test"
            await self.ready.wait()
            # people do not all click at the same instant: each session starts somewhere
            # within one pause (all starting at once is a burst no service meets)
            await asyncio.sleep(rng.uniform(0, 1.5) * self.args.think)
            while not self.stop.is_set():
                endpoint, method, path, kwargs = self.choose(member, rng)
                await self.request(client, endpoint, method, path, **kwargs)
                if self.args.think > 0:
                    pause = rng.uniform(0.5, 1.5) * self.args.think
                    try:
                        await asyncio.wait_for(self.stop.wait(), timeout=pause)
                    except TimeoutError:
                        pass

    def arrived(self) -> None:
        """One more session has signed in (or failed to)."""
        self.waiting -= 1
        if self.waiting == 0:
            self.all_in.set()

    async def watch_snapshot(self, member: Member) -> None:
        """Ask which snapshot the service reads, twice a second (not counted as load)."""
        async with httpx2.AsyncClient(base_url=self.base, timeout=30.0) as client:
            try:
                await self.sign_in(client, member)
            finally:
                self.arrived()
            await self.ready.wait()
            while not self.stop.is_set():
                try:
                    answer = await client.get("/api/snapshot")
                    name = str(answer.json()["name"]) if answer.is_success else "?"
                except Exception as error:
                    name = f"? {type(error).__name__}"
                if not self.tally.snapshots or self.tally.snapshots[-1][1] != name:
                    self.tally.snapshots.append((time.monotonic() - self.started, name))
                await asyncio.sleep(0.5)

    async def run_pipeline(self) -> None:
        """The pipeline stage, a third of the way into the load."""
        await asyncio.sleep(self.args.seconds / 3)
        began = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from casebridge.cli import app; app()",
            self.args.pipeline, "-w", str(self.workspace),
            cwd=ROOT, env=checkout_env(), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await process.communicate()
        self.pipeline = PipelineRun(
            started_at=began - self.started,
            seconds=time.monotonic() - began,
            exit=process.returncode,
            stderr=stderr.decode(errors="replace")[-400:],
        )

    def switched(self) -> bool:
        """Whether the service was seen reading a new snapshot after the pipeline started."""
        if self.pipeline is None:
            return False
        started = self.pipeline.started_at
        return any(at >= started for at, _ in self.tally.snapshots[1:])

    def pipeline_over(self) -> bool:
        """Whether the pipeline has finished and its snapshot is served (or 5 s have passed)."""
        if self.pipeline is None:
            return False
        finished = self.pipeline.started_at + self.pipeline.seconds
        return self.switched() or time.monotonic() - self.started > finished + 5

    async def main(self, members: list[Member]) -> float:
        """Sign every session in (argon2 at the service's cost), then load for ``--seconds``,
        and on until the pipeline has finished and its snapshot is served (or three times
        ``--seconds`` have passed); the time the load lasted."""
        self.ready, self.all_in = asyncio.Event(), asyncio.Event()
        self.waiting = len(members)
        signing = time.monotonic()
        tasks = [asyncio.create_task(self.session(m, n)) for n, m in enumerate(members[:-1])]
        watcher = asyncio.create_task(self.watch_snapshot(members[-1]))
        await asyncio.wait_for(self.all_in.wait(), timeout=300)
        print(f"  {len(members)} sessions signed in in {time.monotonic() - signing:.1f} s",
              flush=True)  # fmt: skip
        self.started = time.monotonic()
        cpu_before = self.cpu_of()
        self.ready.set()
        pipeline = None
        if self.args.pipeline != "none":
            pipeline = asyncio.create_task(self.run_pipeline())
        limit = self.started + 3 * self.args.seconds
        await asyncio.sleep(self.args.seconds)
        while pipeline is not None and time.monotonic() < limit and not self.pipeline_over():
            await asyncio.sleep(0.5)
        self.stop.set()
        elapsed = time.monotonic() - self.started
        self.cpu_used = self.cpu_of() - cpu_before
        await asyncio.wait_for(asyncio.gather(*tasks, watcher), timeout=60)
        if pipeline is not None and not pipeline.done():
            pipeline.cancel()
        return elapsed


# ---- the report --------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def during_and_after(tally: Tally, run: PipelineRun) -> None:
    """p95 of the barred endpoints while the pipeline ran (it shares the cores) and otherwise."""
    end = run.started_at + run.seconds
    for endpoint in BARS_MS:
        inside = [
            ms for at, e, ms in tally.timeline if e == endpoint and run.started_at <= at < end
        ]
        outside = [
            ms for at, e, ms in tally.timeline if e == endpoint and not run.started_at <= at < end
        ]
        if inside and outside:
            alone, shared = percentile(outside, 0.95), percentile(inside, 0.95)
            print(f"  {endpoint}: p95 {alone:.1f} ms without the pipeline ({len(outside)}), "
                  f"{shared:.1f} ms while it ran ({len(inside)})")  # fmt: skip


def report(load: Load, elapsed: float, memory: dict[str, int], sessions: int) -> None:
    tally = load.tally
    errors = sum(tally.errors.values())
    print()
    print(f"sessions {sessions}, think time {load.args.think:g} s, {elapsed:.1f} s of load")
    rate = tally.requests / elapsed
    print(f"requests {tally.requests}, errors {errors}, throughput {rate:.1f} req/s")
    for kind, count in tally.errors.most_common():
        print(f"  error {kind}: {count}")
    print(
        f"{'endpoint':<10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for endpoint in WEIGHTS:
        values = tally.latencies.get(endpoint, [])
        if values:
            print(f"{endpoint:<10} {len(values):>8} {percentile(values, 0.5):>8.1f} "
                  f"{percentile(values, 0.95):>8.1f} {percentile(values, 0.99):>8.1f} "
                  f"{max(values):>8.1f}")  # fmt: skip
    print(f"server CPU: {load.cpu_used:.1f} s in {elapsed:.1f} s of load "
          f"({load.cpu_used / elapsed:.2f} cores busy, "
          f"{1000 * load.cpu_used / max(tally.requests, 1):.0f} ms a request)")  # fmt: skip
    print(f"server memory: peak (VmHWM) {memory.get('VmHWM', 0) / 1024:.0f} MiB, "
          f"at the end (VmRSS) {memory.get('VmRSS', 0) / 1024:.0f} MiB")  # fmt: skip
    run = load.pipeline
    if run is not None:
        print(f"pipeline '{load.args.pipeline}': started at {run.started_at:.1f} s, took "
              f"{run.seconds:.1f} s, exit {run.exit}")  # fmt: skip
        if run.exit != 0:
            print(f"  its error output: {run.stderr}")
    if run is not None:
        during_and_after(tally, run)
    names = [name for _, name in tally.snapshots]
    switches = ", ".join(f"{name} at {at:.1f} s" for at, name in tally.snapshots)
    switched = len(set(names)) > 1
    print(f"snapshots served: {switches} -> switched: {'yes' if switched else 'no'}")
    print()
    print(f"bar: 0 errors: {'PASS' if errors == 0 else 'FAIL'} ({errors})")
    for endpoint, bar in BARS_MS.items():
        values = tally.latencies.get(endpoint, [])
        p95 = percentile(values, 0.95) if values else float("nan")
        print(
            f"bar: p95 {endpoint} < {bar:.0f} ms: {'PASS' if p95 < bar else 'FAIL'} ({p95:.1f} ms)"
        )
    if load.args.pipeline != "none":
        ok = switched and run is not None and run.exit == 0
        print(f"bar: a pipeline run during the load breaks no request, and is served: "
              f"{'PASS' if ok and errors == 0 else 'FAIL'}")  # fmt: skip


def print_server_errors(log: Path) -> None:
    """The last exceptions the service logged (their type and message lines, no tracebacks)."""
    lines = log.read_text(errors="replace").splitlines()
    last = [line for line in lines if "Error" in line or "Exception" in line][-10:]
    if last:
        print("the service logged, last:")
        for line in last:
            print(f"  {line[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="a run workspace (a copy: it changes)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load lasts")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between requests")
    parser.add_argument("--pipeline", choices=("screen", "networks", "none"), default="screen")
    parser.add_argument("--database-url", help="the service's database (default: new SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 3600 or not 1 <= args.sessions <= 1000:
        parser.error("--seconds must be 1 to 3600 and --sessions 1 to 1000")
    scratch = Path(tempfile.mkdtemp(prefix="casebridge-bench-serve-"))
    try:
        workspace = args.workspace.resolve() if args.workspace else make_workspace(scratch)
        ensure_snapshot(workspace)
        database_url = args.database_url or f"sqlite:///{scratch / 'service.sqlite'}"
        pools = read_pools(workspace, random.Random(3))
        members = make_members(database_url, args.sessions + 1, pools)
        port = free_port()
        print(f"serving {workspace} on {HOST}:{port}; log {scratch / 'serve.log'}", flush=True)
        with server(workspace, database_url, port, scratch / "serve.log") as pid:
            load = Load(args, port, pools, workspace)
            load.cpu_of = lambda: cpu_seconds(pid)
            elapsed = asyncio.run(load.main(members))
            memory = memory_of(pid)
        report(load, elapsed, memory, args.sessions)
        if load.tally.errors:
            print_server_errors(scratch / "serve.log")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
