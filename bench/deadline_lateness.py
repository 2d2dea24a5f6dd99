"""Deadline lateness: how late interactions expire, with Slack up and Slack down.

    python bench/deadline_lateness.py [--interactions 200] [--outage 5]
                                      [--postgres] [--no-pin] [--keep]

Runs one `hiloop serve` on 127.0.0.1 (SQLite file in a temp dir, or a fresh
PostgreSQL database) with the Slack double, in two rounds:

1. Slack healthy: M review events (the integration page's event) with
   `timeout_seconds` 1, 2 or 3, each followed at once by a held
   `GET …/await`, so nobody answers and every one must expire.
2. The same with the Slack double failing every call (HTTP 500) for the first
   `--outage` seconds of the round, which covers all the deadlines.

For each interaction it prints two latenesses, both against the stored
`deadline_at` (read from the database, microsecond precision):

* server: when the expiry was committed, which is the creation time of the
  Slack "update" row the expiry writes to the outbox in its own transaction
  (`updated_at` is not used: a late Slack post overwrites it);
* client: when the held await answered `expired` (same machine, same clock).

After the outage round it waits (bounded) for the outbox to catch up and says
what Slack finally got. Prints figures only; asserts nothing about timing.
"""

import argparse
import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import _common as c

MAX_INTERACTIONS = 2000
CREATORS = 8
SWEEP_LINE = re.compile(r"sweep expired (\d+)")


@dataclass
class Round:
    name: str
    outage: float
    holders: list[c.HeldAwait] = field(default_factory=list)
    created_in: float = 0.0
    outage_left_at_read: float | None = None
    server: c.Latencies = field(default_factory=c.Latencies)
    client: c.Latencies = field(default_factory=c.Latencies)
    problems: list[str] = field(default_factory=list)
    swept: int = 0
    slack: str = ""


async def create_and_hold(bridge: c.Bridge, count: int, round_: Round) -> None:
    """Send the events from a few connections; hold an await after each 201."""
    left = list(range(count))

    async def creator() -> None:
        connection = c.Connection(bridge.port)
        try:
            while left:
                number = left.pop()
                timeout = 1 + number % 3
                event = c.review_event(
                    None,
                    timeout_seconds=timeout,
                    session_id=f"oz_sess_deadline_{number}",
                )
                raw = c.request_bytes(
                    "POST",
                    c.API + "/webhook",
                    body=json.dumps(event).encode(),
                    headers=c.api_headers(bridge.api_key),
                )
                answer = await connection.request(raw)
                if answer.status != 201:
                    round_.problems.append(f"webhook answered {answer.status}")
                    continue
                holder = c.HeldAwait(
                    bridge.port,
                    answer.json()["interaction_id"],
                    bridge.api_key,
                    timeout + 10,
                )
                await holder.start()
                round_.holders.append(holder)
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(creator() for _ in range(CREATORS)))
    round_.created_in = time.perf_counter() - started


