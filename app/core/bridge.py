"""The interaction state machine: every change to agents and interactions.

Each transition is one conditional update committed together with the Slack
writes it causes (the outbox); only after the commit are waiters and the
delivery worker told, so nothing they see can be rolled back.
"""

import logging
import re
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core import keys, states
from app.core.changes import Change, Changes
from app.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.core.events import EventIn
from app.core.times import rfc3339
from app.store import agents as agent_store
from app.store import db as store_db
from app.store import deliveries as delivery_store
from app.store import interactions as interaction_store
from app.store import messages as message_store
from app.store.models import Agent, ApiKey, Delivery, Interaction, Message
from app.store.types import utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A Slack message as (channel id, ts).
SlackMessage = tuple[str, str]


@dataclass(frozen=True)
class Responder:
    """The person who answered, as Slack knows them."""

    slack_user_id: str
    name: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"slack_user_id": self.slack_user_id, "name": self.name}


@dataclass(frozen=True)
class NewAgent:
    agent: Agent
    api_key: str


class Bridge:
    """The one owner of state changes; the API and Slack layers call it."""

    def __init__(
        self,
        engine: Engine,
        changes: Changes | None = None,
        *,
        clock: Clock = utcnow,
        default_timeout_seconds: int = 3600,
        reminder_share: float = 0.8,
    ) -> None:
        self.engine = engine
        self.changes = changes or Changes()
        self.clock = clock
        self.default_timeout_seconds = default_timeout_seconds
        self.reminder_share = reminder_share

    def session(self) -> AbstractContextManager[Session]:
        return store_db.session(self.engine)

    # Agents and keys

    def create_agent(
        self, name: str, channel: str, approvers: Sequence[str] = ()
    ) -> NewAgent:
        with self.session() as db:
            existing = agent_store.get_by_name(db, name)
            if existing is not None:
                revoked = (
                    " (revoked; names are not reused)" if existing.revoked_at else ""
                )
                raise InvalidInput(
                    f"an agent named {name!r} exists already{revoked}",
                    [{"field": "name", "message": "is taken"}],
                )
            agent = agent_store.add(
                db, Agent(name=name, channel=channel, approvers=list(approvers))
            )
            api_key = self._issue_key(db, agent)
        log.info("agent created: %s (%s) on channel %s", agent.name, agent.id, channel)
        return NewAgent(agent, api_key)

    def list_agents(self) -> Sequence[Agent]:
        with self.session() as db:
            return agent_store.list_all(db)

    def rotate_key(self, name: str) -> NewAgent:
        with self.session() as db:
            agent = self._live_agent(db, name)
            agent_store.revoke_keys(db, agent.id, self.clock())
            api_key = self._issue_key(db, agent)
        log.info("key rotated for agent %s (%s)", agent.name, agent.id)
        return NewAgent(agent, api_key)

    def revoke_agent(self, name: str) -> Agent:
        with self.session() as db:
            agent = self._live_agent(db, name)
            now = self.clock()
            agent_store.revoke_keys(db, agent.id, now)
            agent.revoked_at = now
            db.add(agent)
        log.info("agent revoked: %s (%s)", agent.name, agent.id)
        return agent

    def authenticate(self, api_key: str) -> Agent | None:
        if not keys.looks_like_key(api_key):
            return None
        with self.session() as db:
            return agent_store.by_key_hash(db, keys.hash_key(api_key))

    def _issue_key(self, db: Session, agent: Agent) -> str:
        api_key = keys.new_key()
        agent_store.add_key(
            db,
            ApiKey(
                agent_id=agent.id,
                key_hash=keys.hash_key(api_key),
                hint=keys.hint(api_key),
                created_at=self.clock(),
            ),
        )
        return api_key

    def _live_agent(self, db: Session, name: str) -> Agent:
        agent = agent_store.get_by_name(db, name)
        if agent is None or agent.revoked_at is not None:
            raise NotFound("agent", name)
        return agent

    # Interactions from the agent's side

    def accept_events(
        self, agent: Agent, events: Sequence[EventIn]
    ) -> list[Interaction]:
        """Store the events as interactions, all or none, and queue their posts."""
        now = self.clock()
        with self.session() as db:
            created = [self._add_interaction(db, agent, event, now) for event in events]
        for interaction in created:
            log.info(
                "interaction %s accepted: %s for agent %s, session %s",
                interaction.id,
                interaction.interaction_type,
                agent.id,
                interaction.session_id,
            )
            self.changes.interaction_changed(_change(interaction))
        self.changes.outbox_changed()
        return created

    def _add_interaction(
        self, db: Session, agent: Agent, event: EventIn, now: datetime
    ) -> Interaction:
        interaction = interaction_store.add(
            db,
            new_interaction(
                event,
                agent,
                now,
                default_timeout_seconds=self.default_timeout_seconds,
                reminder_share=self.reminder_share,
            ),
        )
        delivery_store.add(db, interaction.id, "post")
        return interaction

    def get(self, agent: Agent, interaction_id: str) -> Interaction:
        with self.session() as db:
            return self._owned(db, agent, interaction_id)

    def session_interactions(
        self, agent: Agent, session_id: str
    ) -> Sequence[Interaction]:
        if "\x00" in session_id:
            return []  # never accepted, so no interaction carries it
        with self.session() as db:
            return interaction_store.list_by_session(db, agent.id, session_id)

    def cancel(self, agent: Agent, interaction_id: str) -> Interaction:
        with self.session() as db:
            current = self._owned(db, agent, interaction_id)
            if not self._close(db, current, states.CANCELLED, states.OPEN):
                raise self._already_final(db, interaction_id)
            interaction = self._reload(db, interaction_id)
        log.info("interaction %s cancelled by agent %s", interaction_id, agent.id)
        self._announce(interaction)
        return interaction

    def _owned(self, db: Session, agent: Agent, interaction_id: str) -> Interaction:
        if not _may_exist(interaction_id):
            raise NotFound("interaction", interaction_id)
        interaction = interaction_store.get_for_agent(db, interaction_id, agent.id)
        if interaction is None:
            raise NotFound("interaction", interaction_id)
        return interaction

    # Interactions from the person's side

    def check_can_decide(
        self,
        interaction_id: str,
        user_id: str,
        member_of: Collection[str] = (),
        *,
        posted_as: SlackMessage | None = None,
    ) -> Interaction:
        """Raise unless this person may answer the interaction now."""
        with self.session() as db:
            interaction = self._existing(db, interaction_id, posted_as)
            self._check_approver(db, interaction, user_id, member_of)
            if states.is_final(interaction.status):
                raise self._already_final(db, interaction_id)
            return interaction

    def decide(
        self,
        interaction_id: str,
        decision: str,
        responder: Responder,
        *,
        comment: str | None = None,
        values: dict[str, Any] | None = None,
        member_of: Collection[str] = (),
        posted_as: SlackMessage | None = None,
    ) -> Interaction:
        """Record a person's decision, once; a second decision is a Conflict.

        `posted_as` is the Slack message a click came from: a click can only
        answer the interaction that message shows.
        """
        with self.session() as db:
            interaction = self._existing(db, interaction_id, posted_as)
            self._check_approver(db, interaction, responder.slack_user_id, member_of)
            status = self._status_for(interaction, decision)
            now = self.clock()
            response = _response(
                decision, responder, now, comment=comment or None, values=values
            )
            won = interaction_store.transition(
                db,
                interaction_id,
                {states.PENDING},
                status=status,
                response=response,
                updated_at=now,
            )
            if not won:
                raise self._already_final(db, interaction_id)
            delivery_store.add(db, interaction_id, "update")
            delivery_store.add(db, interaction_id, "thread", note="decided")
            interaction = self._reload(db, interaction_id)
        log.info(
            "interaction %s %s by %s", interaction_id, status, responder.slack_user_id
        )
        self._announce(interaction)
        return interaction

    def tell(
        self, interaction_id: str, user_id: str, notice: str, **extra: Any
    ) -> None:
        """Queue a short answer that only this person sees."""
        with self.session() as db:
            interaction = self._existing(db, interaction_id)
            delivery_store.add(
                db,
                interaction.id,
                "ephemeral",
                user=user_id,
                notice=notice,
                **extra,
            )
        self.changes.outbox_changed()

    def _status_for(self, interaction: Interaction, decision: str) -> str:
        if interaction.options:
            if decision not in {o["value"] for o in interaction.options}:
                raise InvalidInput(
                    f"{decision!r} is not an option of interaction {interaction.id}",
                    [{"field": "decision", "message": "is not one of the options"}],
                )
            return states.DECIDED
        allowed = states.DECISIONS.get(interaction.interaction_type, frozenset())
        if decision not in allowed:
            raise InvalidInput(
                f"{decision!r} does not answer a {interaction.interaction_type}",
                [{"field": "decision", "message": "is not a decision of this type"}],
            )
        return decision

    def _check_approver(
        self,
        db: Session,
        interaction: Interaction,
        user_id: str,
        member_of: Collection[str],
    ) -> None:
        if not self._may_decide(db, interaction, user_id, member_of):
            raise NotAllowed(interaction.id, user_id)

    def _may_decide(
        self,
        db: Session,
        interaction: Interaction,
        user_id: str,
        member_of: Collection[str],
    ) -> bool:
        """Anyone in the channel when the agent names no approvers."""
        agent = agent_store.get(db, interaction.agent_id)
        approvers = set(agent.approvers if agent else [])
        return not approvers or user_id in approvers or bool(approvers & set(member_of))

    def interaction_for_thread(
        self, channel: str, thread_ts: str
    ) -> Interaction | None:
        """The interaction whose Slack message starts this thread, if any."""
        with self.session() as db:
            return interaction_store.by_slack_message(db, channel, thread_ts)

    def approver_groups(self, interaction_id: str) -> list[str]:
        """The user-group ids among the approvers of this interaction's agent."""
        with self.session() as db:
            interaction = self._existing(db, interaction_id)
            agent = agent_store.get(db, interaction.agent_id)
            return [a for a in (agent.approvers if agent else []) if a.startswith("S")]

    # Deadlines

    def expire(self, interaction_id: str) -> bool:
        """Expire the interaction if it is still open; True when this call did."""
        with self.session() as db:
            current = self._existing(db, interaction_id)
            if not self._close(
                db, current, states.EXPIRED, {states.PENDING}, due_by=self.clock()
            ):
                return False
            interaction = self._reload(db, interaction_id)
        log.info("interaction %s expired", interaction_id)
        self._announce(interaction)
        return True

    def remind(self, interaction_id: str) -> bool:
        """Post the interaction's one reminder if it is still pending."""
        with self.session() as db:
            if not interaction_store.mark_reminded(db, interaction_id, self.clock()):
                return False
            interaction = self._existing(db, interaction_id)
            mention: list[str] = []
            if interaction.priority == "urgent":
                agent = agent_store.get(db, interaction.agent_id)
                mention = list(agent.approvers) if agent else []
            delivery_store.add(
                db, interaction_id, "thread", note="reminder", mention=mention
            )
        log.info("reminder queued for interaction %s", interaction_id)
        self.changes.outbox_changed()
        return True

    def expire_overdue(self) -> list[str]:
        """Expire every pending interaction whose deadline has passed."""
        with self.session() as db:
            overdue = interaction_store.overdue(db, self.clock())
        return [
            interaction_id for interaction_id in overdue if self.expire(interaction_id)
        ]

    def remind_due(self) -> list[str]:
        with self.session() as db:
            due = interaction_store.reminders_due(db, self.clock())
        return [interaction_id for interaction_id in due if self.remind(interaction_id)]

    def open_deadlines(self) -> Sequence[Interaction]:
        with self.session() as db:
            return interaction_store.with_open_deadlines(db)

    def _close(
        self,
        db: Session,
        interaction: Interaction,
        status: str,
        from_statuses: Collection[str],
        *,
        due_by: datetime | None = None,
    ) -> bool:
        """End the interaction without an answer (expired or cancelled).

        With `due_by`, only if its deadline has come by then: a job that fires
        for a deadline since moved (a chat asked again) changes nothing.
        """
        won = interaction_store.transition(
            db,
            interaction.id,
            from_statuses,
            deadline_by=due_by,
            status=status,
            updated_at=self.clock(),
        )
        if won:
            delivery_store.add(db, interaction.id, "update")
            delivery_store.add(db, interaction.id, "thread", note=status)
        return won

    # Messages

    def add_agent_message(
        self, agent: Agent, interaction_id: str, content: str
    ) -> Message:
        with self.session() as db:
            interaction = self._owned(db, agent, interaction_id)
            if interaction.status in (states.CANCELLED, states.EXPIRED):
                raise Conflict(
                    interaction_id,
                    interaction.status,
                    f"interaction {interaction_id} is {interaction.status}",
                )
            now = self.clock()
            message = message_store.add(
                db,
                Message(
                    interaction_id=interaction_id,
                    sender="agent",
                    content=content,
                    created_at=now,
                ),
            )
            if interaction.status == states.RESPONDED:
                # A new turn of the chat waits as long as the first one did.
                interaction_store.transition(
                    db,
                    interaction_id,
                    {states.RESPONDED},
                    status=states.PENDING,
                    updated_at=now,
                    **self._new_turn(interaction, now),
                )
            delivery_store.add(db, interaction_id, "thread", message_id=message.id)
            interaction = self._reload(db, interaction_id)
        self._announce(interaction)
        return message

    def _new_turn(self, interaction: Interaction, now: datetime) -> dict[str, Any]:
        """The deadline and reminder of a chat the agent asks again."""
        if interaction.deadline_at is None:
            return {}
        wait = interaction.deadline_at - interaction.created_at
        remind_at = None
        if interaction.remind_at is not None:
            remind_at = now + (interaction.remind_at - interaction.created_at)
        return {
            "deadline_at": now + wait,
            "remind_at": remind_at,
            "reminded_at": None,
        }

    def messages(
        self, agent: Agent, interaction_id: str, after: str | None = None
    ) -> Sequence[Message]:
        with self.session() as db:
            self._owned(db, agent, interaction_id)
            after_seq = None
            if after is not None:
                anchor = message_store.get(db, after) if _may_exist(after) else None
                if anchor is None or anchor.interaction_id != interaction_id:
                    raise NotFound("message", after)
                after_seq = anchor.seq
            return message_store.list_for(db, interaction_id, after_seq)

    def add_human_message(
        self,
        interaction_id: str,
        content: str,
        author: Responder,
        *,
        slack_ts: str,
        event_key: str,
        member_of: Collection[str] = (),
    ) -> Message | None:
        """Store a person's thread reply once.

        A reply from someone who may decide answers a chat (`responded`); any
        other reply is kept as a message and changes nothing. Returns None when
        Slack redelivered a reply already stored.
        """
        now = self.clock()
        try:
            with self.session() as db:
                interaction = self._existing(db, interaction_id)
                if message_store.by_slack_event_key(db, event_key) is not None:
                    return None
                message = message_store.add(
                    db,
                    Message(
                        interaction_id=interaction_id,
                        sender="human",
                        content=content,
                        author_user_id=author.slack_user_id,
                        author_name=author.name,
                        slack_ts=slack_ts,
                        slack_event_key=event_key,
                        created_at=now,
                    ),
                )
                if interaction.interaction_type == "chat" and self._may_decide(
                    db, interaction, author.slack_user_id, member_of
                ):
                    response = _response(states.RESPONDED, author, now, message=content)
                    interaction_store.transition(
                        db,
                        interaction_id,
                        {states.PENDING, states.RESPONDED},
                        status=states.RESPONDED,
                        response=response,
                        updated_at=now,
                    )
                interaction = self._reload(db, interaction_id)
        except IntegrityError:
            # The same reply raced in twice; the unique key kept one.
            return None
        self.changes.interaction_changed(_change(interaction))
        return message

    # Slack deliveries

    def due_deliveries(self, limit: int = 50) -> Sequence[Delivery]:
        with self.session() as db:
            return delivery_store.due(db, self.clock(), limit)

    def next_delivery_at(self) -> datetime | None:
        with self.session() as db:
            return delivery_store.next_attempt_at(db)

    def claim_delivery(self, delivery_id: int, lease_seconds: float = 30) -> bool:
        now = self.clock()
        with self.session() as db:
            return delivery_store.claim(
                db, delivery_id, now, now + timedelta(seconds=lease_seconds)
            )

    def interaction_for_delivery(self, interaction_id: str) -> Interaction:
        with self.session() as db:
            return self._existing(db, interaction_id)

    def message_for_delivery(self, message_id: str) -> Message | None:
        with self.session() as db:
            return message_store.get(db, message_id)

    def delivery_done(self, delivery: Delivery, **result: Any) -> None:
        """Record a write Slack accepted, and what it told us about the message."""
        assert delivery.id is not None
        now = self.clock()
        with self.session() as db:
            delivery_store.finish(
                db, delivery.id, "done", attempts=delivery.attempts + 1, last_error=None
            )
            if delivery.kind == "post":
                interaction_store.set_fields(
                    db,
                    delivery.interaction_id,
                    slack_channel=result["channel"],
                    slack_ts=result["ts"],
                    slack_permalink=result.get("permalink"),
                    slack_delivery="posted",
                    slack_error=None,
                )
                if self._is_broadcast(db, delivery.interaction_id):
                    # An announcement is answered by Slack having it.
                    interaction_store.transition(
                        db,
                        delivery.interaction_id,
                        {states.PENDING},
                        status=states.DELIVERED,
                        updated_at=now,
                    )
            elif delivery.kind == "thread" and delivery.payload.get("message_id"):
                message = message_store.get(db, delivery.payload["message_id"])
                if message is not None:
                    message.slack_ts = result.get("ts")
                    db.add(message)
        if delivery.kind == "post":
            self.changes.interaction_changed(Change(delivery.interaction_id))

    def delivery_retry(
        self, delivery: Delivery, error: str, at: datetime, *, maybe_sent: bool
    ) -> None:
        """Try the write again at `at`; `maybe_sent` when Slack may have it."""
        assert delivery.id is not None
        with self.session() as db:
            delivery_store.finish(
                db,
                delivery.id,
                "queued",
                attempts=delivery.attempts + 1,
                last_error=error,
                next_attempt_at=at,
                maybe_sent=maybe_sent,
            )

    def hurry_retries(self) -> int:
        """Retry every backed-off Slack write now rather than at its backoff."""
        with self.session() as db:
            return delivery_store.hurry_retries(db, self.clock())

    def delivery_failed(self, delivery: Delivery, error: str) -> None:
        """Give up on a write that retrying cannot fix, and say so."""
        assert delivery.id is not None
        with self.session() as db:
            delivery_store.finish(
                db,
                delivery.id,
                "failed",
                attempts=delivery.attempts + 1,
                last_error=error,
            )
            if delivery.kind == "post":
                interaction_store.set_fields(
                    db,
                    delivery.interaction_id,
                    slack_delivery="failed",
                    slack_error=error,
                )
        if delivery.kind == "post":
            self.changes.interaction_changed(Change(delivery.interaction_id))

    def _is_broadcast(self, db: Session, interaction_id: str) -> bool:
        interaction = interaction_store.get(db, interaction_id)
        return interaction is not None and interaction.interaction_type == "broadcast"

    # Shared steps

    def _existing(
        self, db: Session, interaction_id: str, posted_as: SlackMessage | None = None
    ) -> Interaction:
        if not _may_exist(interaction_id):
            raise NotFound("interaction", interaction_id)
        interaction = interaction_store.get(db, interaction_id)
        if interaction is None:
            raise NotFound("interaction", interaction_id)
        if posted_as is not None and posted_as != (
            interaction.slack_channel,
            interaction.slack_ts,
        ):
            raise NotFound("interaction", interaction_id)
        return interaction

    def _reload(self, db: Session, interaction_id: str) -> Interaction:
        """The interaction as the database has it now, after a bulk update."""
        interaction = self._existing(db, interaction_id)
        db.refresh(interaction)
        return interaction

    def _already_final(self, db: Session, interaction_id: str) -> Conflict:
        current = self._reload(db, interaction_id)
        return Conflict(
            interaction_id,
            current.status,
            f"interaction {interaction_id} is already {current.status}",
        )

    def _announce(self, interaction: Interaction) -> None:
        self.changes.interaction_changed(_change(interaction))
        self.changes.outbox_changed()


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _may_exist(ident: str) -> bool:
    """Whether `ident` has the shape of the ids the bridge gives out."""
    return _ID.fullmatch(ident) is not None


