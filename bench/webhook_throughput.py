"""Webhook throughput: `hiloop serve` against a bare FastAPI anchor, same run.

    python bench/webhook_throughput.py [--requests 1000] [--concurrency 1 16]
                                       [--postgres] [--no-deliveries]
                                       [--no-pin] [--keep]

Starts, on 127.0.0.1: the Slack double (its own process), the bridge as a real
`hiloop serve` process (SQLite file in a temp dir, or a fresh PostgreSQL
database with --postgres) and the anchor app (bench/_anchor_app.py) as another
uvicorn process. Then, for each concurrency, drives the anchor and the bridge
with the same fixed number of `POST …/webhook` requests carrying the
integration page's review event (~1 KB) over keep-alive connections, and
prints req/s, latency percentiles, server CPU per request and the ratios
bridge/anchor. After each bridge run it waits (bounded) for the outbox to post
every accepted event to the Slack double, so deliveries never overlap the next
anchor run. Prints figures only; asserts nothing about timing.
"""

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import _common as c

REQUEST_TIMEOUT = 15.0


@dataclass
class Run:
    target: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    cpu: float = 0.0
    unsent: int = 0
    sample_failure: str = ""

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_per_request_us(self) -> float:
        return self.cpu / self.done * 1e6 if self.done else float("nan")


async def drive(
    run: Run, port: int, raw: bytes, total: int, time_limit: float, pid: int
) -> Run:
    """Send `total` requests over `run.concurrency` connections, or stop at the limit.

    One request at a time per keep-alive connection, each timed on its own.
    """
    left = total
    stop_at = time.perf_counter() + time_limit

    async def worker() -> None:
        nonlocal left
        connection = c.Connection(port)
        try:
            while left > 0 and time.perf_counter() < stop_at:
                left -= 1
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        answer = await connection.request(raw)
                except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
                    run.errors[type(error).__name__] += 1
                    connection.close()
                    continue
                run.latencies.append(time.perf_counter() - started)
                run.statuses[answer.status] += 1
                if answer.status != 201 and not run.sample_failure:
                    run.sample_failure = answer.body[:300].decode(errors="replace")
        finally:
            connection.close()

    cpu_before = c.cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(run.concurrency)))
    run.elapsed = time.perf_counter() - started
    run.cpu = c.cpu_seconds(pid) - cpu_before
    run.unsent = left
    return run


def row(run: Run) -> str:
    lat = run.latencies
    bad = run.done - run.statuses[201] + sum(run.errors.values())
    return (
        f"{run.target:<7}{run.concurrency:>4}{run.done:>6}{run.rate:>8.0f}"
        f"{c.ms(c.percentile(lat, 50)):>9}{c.ms(c.percentile(lat, 99)):>9}"
        f"{c.ms(max(lat) if lat else float('nan')):>9}"
        f"{run.cpu_per_request_us:>10.0f}{bad:>8}"
    )


def ratios(bridge: Run, anchor: Run) -> str:
    def share(a: float, b: float) -> str:
        return f"{a / b:.3f}" if b else "-"

    lb, la = bridge.latencies, anchor.latencies
    return (
        f"  bridge/anchor c={bridge.concurrency}:"
        f" req/s {share(bridge.rate, anchor.rate)}"
        f", p50 {share(c.percentile(lb, 50), c.percentile(la, 50))}x"
        f", p99 {share(c.percentile(lb, 99), c.percentile(la, 99))}x"
        f", CPU/request "
        f"{share(bridge.cpu_per_request_us, anchor.cpu_per_request_us)}x"
    )


async def drain(double: c.SlackDoubleProcess, expected: int, limit: float) -> str:
    """Wait until the double has `expected` successful posts; a summary."""
    started = time.perf_counter()
    posted = 0
    while time.perf_counter() - started < limit:
        posted = double.count("chat.postMessage")
        if posted >= expected:
            waited = time.perf_counter() - started
            return f"outbox: all {expected} events posted, {waited:.1f}s after the run"
        await asyncio.sleep(0.1)
    return f"outbox: only {posted}/{expected} posted {limit:.0f}s after the run"