def read_times(url: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per interaction: status, deadline and the moment its expiry committed."""
    from sqlalchemy import create_engine, func
    from sqlmodel import Session, col, select

    from app.store.models import Delivery, Interaction

    engine = create_engine(url)
    try:
        with Session(engine) as db:
            rows = db.exec(
                select(Interaction).where(col(Interaction.id).in_(ids))
            ).all()
            found = {
                i.id: {
                    "status": i.status,
                    "deadline": i.deadline_at,
                    "expired_at": None,
                }
                for i in rows
            }
            expiries = db.exec(
                select(Delivery.interaction_id, func.min(Delivery.created_at))
                .where(col(Delivery.interaction_id).in_(ids), Delivery.kind == "update")
                .group_by(Delivery.interaction_id)
            ).all()
            for interaction_id, created_at in expiries:
                found[interaction_id]["expired_at"] = _aware(created_at)
    finally:
        engine.dispose()
    return found


def _aware(moment: Any) -> datetime:
    # A raw aggregate skips the column's type on SQLite: naive UTC text or datetime.
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    assert isinstance(parsed, datetime)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def outbox_state(url: str, ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    from sqlalchemy import create_engine, func
    from sqlmodel import Session, col, select

    from app.store.models import Delivery, Interaction

    engine = create_engine(url)
    try:
        with Session(engine) as db:
            rows = db.exec(
                select(Delivery.status, func.count())
                .where(col(Delivery.interaction_id).in_(ids))
                .group_by(Delivery.status)
            ).all()
            posts = db.exec(
                select(Interaction.slack_delivery, func.count())
                .where(col(Interaction.id).in_(ids))
                .group_by(Interaction.slack_delivery)
            ).all()
    finally:
        engine.dispose()
    return dict(rows), dict(posts)


def sweeps_in_log(bridge: c.Bridge, skip: int) -> tuple[int, int]:
    """Interactions the sweep (not their own job) expired since byte `skip`."""
    with bridge.process.log_path.open("rb") as log:
        log.seek(skip)
        text = log.read().decode(errors="replace")
    swept = sum(int(m.group(1)) for m in SWEEP_LINE.finditer(text))
    return swept, skip + len(text.encode())


async def run_round(
    args: argparse.Namespace,
    bridge: c.Bridge,
    double: c.SlackDoubleProcess,
    round_: Round,
) -> None:
    _, log_at = sweeps_in_log(bridge, 0)
    failed_before = double.count("chat.postMessage", failed=True)
    outage_started = time.monotonic()
    if round_.outage:
        double.fail(round_.outage)
    await create_and_hold(bridge, args.interactions, round_)
    for holder in round_.holders:
        await holder.wait(20)
    if round_.outage:
        round_.outage_left_at_read = round_.outage - (time.monotonic() - outage_started)

    ids = [h.interaction_id for h in round_.holders]
    times = await asyncio.to_thread(read_times, bridge.database_url, ids)
    for holder in round_.holders:
        score(round_, holder, times.get(holder.interaction_id))
    round_.swept, _ = sweeps_in_log(bridge, log_at)
    if round_.outage:
        round_.slack = await settle(args, bridge, double, ids, failed_before)


def score(round_: Round, holder: c.HeldAwait, row: dict[str, Any] | None) -> None:
    if row is None or row["deadline"] is None:
        round_.problems.append(f"{holder.interaction_id}: not in the database")
        return
    deadline = row["deadline"].timestamp()
    if row["status"] != "expired":
        round_.problems.append(f"{holder.interaction_id}: {row['status']}")
    elif row["expired_at"] is not None:
        round_.server.add(row["expired_at"].timestamp() - deadline)
    if holder.answered_wall is None:
        round_.problems.append(f"{holder.interaction_id}: await {holder.error}")
    elif holder.status != "expired":
        after = holder.answered_wall - deadline
        round_.problems.append(
            f"{holder.interaction_id}: await answered {holder.status!r} "
            f"{after:.2f}s after the deadline (status now {row['status']!r})"
        )
    else:
        round_.client.add(holder.answered_wall - deadline)


async def settle(
    args: argparse.Namespace,
    bridge: c.Bridge,
    double: c.SlackDoubleProcess,
    ids: list[str],
    failed_before: int,
) -> str:
    """Wait until the round's Slack writes are no longer queued; what happened."""
    started = time.monotonic()
    while True:
        deliveries, posts = await asyncio.to_thread(
            outbox_state, bridge.database_url, ids
        )
        if not deliveries.get("queued") or time.monotonic() - started > args.settle:
            break
        await asyncio.sleep(0.5)
    failed = double.count("chat.postMessage", failed=True) - failed_before
    return (
        f"{failed} chat.postMessage calls failed during the outage; "
        f"{time.monotonic() - started:.1f}s after the expiries the outbox rows are "
        f"{deliveries} and the messages {posts}"
    )


def report(round_: Round) -> None:
    print(
        f"\n{round_.name}: {len(round_.holders)} interactions created in "
        f"{round_.created_in:.2f}s, deadlines 1-3 s out"
    )
    print(
        f"  server lateness (expiry committed - deadline_at): {round_.server.summary()}"
    )
    print(
        f"  client lateness (await answered - deadline_at):   {round_.client.summary()}"
    )
    early = sum(1 for v in round_.server.values if v < 0)
    print(
        f"  expired by the sweep rather than their own job: {round_.swept}; "
        f"expired before their deadline: {early}"
    )
    if round_.outage_left_at_read is not None and round_.outage_left_at_read < 0:
        print("  note: the outage had ended before every await answered")
    if round_.slack:
        print(f"  Slack: {round_.slack}")
    for problem in round_.problems[:5]:
        print(f"  problem: {problem}")
    if len(round_.problems) > 5:
        print(f"  … {len(round_.problems) - 5} more problems")


async def measure(
    args: argparse.Namespace, bridge: c.Bridge, double: c.SlackDoubleProcess
) -> list[Round]:
    rounds = [
        Round("Slack healthy", 0.0),
        Round(f"Slack failing (HTTP 500) for the first {args.outage:g}s", args.outage),
    ]
    for round_ in rounds:
        try:
            await run_round(args, bridge, double, round_)
        finally:
            for holder in round_.holders:
                holder.cancel()
        report(round_)
    return rounds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--interactions",
        type=int,
        default=200,
        help=f"interactions per round (1..{MAX_INTERACTIONS})",
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=5.0,
        help="seconds Slack fails at the start of round 2 (1..30)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="seconds to wait for the outbox after the outage",
    )
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--log-level", default="INFO", help="the bridge's log level")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.interactions = max(1, min(args.interactions, MAX_INTERACTIONS))
    args.outage = max(1.0, min(args.outage, 30.0))
    args.settle = max(1.0, min(args.settle, 120.0))
    return args


def main() -> int:
    return c.measure_against_bridge(parse_args(), measure)


if __name__ == "__main__":
    raise SystemExit(main())
