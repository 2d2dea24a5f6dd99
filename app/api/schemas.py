"""Request bodies and the JSON the API answers with."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.core.events import MAX_BATCH, EventIn, check_storable
from app.core.times import rfc3339
from app.store.models import Interaction, Message

MAX_MESSAGE = 10_000


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE)]
    sender: Literal["agent"] = "agent"

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        check_storable(data)
        return data


def accepted(interaction: Interaction) -> dict[str, Any]:
    """The webhook's 201 body: exactly the integration page's seven fields."""
    return {
        "event_id": interaction.event_id,
        "interaction_id": interaction.id,
        "session_id": interaction.session_id,
        "status": interaction.status,
        "type": interaction.event,
        "created_at": rfc3339(interaction.created_at),
        "deadline_at": rfc3339(interaction.deadline_at),
    }


def interaction_out(interaction: Interaction) -> dict[str, Any]:
    return {
        "id": interaction.id,
        "event_id": interaction.event_id,
        "session_id": interaction.session_id,
        "type": interaction.event,
        "interaction_type": interaction.interaction_type,
        "title": interaction.title,
        "description": interaction.description,
        "context": interaction.context or {},
        "priority": interaction.priority,
        "status": interaction.status,
        "response": interaction.response,
        "created_at": rfc3339(interaction.created_at),
        "deadline_at": rfc3339(interaction.deadline_at),
        "updated_at": rfc3339(interaction.updated_at),
        "slack": {
            "channel": interaction.slack_channel,
            "ts": interaction.slack_ts,
            "permalink": interaction.slack_permalink,
            "delivery": interaction.slack_delivery,
            "error": interaction.slack_error,
        },
    }


def message_out(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message.id,
        "interaction_id": message.interaction_id,
        "sender": message.sender,
        "content": message.content,
        "created_at": rfc3339(message.created_at),
        "slack_ts": message.slack_ts,
    }
    if message.sender == "human":
        body["author"] = {
            "slack_user_id": message.author_user_id,
            "name": message.author_name,
        }
    return body
