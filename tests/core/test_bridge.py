"""The state machine: one winner per interaction, and final states stay final."""

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine

from app.core import states
from app.core.bridge import Bridge, Responder
from app.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.core.events import EventIn
from app.store import db as store_db
from app.store import deliveries
from app.store.models import Agent, Interaction
from app.store.types import utcnow
from tests.seed import REVIEW_EVENT, approval
from tests.support.concurrency import all_at_once


class Clock:
    """A clock the test sets."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _setup(engine: Engine, approvers: list[str] | None = None) -> tuple[Bridge, Agent]:
    bridge = Bridge(engine)
    agent = bridge.create_agent("team", "C0REVIEW1", approvers or []).agent
    return bridge, agent


def _accept(bridge: Bridge, agent: Agent, event: dict[str, Any]) -> Interaction:
    (interaction,) = bridge.accept_events(agent, [EventIn.model_validate(event)])
    return interaction


def test_twenty_simultaneous_approvals_record_one_decision(engine: Engine) -> None:
    bridge, agent = _setup(engine)
    interaction = _accept(bridge, agent, REVIEW_EVENT)
    users = [f"U0CLICK{n:03d}" for n in range(20)]

    results = all_at_once(
        [
            lambda u=user: bridge.decide(interaction.id, "approved", Responder(u))
            for user in users
        ]
    )

    winners = [r for r in results if isinstance(r, Interaction)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 19
    assert all(loser.status == "approved" for loser in losers)
    final = bridge.get(agent, interaction.id)
    assert final.response is not None
    assert (
        final.response["responder"]["slack_user_id"]
        == (winners[0].response or {})["responder"]["slack_user_id"]
    )
    with store_db.session(engine) as db:
        counts = deliveries.count_by_status(db, interaction.id)
    # One post, one update and one thread note: the losers queued nothing.
    assert counts == {"queued": 3}


def test_cancel_racing_a_click_ends_in_one_final_state(engine: Engine) -> None:
    bridge, agent = _setup(engine)
    later = Clock(utcnow())
    for _ in range(5):
        bridge.clock = utcnow
        interaction = _accept(bridge, agent, approval(timeout_seconds=1))
        # The deadline has come as the click and the cancel land.
        later.now = utcnow() + timedelta(seconds=1)
        bridge.clock = later

        results = all_at_once(
            [
                partial(bridge.cancel, agent, interaction.id),
                partial(bridge.decide, interaction.id, "approved", Responder("U0A")),
                partial(bridge.expire, interaction.id),
            ]
        )

        final = bridge.get(agent, interaction.id).status
        assert final in ("cancelled", "approved", "expired")
        succeeded = [r for r in results if r is True or isinstance(r, Interaction)]
        assert len(succeeded) == 1
        assert succeeded[0] is True or getattr(succeeded[0], "status", None) == final


def test_final_state_never_changes(engine: Engine) -> None:
    bridge, agent = _setup(engine)
    interaction = _accept(bridge, agent, approval())
    bridge.decide(interaction.id, "rejected", Responder("U0A"), comment="frozen")

    with pytest.raises(Conflict):
        bridge.decide(interaction.id, "approved", Responder("U0B"))
    with pytest.raises(Conflict):
        bridge.cancel(agent, interaction.id)
    assert bridge.expire(interaction.id) is False

    final = bridge.get(agent, interaction.id)
    assert final.status == "rejected"
    assert final.response is not None and final.response["comment"] == "frozen"


def test_non_approver_cannot_decide(engine: Engine) -> None:
    bridge, agent = _setup(engine, approvers=["U0BOSS0001", "S0GROUP001"])
    interaction = _accept(bridge, agent, approval())

    with pytest.raises(NotAllowed):
        bridge.decide(interaction.id, "approved", Responder("U0OTHER001"))
    decided = bridge.decide(
        interaction.id, "approved", Responder("U0MEMBER01"), member_of=["S0GROUP001"]
    )

    assert decided.status == states.APPROVED


def test_decision_must_fit_the_interaction_type(engine: Engine) -> None:
    bridge, agent = _setup(engine)
    review = _accept(bridge, agent, REVIEW_EVENT)

    with pytest.raises(InvalidInput):
        bridge.decide(review.id, "rejected", Responder("U0A"))
    assert bridge.get(agent, review.id).status == states.PENDING


def test_other_agents_interaction_is_not_found(engine: Engine) -> None:
    bridge, agent = _setup(engine)
    other = bridge.create_agent("other", "C0OTHER01").agent
    interaction = _accept(bridge, agent, approval())

    with pytest.raises(NotFound):
        bridge.get(other, interaction.id)
    with pytest.raises(NotFound):
        bridge.cancel(other, interaction.id)


def test_revoked_and_rotated_keys_stop_authenticating(engine: Engine) -> None:
    bridge = Bridge(engine)
    first = bridge.create_agent("team", "C0REVIEW1")
    rotated = bridge.rotate_key("team")

    assert bridge.authenticate(first.api_key) is None
    assert bridge.authenticate(rotated.api_key) is not None
    bridge.revoke_agent("team")
    assert bridge.authenticate(rotated.api_key) is None


def test_expiry_before_the_deadline_changes_nothing(engine: Engine) -> None:
    bridge, agent = _setup(engine)
    interaction = _accept(bridge, agent, approval(timeout_seconds=600))

    assert bridge.expire(interaction.id) is False
    assert bridge.get(agent, interaction.id).status == states.PENDING
