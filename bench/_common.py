"""What the benchmarks share: processes, a small HTTP/1.1 client, statistics.

Every process started here listens on 127.0.0.1 only and is stopped by its own
PID (SIGTERM, then SIGKILL) when the `with` block that started it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HOST = "127.0.0.1"
API = "/v1/integrations/warp-oz"
BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret-0123456789ab"
CHANNEL = "C0BENCH01"
APPROVER = "U0BENCH01"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Settings the parent's environment must not leak into a server we start.
OWN_PREFIXES = ("HILOOP_", "SLACK_")
# CPU layout when the machine has two or more: servers on one core, the load
# generator and the Slack double on another (as perf-anchors.md measured).
SERVER_CPU = 0
CLIENT_CPU = 1


# Processes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def cpus_available() -> set[int]:
    return set(os.sched_getaffinity(0))


def pin_plan(enabled: bool) -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, client CPUs), or (None, None) when not pinning."""
    cpus = sorted(cpus_available())
    if not enabled or len(cpus) < 2:
        return None, None
    return {cpus[SERVER_CPU]}, {cpus[CLIENT_CPU]}


def setup_line(
    server_cpus: set[int] | None, client_cpus: set[int] | None, postgres: bool
) -> str:
    database = "PostgreSQL" if postgres else "SQLite"
    return (
        f"CPUs: servers {sorted(server_cpus) if server_cpus else 'any'}, client and "
        f"Slack double {sorted(client_cpus) if client_cpus else 'any'}; {database}"
    )


def pin_self(cpus: set[int] | None) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)


class Process:
    """A child process of ours, logged to a file, stopped by its PID."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cpus: set[int] | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.cpus = cpus
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self, *, stdin: Any = None, stdout: Any = None) -> Process:
        """Start it; output goes to the log unless `stdout` is given."""
        cpus = self.cpus

        def pin() -> None:
            if cpus:
                os.sched_setaffinity(0, cpus)

        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdin=stdin,
                stdout=log if stdout is None else stdout,
                stderr=subprocess.STDOUT if stdout is None else log,
                preexec_fn=pin,
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        return self.popen.returncode


def wait_healthy(process: Process, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            tail = process.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{process.name} exited early; log tail:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{process.name} not healthy at {url} after {timeout}s")


def child_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(values)
    return env


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hiloop-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"\nkept work directory (logs, database): {path}")
        else:
            for child in sorted(path.rglob("*"), reverse=True):
                child.rmdir() if child.is_dir() else child.unlink()
            path.rmdir()


# The Slack double, in its own process --------------------------------------


class SlackDoubleProcess:
    """tests/support/slack_double.py served by bench/_slack_double.py.

    One JSON command per line on the child's stdin, one JSON answer per line
    on its stdout; closing stdin stops it.
    """

    def __init__(self, log_path: Path, cpus: set[int] | None) -> None:
        argv = [sys.executable, str(BENCH / "_slack_double.py"), BOT_TOKEN]
        self.process = Process("slack double", argv, log_path, child_env(), cpus)
        self.url = ""

    def start(self) -> SlackDoubleProcess:
        self.process.start(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.url = str(self.ask(do="url")["url"])
        return self

    def ask(self, **command: Any) -> dict[str, Any]:
        popen = self.process.popen
        assert popen is not None and popen.stdin and popen.stdout
        popen.stdin.write(json.dumps(command).encode() + b"\n")
        popen.stdin.flush()
        line = popen.stdout.readline()
        if not line:
            raise RuntimeError("the Slack double process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def fail(self, seconds: float) -> None:
        self.ask(do="fail", seconds=seconds)

    def count(self, method: str, *, failed: bool | None = False) -> int:
        """Calls to `method`: successful ones, failed ones, or all (None)."""
        return int(self.ask(do="count", method=method, failed=failed)["count"])

    def stop(self) -> None:
        popen = self.process.popen
        if popen is not None and popen.stdin and not popen.stdin.closed:
            with contextlib.suppress(OSError):
                popen.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(5)
        self.process.stop()


# The bridge -----------------------------------------------------------------


@dataclass
class Bridge:
    process: Process
    url: str
    port: int
    database_url: str
    api_key: str


def bridge_env(
    database_url: str, slack_url: str | None, **extra: str
) -> dict[str, str]:
    """The bridge's settings; without a Slack URL, no bot token (nothing delivered)."""
    # Benchmarks measure the bridge, not its per-agent rate limit.
    extra.setdefault("HILOOP_RATE_LIMIT_PER_SECOND", "0")
    if slack_url is None:
        return child_env(HILOOP_DATABASE_URL=database_url, **extra)
    return child_env(
        HILOOP_DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_url,
        **extra,
    )


