"""Fixtures: a running bridge on a real socket, a Slack double, signed requests."""

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import Engine

from app.cli import main as hiloop
from app.core.bridge import Bridge
from app.main import create_app
from app.settings import Settings
from app.store.db import create_schema, make_engine
from app.store.models import Agent
from tests.support.server import ServerThread, wait_until
from tests.support.slack_double import SlackDouble

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

API = "/v1/integrations/warp-oz"


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble(token=BOT_TOKEN)
    double.start()
    yield double
    double.stop()


def bridge_settings(
    database_url: str, slack: SlackDouble, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.url,
        "delivery_poll_seconds": 0.2,
        "delivery_max_backoff_seconds": 0.5,
        "sweep_seconds": 0.5,
        "log_level": "DEBUG",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hiloop.db'}"


@dataclass
class RunningBridge:
    """The bridge served on 127.0.0.1, with what tests need around it."""

    server: ServerThread
    slack: SlackDouble
    settings: Settings
    http: httpx.Client
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def bridge(self) -> Bridge:
        bridge: Bridge = self.server.app.state.bridge
        return bridge

    def add_agent(
        self,
        name: str = "team",
        channel: str = "C0REVIEW1",
        approvers: list[str] | None = None,
    ) -> tuple[Agent, str]:
        new = self.bridge.create_agent(name, channel, approvers or [])
        self.keys[name] = new.api_key
        return new.agent, new.api_key

    def api(
        self, method: str, path: str, key: str | None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["X-API-Key"] = key
        return self.http.request(method, API + path, headers=headers, **kwargs)

    def send_event(self, key: str, event: dict[str, Any]) -> dict[str, Any]:
        response = self.api("POST", "/webhook", key, json=event)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def slack_request(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.http.post("/slack/events", content=body, headers=headers)

    def posted(self, interaction_id: str) -> dict[str, Any]:
        """The interaction once its Slack message is posted, read by its owner."""

        def check() -> dict[str, Any] | None:
            for key in self.keys.values():
                response = self.api("GET", f"/interactions/{interaction_id}", key)
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body if body["slack"]["ts"] else None
            return None

        return wait_until(check, what=f"post of {interaction_id}")


def start_bridge(settings: Settings, slack: SlackDouble) -> RunningBridge:
    server = ServerThread(create_app(settings)).start()
    http = httpx.Client(base_url=server.url, timeout=70)
    return RunningBridge(server=server, slack=slack, settings=settings, http=http)


@pytest.fixture
def running(sqlite_url: str, slack: SlackDouble) -> Iterator[RunningBridge]:
    bridge = start_bridge(bridge_settings(sqlite_url, slack), slack)
    yield bridge
    bridge.http.close()
    bridge.server.stop()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on 127.0.0.1, dropped afterwards."""
    name = f"hiloop_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database the bridge supports, fresh for the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hiloop.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def env(tmp_path: Path, slack: SlackDouble) -> dict[str, str]:
    return {
        "HILOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'hiloop.db'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "HILOOP_DELIVERY_POLL_SECONDS": "0.2",
        "HILOOP_DELIVERY_MAX_BACKOFF_SECONDS": "0.5",
        "HILOOP_SWEEP_SECONDS": "0.5",
        "HILOOP_DELIVERY_LEASE_SECONDS": "3",
        # Bursts here are the point of the tests, not a runaway agent.
        "HILOOP_RATE_LIMIT_PER_SECOND": "0",
    }


@pytest.fixture
def api_key(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    monkeypatch.setenv("HILOOP_DATABASE_URL", env["HILOOP_DATABASE_URL"])
    assert hiloop(["agents", "create", "team", "--channel", "C0REVIEW1", "--json"]) == 0
    key: str = json.loads(capsys.readouterr().out)["api_key"]
    return key
