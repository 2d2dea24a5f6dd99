"""A form event becomes a Slack modal whose typed answers reach the agent, once."""

import json
from typing import Any

import httpx

from app.slack import forms, ids
from tests.conftest import SIGNING_SECRET, RunningBridge
from tests.slack.test_decisions import HeldAwait
from tests.support import slack_requests as sr

APPROVER = "U0APPROVE1"
SECOND_APPROVER = "U0SECOND01"
STRANGER = "U0STRANGE1"

FORM_EVENT: dict[str, Any] = {
    "event": "session.form_input",
    "session_id": "oz_sess_form1",
    "title": "Release details for <!channel>",
    "description": "Fill in what the release needs.",
    "form": {
        "fields": [
            {"name": "summary", "label": "Summary", "type": "text", "required": True},
            {"name": "notes", "label": "Notes", "type": "textarea"},
            {"name": "replicas", "label": "Replicas", "type": "number", "default": 2},
            {"name": "budget", "label": "Budget (k$)", "type": "number"},
            {
                "name": "region",
                "label": "Region",
                "type": "select",
                "required": True,
                "options": ["eu-west", {"value": "us-east", "label": "US East"}],
            },
            {
                "name": "teams",
                "label": "Teams to notify",
                "type": "multiselect",
                "options": ["web", "api", "ops"],
            },
            {
                "name": "checks",
                "label": "Checks done",
                "type": "checkbox",
                "required": True,
                "options": [{"value": "tests", "label": "Tests pass"}, "docs"],
            },
            {"name": "day", "label": "Release day", "type": "date", "required": True},
        ]
    },
}


def block(name: str) -> str:
    return forms.field_block_id(name)


def complete_answers(**overrides: dict[str, Any]) -> dict[str, Any]:
    """`state.values` answering every field of FORM_EVENT."""
    answers: dict[str, dict[str, Any]] = {
        "summary": sr.plain_text_input("Ship 2.4 to everyone"),
        "notes": sr.plain_text_input("Watch the error rate"),
        "replicas": sr.plain_text_input("3"),
        "budget": sr.plain_text_input("12.5"),
        "region": sr.static_select(("us-east", "US East")),
        "teams": sr.multi_static_select(["ops", "web"]),
        "checks": sr.checkboxes([("tests", "Tests pass"), "docs"]),
        "day": sr.datepicker("2025-04-01"),
    }
    answers.update(overrides)
    entries = [(block(n), ids.FORM_FIELD_INPUT, e) for n, e in answers.items()]
    return sr.state_values(*entries)


def open_form(running: RunningBridge, posted: dict[str, Any], user_id: str) -> None:
    body, headers = sr.block_actions(
        SIGNING_SECRET,
        user_id=user_id,
        action_id=ids.OPEN_FORM,
        value=posted["id"],
        block_id=ids.DECISION_BLOCK,
        channel_id=posted["slack"]["channel"],
        message_ts=posted["slack"]["ts"],
        button_text="Open form",
    )
    assert running.slack_request(body, headers).status_code == 200


def opened_modal(
    running: RunningBridge, posted: dict[str, Any], user_id: str = APPROVER
) -> dict[str, Any]:
    """Click Open form and return the view Slack was asked to open."""
    before = len(running.slack.calls_to("views.open"))
    open_form(running, posted, user_id)
    calls = running.slack.wait_for("views.open", count=before + 1)
    view: dict[str, Any] = calls[-1].args["view"]
    assert calls[-1].args["trigger_id"]
    return view


def submit(
    running: RunningBridge,
    view: dict[str, Any],
    values: dict[str, Any],
    user_id: str = APPROVER,
) -> httpx.Response:
    body, headers = sr.view_submission(
        SIGNING_SECRET,
        user_id=user_id,
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        values=values,
        blocks=view["blocks"],
        title=view["title"]["text"],
    )
    response = running.slack_request(body, headers)
    assert response.status_code == 200
    return response


def modal_errors(response: httpx.Response) -> dict[str, str]:
    """The field errors a submission was answered with; {} when it was taken."""
    if not response.content.strip(b"{} \n"):
        return {}
    answer = response.json()
    assert answer["response_action"] == "errors", answer
    errors: dict[str, str] = answer["errors"]
    return errors


def current(running: RunningBridge, key: str, interaction_id: str) -> dict[str, Any]:
    body: dict[str, Any] = running.api(
        "GET", f"/interactions/{interaction_id}", key
    ).json()
    return body


def posted_form(
    running: RunningBridge, approvers: list[str]
) -> tuple[str, dict[str, Any]]:
    _, key = running.add_agent(approvers=approvers)
    accepted = running.send_event(key, FORM_EVENT)
    return key, running.posted(accepted["interaction_id"])


EXPECTED_VALUES = {
    "summary": "Ship 2.4 to everyone",
    "notes": "Watch the error rate",
    "replicas": 3,
    "budget": 12.5,
    "region": "us-east",
    "teams": ["ops", "web"],
    "checks": ["tests", "docs"],
    "day": "2025-04-01",
}


def test_open_form_shows_a_modal_with_every_field(running: RunningBridge) -> None:
    _, posted = posted_form(running, [APPROVER])

    view = opened_modal(running, posted)

    assert view["callback_id"] == ids.FORM_MODAL
    assert json.loads(view["private_metadata"]) == {"id": posted["id"]}
    assert len(view["title"]["text"]) <= 24 and view["submit"] and view["close"]
    assert "&lt;!channel&gt;" in json.dumps(view["blocks"])
    inputs = {
        b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"
    }
    kinds = {name: inputs[block(name)]["type"] for name in EXPECTED_VALUES}
    assert kinds == {
        "summary": "plain_text_input",
        "notes": "plain_text_input",
        "replicas": "plain_text_input",
        "budget": "plain_text_input",
        "region": "static_select",
        "teams": "multi_static_select",
        "checks": "checkboxes",
        "day": "datepicker",
    }
    assert inputs[block("notes")]["multiline"] is True
    assert inputs[block("replicas")]["initial_value"] == "2"