def create_agent(env: dict[str, str], name: str = "bench") -> str:
    """Create the agent with `hiloop agents create`; its API key."""
    argv = [sys.executable, "-m", "app.cli", "agents", "create", name]
    argv += ["--channel", CHANNEL, "--json"]
    done = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"hiloop agents create failed:\n{done.stderr}")
    key: str = json.loads(done.stdout)["api_key"]
    return key


@contextlib.contextmanager
def running_bridge(
    work: Path,
    database_url: str,
    slack_url: str | None,
    cpus: set[int] | None,
    **settings: str,
) -> Iterator[Bridge]:
    """`hiloop serve` on 127.0.0.1 with a fresh agent, stopped on exit."""
    env = bridge_env(database_url, slack_url, **settings)
    key = create_agent(env)
    port = free_port()
    argv = [sys.executable, "-m", "app.cli", "serve", "--host", HOST]
    argv += ["--port", str(port)]
    process = Process("hiloop serve", argv, work / "bridge.log", env, cpus)
    try:
        process.start()
        url = f"http://{HOST}:{port}"
        wait_healthy(process, url + "/healthz")
        yield Bridge(process, url, port, database_url, key)
    finally:
        code = process.stop()
        print(
            f"(hiloop serve pid {process.pid if process.popen else '-'} "
            f"stopped, exit code {code})"
        )


@contextlib.contextmanager
def database(work: Path, postgres: bool) -> Iterator[str]:
    """A fresh database URL: a SQLite file in `work`, or a new PostgreSQL db."""
    if not postgres:
        yield f"sqlite:///{work / 'hiloop.db'}"
        return
    import psycopg

    name = f"hiloop_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def log_report(log_path: Path, limit: int = 8) -> None:
    """Count the server log's warnings and errors, grouped by their message."""
    if not log_path.exists():
        return
    lines = log_path.read_text(errors="replace").splitlines()
    marks = (" ERROR ", " CRITICAL ", "Traceback")
    errors = [line for line in lines if any(mark in line for mark in marks)]
    warnings = [line for line in lines if " WARNING " in line]
    print(
        f"server log {log_path.name}: {len(lines)} lines, "
        f"{len(warnings)} warnings, {len(errors)} errors/tracebacks"
    )
    groups = Counter(_shape(line) for line in errors + warnings)
    for shape, count in groups.most_common(limit):
        print(f"  {count:>6} x {shape[:170]}")


def _shape(line: str) -> str:
    """The line without its timestamp, ids and numbers, to group alike lines."""
    text = line.split(" ", 2)[-1] if line[:2].isdigit() else line
    text = UUID.sub("<id>", text)
    return NUMBER.sub("<n>", text)


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NUMBER = re.compile(r"\d+(\.\d+)?")


# /proc ------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process, all its threads."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def wait_cpu_quiet(
    pid: int, *, window: float = 0.3, busy: float = 0.02, limit: float = 30.0
) -> float:
    """Wait until the process uses under `busy` s of CPU in `window` s."""
    started = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - started < limit:
        await asyncio.sleep(window)
        now = cpu_seconds(pid)
        if now - before < busy:
            break
        before = now
    return time.monotonic() - started


# HTTP/1.1 over asyncio streams ------------------------------------------------


def request_bytes(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closes."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def send(self, raw: bytes) -> None:
        if self.writer is None:
            await self.open()
        assert self.writer is not None
        self.writer.write(raw)
        await self.writer.drain()

    async def receive(self) -> Response:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, body)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def request(self, raw: bytes) -> Response:
        await self.send(raw)
        return await self.receive()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def api_headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


# Events -------------------------------------------------------------------


