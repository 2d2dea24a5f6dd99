"""Builds the FastAPI app and wires the store, the core and Slack together.

`uvicorn app.main:app` serves an app configured from the environment;
`create_app(settings)` builds one from explicit settings (tests, embedding).
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app import __version__, logs
from app.api import errors, routes
from app.api.limits import BodyLimit, RateLimit
from app.core.bridge import Bridge
from app.core.changes import Changes
from app.replicas import PostgresRelay
from app.scheduler import Deadlines
from app.settings import Settings
from app.slack.bolt import build_bolt
from app.slack.delivery import DeliveryWorker
from app.slack.socket_mode import SocketMode, http_refusal
from app.store.db import create_schema, make_engine

log = logging.getLogger(__name__)

SLACK_REFUSALS = {
    401: "the request is not signed by Slack, or its signature is stale",
    404: "nothing here handles this Slack request",
    500: "the Slack request could not be handled; the bridge logged why",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    bridge = Bridge(
        engine,
        Changes(),
        default_timeout_seconds=settings.default_timeout_seconds,
        reminder_share=settings.reminder_share,
    )
    deadlines = Deadlines(bridge, sweep_seconds=settings.sweep_seconds)
    relay = (
        PostgresRelay(engine, bridge.changes)
        if engine.dialect.name == "postgresql"
        else None
    )
    client = _slack_client(settings)
    worker = (
        DeliveryWorker(
            bridge,
            client,
            poll_seconds=settings.delivery_poll_seconds,
            max_backoff_seconds=settings.delivery_max_backoff_seconds,
            lease_seconds=settings.delivery_lease_seconds,
        )
        if client is not None
        else None
    )
    secret = settings.slack_signing_secret or ""
    bolt = build_bolt(bridge, client, secret) if client is not None else None
    socket_mode = SocketMode(settings, bolt)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.configure(settings.log_level)
        await asyncio.to_thread(create_schema, engine)
        bridge.changes.bind(asyncio.get_running_loop())
        if relay is not None:
            await relay.start()
        await deadlines.start()
        if worker is None:
            log.warning("SLACK_BOT_TOKEN is not set: Slack deliveries stay queued")
        else:
            # One connection pool for every Slack call, instead of one per call.
            assert client is not None
            client.session = aiohttp.ClientSession()
            worker.start()
        log.info(
            "Hiloop Bridge %s ready on %s",
            __version__,
            engine.url.render_as_string(hide_password=True),
        )
        await socket_mode.start()
        try:
            yield
        finally:
            begin_shutdown(app)
            await socket_mode.stop()
            deadlines.stop()
            if relay is not None:
                await relay.stop()
            if worker is not None:
                await worker.stop()
            if client is not None and client.session is not None:
                await client.session.close()
            bridge.changes.unbind()
            engine.dispose()

    app = FastAPI(title="Hiloop Bridge", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.bridge = bridge
    app.state.deadlines = deadlines
    app.state.stopping = asyncio.Event()
    app.state.rate_limit = RateLimit(
        settings.rate_limit_per_second, settings.rate_limit_burst
    )
    errors.install(app)
    app.include_router(routes.router)
    _mount_slack(app, settings, bolt)
    app.add_middleware(BodyLimit)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def begin_shutdown(app: FastAPI) -> None:
    """Answer every held await with the interaction's current state.

    Call it on the app's event loop when the service is asked to stop.
    """
    app.state.stopping.set()
    app.state.bridge.changes.wake_all()


def _slack_client(settings: Settings) -> AsyncWebClient | None:
    if not settings.slack_bot_token:
        return None
    # Two calls of one delivery must fit in its lease.
    timeout = min(10, int(settings.delivery_lease_seconds / 3) or 1)
    return AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=timeout
    )


def _mount_slack(app: FastAPI, settings: Settings, bolt: AsyncApp | None) -> None:
    """Serve Slack's requests at /slack/events, verified by Bolt."""
    refusal = http_refusal(settings)
    if refusal is not None or bolt is None:
        status, message = refusal or (503, "Slack is not configured")

        @app.post("/slack/events", include_in_schema=False)
        async def slack_unconfigured() -> Response:
            return errors.error_response(status, message)

        return

    handler = AsyncSlackRequestHandler(bolt)

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        try:
            response: Response = await handler.handle(request)
        except ValueError:
            # A body Bolt cannot read at all (not JSON, not a form).
            return errors.error_response(400, "not a request Slack would send")
        if response.status_code >= 400:
            # Bolt's own refusals (bad signature, nothing to handle) in our shape.
            return errors.error_response(
                response.status_code,
                SLACK_REFUSALS.get(response.status_code, "Slack request failed"),
            )
        return response


def __getattr__(name: str) -> Any:
    # `uvicorn app.main:app` builds the app on first access, from the environment.
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)
