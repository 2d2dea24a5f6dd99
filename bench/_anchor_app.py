"""The anchor: a bare FastAPI app with one pydantic-parsed POST answering 201.

Usage: python bench/_anchor_app.py PORT [--sync]

Served by uvicorn on 127.0.0.1 with the same choices `hiloop serve` makes
(auto loop and HTTP parser, so uvloop + httptools when installed; no access
log), at the bridge's webhook path, so one load generator drives both alike.
`--sync` makes the endpoint a plain `def`, run in the thread pool as the
bridge's webhook is.
"""

import sys
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

WEBHOOK = "/v1/integrations/warp-oz/webhook"


class EventIn(BaseModel):
    event: str
    session_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(None, max_length=10_000)
    context: dict[str, Any] | None = None
    priority: str = "normal"
    timeout_seconds: int = Field(3600, ge=1, le=604_800)


def accepted(event: EventIn) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "interaction_id": str(uuid.uuid4()),
        "session_id": event.session_id,
        "status": "pending",
        "type": event.event,
    }


def build(sync: bool) -> FastAPI:
    app = FastAPI()

    if sync:

        @app.post(WEBHOOK, status_code=201)
        def webhook_sync(event: EventIn) -> dict[str, Any]:
            return accepted(event)

    else:

        @app.post(WEBHOOK, status_code=201)
        async def webhook(event: EventIn) -> dict[str, Any]:
            return accepted(event)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    port = int(sys.argv[1])
    app = build(sync="--sync" in sys.argv[2:])
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