def new_interaction(
    event: EventIn,
    agent: Agent,
    now: datetime,
    *,
    default_timeout_seconds: int = 3600,
    reminder_share: float = 0.8,
) -> Interaction:
    """The row an accepted event becomes, with its deadline and reminder."""
    deadline = remind_at = None
    if event.interaction_type != "broadcast":
        seconds = event.timeout_seconds or default_timeout_seconds
        deadline = now + timedelta(seconds=seconds)
        if event.priority != "low":
            remind_at = now + timedelta(seconds=seconds * reminder_share)
    return Interaction(
        agent_id=agent.id,
        session_id=event.session_id,
        event=event.event,
        interaction_type=event.interaction_type,
        title=event.title,
        description=event.description,
        context=event.context.model_dump(exclude_none=True) if event.context else {},
        priority=event.priority,
        form=event.form.model_dump(exclude_none=True) if event.form else None,
        options=[o.model_dump(exclude_none=True) for o in event.options]
        if event.options
        else None,
        created_at=now,
        updated_at=now,
        deadline_at=deadline,
        remind_at=remind_at,
        slack_channel=agent.channel,
    )


def _response(
    decision: str,
    responder: Responder,
    now: datetime,
    *,
    comment: str | None = None,
    values: dict[str, Any] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """An interaction's `response`, as the contract spells it."""
    return {
        "decision": decision,
        "comment": comment,
        "values": values,
        "message": message,
        "responder": responder.as_dict(),
        "responded_at": rfc3339(now),
    }


def _change(interaction: Interaction) -> Change:
    return Change(
        interaction.id,
        interaction.status,
        interaction.deadline_at,
        interaction.remind_at,
    )