def test_submitted_form_answers_the_held_await_with_typed_values(
    running: RunningBridge,
) -> None:
    key, posted = posted_form(running, [APPROVER])
    view = opened_modal(running, posted)
    held = HeldAwait(running, key, posted["id"])

    response = submit(running, view, complete_answers())

    assert modal_errors(response) == {}
    result = held.body()
    assert result["status"] == "submitted"
    assert result["response"]["decision"] == "submitted"
    assert result["response"]["values"] == EXPECTED_VALUES
    assert result["response"]["responder"]["slack_user_id"] == APPROVER
    fetched = current(running, key, posted["id"])
    assert fetched["status"] == "submitted"
    assert fetched["response"]["values"] == EXPECTED_VALUES
    assert isinstance(fetched["response"]["values"]["replicas"], int)
    assert isinstance(fetched["response"]["values"]["budget"], float)


def test_submission_replaces_the_open_form_button(running: RunningBridge) -> None:
    _, posted = posted_form(running, [APPROVER])
    view = opened_modal(running, posted)

    submit(running, view, complete_answers())

    running.slack.wait_for("chat.update")
    message = running.slack.message(posted["slack"]["channel"], posted["slack"]["ts"])
    assert message is not None
    assert not [b for b in message["blocks"] if b["type"] == "actions"]


def test_an_invalid_number_is_an_error_on_its_field(running: RunningBridge) -> None:
    key, posted = posted_form(running, [APPROVER])
    view = opened_modal(running, posted)

    response = submit(
        running, view, complete_answers(budget=sr.plain_text_input("lots"))
    )

    assert modal_errors(response) == {block("budget"): forms.NOT_A_NUMBER}
    assert current(running, key, posted["id"])["status"] == "pending"
    assert current(running, key, posted["id"])["response"] is None


def test_a_required_checkbox_left_empty_is_an_error(running: RunningBridge) -> None:
    key, posted = posted_form(running, [APPROVER])
    view = opened_modal(running, posted)

    response = submit(running, view, complete_answers(checks=sr.checkboxes([])))

    assert modal_errors(response) == {block("checks"): forms.TICK_ONE}
    assert current(running, key, posted["id"])["status"] == "pending"


def test_a_corrected_form_is_then_taken(running: RunningBridge) -> None:
    key, posted = posted_form(running, [APPROVER])
    view = opened_modal(running, posted)
    submit(running, view, complete_answers(replicas=sr.plain_text_input("NaN")))

    response = submit(running, view, complete_answers())

    assert modal_errors(response) == {}
    assert current(running, key, posted["id"])["response"]["values"] == EXPECTED_VALUES


def test_a_second_submission_is_refused_in_the_modal(running: RunningBridge) -> None:
    key, posted = posted_form(running, [APPROVER, SECOND_APPROVER])
    first_view = opened_modal(running, posted)
    second_view = opened_modal(running, posted, SECOND_APPROVER)
    submit(running, first_view, complete_answers())

    late = complete_answers(summary=sr.plain_text_input("Something else"))
    response = submit(running, second_view, late, SECOND_APPROVER)

    errors = modal_errors(response)
    assert list(errors) == [block("summary")]
    assert "already submitted" in errors[block("summary")]
    stored = current(running, key, posted["id"])
    assert stored["response"]["values"] == EXPECTED_VALUES
    assert stored["response"]["responder"]["slack_user_id"] == APPROVER


def test_open_form_on_a_submitted_form_answers_ephemerally(
    running: RunningBridge,
) -> None:
    _, posted = posted_form(running, [APPROVER, SECOND_APPROVER])
    submit(running, opened_modal(running, posted), complete_answers())
    running.slack.wait_for("chat.update")

    open_form(running, posted, SECOND_APPROVER)

    (ephemeral,) = running.slack.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == SECOND_APPROVER
    assert "already" in ephemeral.args["text"]
    assert len(running.slack.calls_to("views.open")) == 1


def test_a_non_approver_gets_the_ephemeral_answer_and_no_modal(
    running: RunningBridge,
) -> None:
    key, posted = posted_form(running, [APPROVER])

    open_form(running, posted, STRANGER)

    (ephemeral,) = running.slack.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == STRANGER
    assert ephemeral.args["channel"] == posted["slack"]["channel"]
    assert "approvers" in ephemeral.args["text"]
    assert running.slack.calls_to("views.open") == []
    assert current(running, key, posted["id"])["status"] == "pending"


def test_a_non_approver_submission_is_refused_in_the_modal(
    running: RunningBridge,
) -> None:
    key, posted = posted_form(running, [APPROVER])
    view = opened_modal(running, posted)

    response = submit(running, view, complete_answers(), STRANGER)

    assert "approvers" in modal_errors(response)[block("summary")]
    assert current(running, key, posted["id"])["status"] == "pending"


def test_a_submission_without_readable_metadata_changes_nothing(
    running: RunningBridge,
) -> None:
    key, posted = posted_form(running, [APPROVER])
    view = opened_modal(running, posted) | {"private_metadata": "garbage"}

    response = submit(running, view, complete_answers())

    assert modal_errors(response) == {}
    assert current(running, key, posted["id"])["status"] == "pending"