async def measure(
    args: argparse.Namespace,
    bridge: c.Bridge,
    anchor: c.Process,
    anchor_port: int,
    double: c.SlackDoubleProcess,
) -> list[Run]:
    body = json.dumps(c.review_event(None if args.verbatim else 1024)).encode()
    bridge_raw = c.request_bytes(
        "POST", c.API + "/webhook", body=body, headers=c.api_headers(bridge.api_key)
    )
    anchor_raw = c.request_bytes("POST", c.API + "/webhook", body=body)
    print(
        f"body {len(body)} bytes; {args.requests} requests per run "
        f"after {args.warmup} warm-up; client on {c.client_loop_name()}"
    )
    print(
        f"{'target':<7}{'c':>4}{'sent':>6}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'CPU us/r':>10}{'not 201':>8}"
    )
    runs: list[Run] = []
    created = 0
    for concurrency in args.concurrency:
        for target, port, raw, pid in (
            ("anchor", anchor_port, anchor_raw, anchor.pid),
            ("bridge", bridge.port, bridge_raw, bridge.process.pid),
        ):
            warm = await drive(
                Run(target, concurrency), port, raw, args.warmup, args.time_limit, pid
            )
            run = await drive(
                Run(target, concurrency), port, raw, args.requests, args.time_limit, pid
            )
            runs.append(run)
            print(row(run), flush=True)
            if target == "bridge" and not args.no_deliveries:
                created += warm.statuses[201] + run.statuses[201]
                print("  " + await drain(double, created, args.drain_limit), flush=True)
    return runs


def report(runs: list[Run]) -> None:
    print()
    for bridge in (r for r in runs if r.target == "bridge"):
        anchor = next(
            r
            for r in runs
            if r.target == "anchor" and r.concurrency == bridge.concurrency
        )
        print(ratios(bridge, anchor))
    for run in runs:
        if run.errors or run.sample_failure:
            print(
                f"  {run.target} c={run.concurrency}: statuses {dict(run.statuses)}"
                f", errors {dict(run.errors)} {run.sample_failure}"
            )
        if run.unsent:
            print(
                f"  {run.target} c={run.concurrency}: time limit reached, "
                f"{run.unsent} requests not sent"
            )
    print(
        "  perf-anchors.md for comparison: bare FastAPI 6.4k c=1 / 8.8k c=16 req/s; "
        "+ one SQLModel insert (SQLite WAL) 1.7k / 1.8k, i.e. ratios 0.27 / 0.20; "
        "PostgreSQL insert 0.7-1.3k at c=16, i.e. 0.08-0.15"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=1000,
        help="requests per measured run (1..200000)",
    )
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument(
        "--time-limit",
        type=float,
        default=15.0,
        help="seconds a run may take before it stops sending",
    )
    parser.add_argument(
        "--drain-limit",
        type=float,
        default=30.0,
        help="seconds to wait for the outbox after a bridge run",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a fresh PostgreSQL database on 127.0.0.1:5432",
    )
    parser.add_argument(
        "--verbatim",
        action="store_true",
        help="send the page's event as is (~470 B), not padded to 1 KB",
    )
    parser.add_argument(
        "--anchor-sync",
        action="store_true",
        help="anchor endpoint as a plain def (thread pool)",
    )
    parser.add_argument("--log-level", default="INFO", help="the bridge's log level")
    parser.add_argument(
        "--no-deliveries",
        action="store_true",
        help="serve without a bot token: events stay queued, nothing is posted",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin CPUs")
    parser.add_argument("--keep", action="store_true", help="keep logs and database")
    args = parser.parse_args()
    args.requests = max(1, min(args.requests, 200_000))
    args.warmup = max(0, min(args.warmup, 20_000))
    args.concurrency = [max(1, min(n, 256)) for n in args.concurrency]
    args.time_limit = max(1.0, min(args.time_limit, 300.0))
    return args


def main() -> int:
    args = parse_args()
    server_cpus, client_cpus = c.pin_plan(not args.no_pin)
    c.pin_self(client_cpus)
    print(c.setup_line(server_cpus, client_cpus, args.postgres))
    with c.workdir(args.keep) as work:
        double = c.SlackDoubleProcess(work / "slack.log", client_cpus)
        anchor_port = c.free_port()
        argv = [sys.executable, str(c.BENCH / "_anchor_app.py"), str(anchor_port)]
        anchor = c.Process(
            "anchor",
            argv + (["--sync"] if args.anchor_sync else []),
            work / "anchor.log",
            c.child_env(),
            server_cpus,
        )
        try:
            double.start()
            anchor.start()
            c.wait_healthy(anchor, f"http://{c.HOST}:{anchor_port}/healthz")
            with (
                c.database(work, args.postgres) as url,
                c.running_bridge(
                    work,
                    url,
                    None if args.no_deliveries else double.url,
                    server_cpus,
                    HILOOP_LOG_LEVEL=args.log_level,
                ) as bridge,
            ):
                runs = c.run(measure(args, bridge, anchor, anchor_port, double))
            report(runs)
        finally:
            anchor.stop()
            double.stop()
            c.log_report(work / "bridge.log")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
