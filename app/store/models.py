"""The tables: agents, their API keys, interactions, messages and Slack deliveries."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.store.types import UTCDateTime, utcnow


def new_id() -> str:
    return str(uuid.uuid4())


class Agent(SQLModel, table=True):
    """One Oz workspace (or team) and the Slack channel it talks to."""

    __tablename__ = "agents"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=100)
    channel: str = Field(max_length=40)
    approvers: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class ApiKey(SQLModel, table=True):
    """An agent's API key, kept only as its SHA-256 hash."""

    __tablename__ = "api_keys"

    id: str = Field(default_factory=new_id, primary_key=True)
    agent_id: str = Field(foreign_key="agents.id", index=True)
    key_hash: str = Field(unique=True, index=True, max_length=64)
    hint: str = Field(max_length=20)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class Interaction(SQLModel, table=True):
    """One question to a person, from the Oz event to its final answer."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_agent_session", "agent_id", "session_id", "seq"),
        Index("ix_interactions_status_deadline", "status", "deadline_at"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=new_id, unique=True, index=True)
    event_id: str = Field(default_factory=new_id, unique=True)
    agent_id: str = Field(foreign_key="agents.id")
    session_id: str = Field(max_length=200)
    event: str = Field(max_length=40)
    interaction_type: str = Field(max_length=20)
    title: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    priority: str = Field(default="normal", max_length=10)
    form: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    options: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    status: str = Field(default="pending", max_length=20)
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # The last change of status or response (Slack bookkeeping does not count).
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    deadline_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # When the thread gets its one reminder (none for low priority), and when
    # it got it.
    remind_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    reminded_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    slack_channel: str | None = Field(default=None, max_length=40)
    slack_ts: str | None = Field(default=None, max_length=40, index=True)
    slack_permalink: str | None = Field(default=None, sa_column=Column(Text))
    slack_delivery: str = Field(default="queued", max_length=10)
    slack_error: str | None = Field(default=None, sa_column=Column(Text))


class Message(SQLModel, table=True):
    """A line of an interaction's conversation, from the agent or a person."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("slack_event_key", name="uq_messages_slack_event_key"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=new_id, unique=True, index=True)
    interaction_id: str = Field(foreign_key="interactions.id", index=True)
    sender: str = Field(max_length=10)
    content: str = Field(sa_column=Column(Text, nullable=False))
    author_user_id: str | None = Field(default=None, max_length=40)
    author_name: str | None = Field(default=None, max_length=200)
    slack_ts: str | None = Field(default=None, max_length=40)
    # Slack's identity of the human post, so a redelivered event is stored once.
    slack_event_key: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Delivery(SQLModel, table=True):
    """A Slack write waiting to go out (the outbox).

    Rows are committed in the same transaction as the change that caused them
    and sent after the commit, so an accepted change always reaches Slack.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    interaction_id: str = Field(foreign_key="interactions.id", index=True)
    kind: str = Field(max_length=20)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="queued", max_length=10)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # An attempt may have reached Slack without its answer reaching us (a
    # crash, a timeout, a 5xx): the next attempt first looks for the message.
    maybe_sent: bool = False
    # When the latest attempt began: where to look for its message.
    attempted_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
