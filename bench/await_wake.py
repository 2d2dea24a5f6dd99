"""Await wake-up: N held awaits on one `hiloop serve`, woken by their decisions.

    python bench/await_wake.py [--awaits 200] [--via slack|api] [--sequential K]
                               [--burst-concurrency 16] [--postgres] [--keep]

Creates N approval interactions (batch webhook), waits until the outbox has
posted them all to the Slack double, then holds one `GET …/await?timeout=60`
per interaction, each on its own connection, and reads the server's RSS from
/proc/<pid>/status before and while they are held. Then resolves them in the
server: by default with a signed Slack "Approve" click on /slack/events (Bolt
verifies it, the listener decides), or with `--via api` by
`DELETE …/interactions/{id}` (the agent cancels). The first K are resolved one
at a time (the next click goes only after the previous await answered: the
latency of a lone wake-up, each sent once the server is idle), the rest in a
burst over a few connections (wake-up under load). Wake latency is resolve
sent → the await's answer read by the client. Prints figures only; asserts
nothing about timing.
"""

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field

import _common as c

MAX_AWAITS = 5000
AWAIT_SECONDS = 60
WARMUP = 10
BATCH = 20
ANSWER_LIMIT = 10.0


@dataclass
class Phase:
    name: str
    wake: c.Latencies = field(default_factory=c.Latencies)
    ack: c.Latencies = field(default_factory=c.Latencies)
    problems: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: float = 0.0


@dataclass
class Target:
    interaction_id: str
    message_ts: str


def approval(number: int) -> dict[str, object]:
    return {
        "event": "session.approval_needed",
        "session_id": f"oz_sess_bench_{number // 50}",
        "title": f"Deploy build {number} to staging?",
        "timeout_seconds": 600,
    }


async def create_interactions(bridge: c.Bridge, count: int) -> list[str]:
    connection = c.Connection(bridge.port)
    ids: list[str] = []
    try:
        for start in range(0, count, BATCH):
            events = [approval(n) for n in range(start, min(count, start + BATCH))]
            raw = c.request_bytes(
                "POST",
                c.API + "/webhook/batch",
                body=json.dumps({"events": events}).encode(),
                headers=c.api_headers(bridge.api_key),
            )
            answer = await connection.request(raw)
            if answer.status != 201:
                raise RuntimeError(
                    f"batch webhook answered {answer.status}: {answer.body!r}"
                )
            ids += [event["interaction_id"] for event in answer.json()["events"]]
    finally:
        connection.close()
    return ids


async def posted_targets(
    bridge: c.Bridge, double: c.SlackDoubleProcess, ids: list[str]
) -> list[Target]:
    """Wait until every interaction is posted; each with its message ts."""
    limit = 30 + len(ids) / 50
    started = time.monotonic()
    while double.count("chat.postMessage") < len(ids):
        if time.monotonic() - started > limit:
            raise RuntimeError(f"not every interaction was posted within {limit:.0f}s")
        await asyncio.sleep(0.1)
    waited = time.monotonic() - started
    print(f"all {len(ids)} posted to the Slack double in {waited:.1f}s")
    connection = c.Connection(bridge.port)
    targets = []
    try:
        for interaction_id in ids:
            raw = c.request_bytes(
                "GET",
                f"{c.API}/interactions/{interaction_id}",
                headers=c.api_headers(bridge.api_key),
            )
            slack = (await connection.request(raw)).json()["slack"]
            targets.append(Target(interaction_id, slack["ts"] or ""))
    finally:
        connection.close()
    return targets


def resolve_request(
    args: argparse.Namespace, bridge: c.Bridge, target: Target
) -> bytes:
    if args.via == "api":
        return c.request_bytes(
            "DELETE",
            f"{c.API}/interactions/{target.interaction_id}",
            headers=c.api_headers(bridge.api_key),
        )
    return c.approve_click(target.interaction_id, target.message_ts)


async def resolve_one(
    connection: c.Connection, raw: bytes, holder: c.HeldAwait, phase: Phase
) -> float:
    """Send one resolution; the moment it was sent (perf_counter)."""
    sent = time.perf_counter()
    answer = await connection.request(raw)
    phase.ack.add(time.perf_counter() - sent)
    if answer.status != 200:
        phase.problems.append(
            f"resolve of {holder.interaction_id}: HTTP {answer.status}"
        )
    return sent


def record(phase: Phase, holder: c.HeldAwait, sent: float, expected: str) -> None:
    if holder.answered_at is None:
        phase.problems.append(f"{holder.interaction_id}: {holder.error or 'no answer'}")
    elif holder.status != expected:
        phase.problems.append(f"{holder.interaction_id}: answered {holder.status}")
    else:
        phase.wake.add(holder.answered_at - sent)


async def sequential(
    args: argparse.Namespace,
    bridge: c.Bridge,
    pairs: Sequence[tuple[Target, c.HeldAwait]],
    phase: Phase,
) -> None:
    connection = c.Connection(bridge.port)
    expected = "cancelled" if args.via == "api" else "approved"
    try:
        for target, holder in pairs:
            raw = resolve_request(args, bridge, target)
            # Let the previous one's Slack writes finish: a lone wake-up.
            await c.wait_cpu_quiet(bridge.process.pid, window=0.05, busy=0.011, limit=2)
            sent = await resolve_one(connection, raw, holder, phase)
            await holder.wait(ANSWER_LIMIT)
            record(phase, holder, sent, expected)
    finally:
        connection.close()