def review_event(pad_to: int | None = 1024, **overrides: Any) -> dict[str, Any]:
    """The integration page's review event; its description padded to `pad_to`."""
    from tests.seed import REVIEW_EVENT

    event: dict[str, Any] = json.loads(json.dumps(REVIEW_EVENT))
    event.update(overrides)
    if pad_to:
        size = len(json.dumps(event).encode())
        if size < pad_to:
            filler = " It also moves token checks out of the route handlers."
            extra = (filler * (1 + (pad_to - size) // len(filler)))[: pad_to - size]
            event["description"] += extra
    return event


# Statistics -------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; `share` in 0..100."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    return f"{seconds * 1000:.2f}"


@dataclass
class Latencies:
    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def summary(self) -> str:
        v = self.values
        if not v:
            return "n=0"
        return (
            f"n={len(v)} p50 {ms(percentile(v, 50))} ms, "
            f"p99 {ms(percentile(v, 99))} ms, max {ms(max(v))} ms"
        )


def run(main: Any) -> Any:
    """Run the client coroutine on uvloop when it is installed, as uvicorn does."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def client_loop_name() -> str:
    try:
        import uvloop  # noqa: F401 (only asks whether it is installed)
    except ImportError:
        return "asyncio"
    return "uvloop"


# Held awaits and Slack clicks -------------------------------------------------


class HeldAwait:
    """One `GET …/interactions/{id}/await` held open on a connection of its own."""

    def __init__(
        self, port: int, interaction_id: str, key: str, timeout: float
    ) -> None:
        self.interaction_id = interaction_id
        self.connection = Connection(port)
        path = f"{API}/interactions/{interaction_id}/await?timeout={timeout:g}"
        self.raw = request_bytes("GET", path, headers=api_headers(key))
        self.limit = timeout + 15
        self.task: asyncio.Task[None] | None = None
        self.answered_at: float | None = None  # time.perf_counter()
        self.answered_wall: float | None = None  # time.time()
        self.status: str | None = None
        self.error: str | None = None

    async def start(self) -> None:
        """Send the request; the answer is read in the background."""
        await self.connection.send(self.raw)
        self.task = asyncio.create_task(self._receive())

    async def _receive(self) -> None:
        try:
            async with asyncio.timeout(self.limit):
                answer = await self.connection.receive()
            self.answered_at = time.perf_counter()
            self.answered_wall = time.time()
            if answer.status == 200:
                self.status = str(answer.json()["status"])
            else:
                self.error = f"HTTP {answer.status}: {answer.body[:200]!r}"
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.connection.close()

    async def wait(self, seconds: float) -> bool:
        """True once answered (or failed) within `seconds`."""
        assert self.task is not None
        done, _ = await asyncio.wait({self.task}, timeout=seconds)
        return bool(done)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.connection.close()


async def start_holding(
    holders: Sequence[HeldAwait], connecting_at_once: int = 64
) -> None:
    """Open every held await, a bounded number of connects at a time."""
    gate = asyncio.Semaphore(connecting_at_once)

    async def one(holder: HeldAwait) -> None:
        async with gate:
            await holder.start()

    await asyncio.gather(*(one(holder) for holder in holders))


def approve_click(interaction_id: str, message_ts: str) -> bytes:
    """A signed Approve click on the interaction's message, as Slack posts it."""
    from app.slack import ids
    from tests.support.slack_requests import block_actions

    body, headers = block_actions(
        SIGNING_SECRET,
        user_id=APPROVER,
        action_id=ids.APPROVE,
        value=interaction_id,
        channel_id=CHANNEL,
        message_ts=message_ts,
        block_id=ids.DECISION_BLOCK,
    )
    content_type = headers.pop("Content-Type")
    return request_bytes(
        "POST", "/slack/events", body=body, headers=headers, content_type=content_type
    )


def measure_against_bridge(
    args: Any, measure: Callable[[Any, Any, Any], Awaitable[None]], note: str = ""
) -> int:
    """Start the Slack double and a bridge on pinned CPUs, run `measure`, report.

    The shape of every benchmark that drives one bridge process: `measure` gets
    the parsed arguments, the running bridge and the Slack double.
    """
    server_cpus, client_cpus = pin_plan(not args.no_pin)
    pin_self(client_cpus)
    print(setup_line(server_cpus, client_cpus, args.postgres) + note)
    with workdir(args.keep) as work:
        double = SlackDoubleProcess(work / "slack.log", client_cpus)
        try:
            double.start()
            with (
                database(work, args.postgres) as url,
                running_bridge(
                    work, url, double.url, server_cpus, HILOOP_LOG_LEVEL=args.log_level
                ) as bridge,
            ):
                run(measure(args, bridge, double))
        finally:
            double.stop()
            log_report(work / "bridge.log")
    return 0