async def burst(
    args: argparse.Namespace,
    bridge: c.Bridge,
    pairs: Sequence[tuple[Target, c.HeldAwait]],
    phase: Phase,
) -> None:
    expected = "cancelled" if args.via == "api" else "approved"
    queue = list(reversed(pairs))
    requests = {
        target.interaction_id: resolve_request(args, bridge, target)
        for target, _ in pairs
    }
    sent_at: dict[str, float] = {}

    async def sender() -> None:
        connection = c.Connection(bridge.port)
        try:
            while queue:
                target, holder = queue.pop()
                raw = requests[target.interaction_id]
                sent_at[target.interaction_id] = await resolve_one(
                    connection, raw, holder, phase
                )
        finally:
            connection.close()

    await asyncio.gather(*(sender() for _ in range(args.burst_concurrency)))
    for _, holder in pairs:
        await holder.wait(ANSWER_LIMIT)
    for target, holder in pairs:
        record(phase, holder, sent_at[target.interaction_id], expected)


async def timed(phase: Phase, pid: int, work: Awaitable[None]) -> None:
    cpu = c.cpu_seconds(pid)
    started = time.perf_counter()
    await work
    phase.elapsed = time.perf_counter() - started
    phase.cpu = c.cpu_seconds(pid) - cpu


async def measure(
    args: argparse.Namespace, bridge: c.Bridge, double: c.SlackDoubleProcess
) -> None:
    pid = bridge.process.pid
    ids = await create_interactions(bridge, args.awaits + WARMUP)
    targets = await posted_targets(bridge, double, ids)
    warm, measured = targets[:WARMUP], targets[WARMUP:]

    # Warm every code path once, unmeasured.
    warm_holders = [
        c.HeldAwait(bridge.port, t.interaction_id, bridge.api_key, 30) for t in warm
    ]
    await c.start_holding(warm_holders)
    await asyncio.sleep(0.2)
    warm_pairs = list(zip(warm, warm_holders, strict=True))
    await sequential(args, bridge, warm_pairs, Phase("warm"))

    await c.wait_cpu_quiet(pid)
    rss_base, cpu_base = c.rss_kb(pid), c.cpu_seconds(pid)
    holders = [
        c.HeldAwait(bridge.port, t.interaction_id, bridge.api_key, AWAIT_SECONDS)
        for t in measured
    ]
    started = time.perf_counter()
    try:
        await c.start_holding(holders)
        quiet_after = await c.wait_cpu_quiet(pid, limit=30)
        rss_held, cpu_held = c.rss_kb(pid), c.cpu_seconds(pid)
        early = sum(1 for h in holders if h.task is not None and h.task.done())
        n = len(holders)
        sending = time.perf_counter() - started - quiet_after
        print(
            f"held {n} awaits: sent in {sending:.2f}s"
            f", server quiet {quiet_after:.2f}s later; answered early: {early}"
        )
        print(
            f"server RSS {rss_base} KB before, {rss_held} KB while holding: "
            f"{(rss_held - rss_base) / n:.1f} KB per held await; "
            f"{(cpu_held - cpu_base) / n * 1e6:.0f} us server CPU per await taken on"
        )

        pairs = list(zip(measured, holders, strict=True))
        one_by_one, at_once = pairs[: args.sequential], pairs[args.sequential :]
        phases = [
            Phase(f"one at a time, server idle before each ({len(one_by_one)})"),
            Phase(f"burst of {len(at_once)}, {args.burst_concurrency} connections"),
        ]
        await timed(phases[0], pid, sequential(args, bridge, one_by_one, phases[0]))
        await timed(phases[1], pid, burst(args, bridge, at_once, phases[1]))
        await c.wait_cpu_quiet(pid, limit=15)
        rss_after = c.rss_kb(pid)
    finally:
        for holder in holders:
            holder.cancel()
    report(args, phases, rss_after)


def report(args: argparse.Namespace, phases: list[Phase], rss_after: int) -> None:
    via = "signed Slack Approve click" if args.via == "slack" else "DELETE (cancel)"
    print(f"resolved by {via}; wake = resolve sent -> await answered")
    for phase in phases:
        if not phase.wake.values and not phase.problems:
            continue
        count = len(phase.wake.values) + len(phase.problems)
        print(f"  {phase.name}: wake {phase.wake.summary()}")
        print(f"      resolve answered (ack) {phase.ack.summary()}")
        if count:
            print(
                f"      {phase.elapsed:.2f}s in all, server CPU "
                f"{phase.cpu / count * 1e6:.0f} us per resolved await"
            )
        for problem in phase.problems[:5]:
            print(f"      problem: {problem}")
        if len(phase.problems) > 5:
            print(f"      … {len(phase.problems) - 5} more problems")
    print(f"server RSS after all answered: {rss_after} KB")
    print(
        "perf-anchors.md for comparison: bare waiter wake p50 0.3-0.4 ms,"
        " p99 0.4-0.6 ms; 1 000 at once p50 ~39 ms, p99 ~80 ms;"
        " ~20 KB per held long-poll at 1 k"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--awaits", type=int, default=200, help=f"awaits held at once (1..{MAX_AWAITS})"
    )
    parser.add_argument("--via", choices=["slack", "api"], default="slack")
    parser.add_argument(
        "--sequential",
        type=int,
        default=None,
        help="how many to resolve one at a time (default: half, at most 100)",
    )
    parser.add_argument("--burst-concurrency", type=int, default=16)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--log-level", default="INFO", help="the bridge's log level")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.awaits = max(1, min(args.awaits, MAX_AWAITS))
    if args.sequential is None:
        args.sequential = min(100, args.awaits // 2)
    args.sequential = max(0, min(args.sequential, args.awaits, 1000))
    args.burst_concurrency = max(1, min(args.burst_concurrency, 128))
    return args


def main() -> int:
    args = parse_args()
    return c.measure_against_bridge(args, measure, f"; {args.awaits} awaits")


if __name__ == "__main__":
    raise SystemExit(main())
