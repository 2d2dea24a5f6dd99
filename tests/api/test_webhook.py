"""The webhook and batch routes: what Oz sends, what it gets back, what is refused."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import RunningBridge
from tests.seed import ACCEPTED_FIELDS, BATCH_BODY, REVIEW_CURL_BODY, REVIEW_EVENT
from tests.support.contract import error_of, rfc3339_time

JSON_HEADERS = {"Content-Type": "application/json"}
EVENTS = (
    "session.review_request",
    "session.approval_needed",
    "session.human_input",
    "session.form_input",
    "session.share",
)
MIB = 1024 * 1024
SESSION = "oz_sess_abc123"


def _invalid(response: httpx.Response, field: str) -> dict[str, Any]:
    """A 422 whose details name `field` (or a path inside it)."""
    error = error_of(response, 422, "validation_error")
    for detail in error["details"]:
        assert isinstance(detail["field"], str), detail
        assert detail["field"].startswith("body"), detail
        assert isinstance(detail["message"], str) and detail["message"], detail
    named = [
        d
        for d in error["details"]
        if d["field"] == field or d["field"].startswith(field + ".")
    ]
    assert named, f"no detail for {field}: {error['details']}"
    return named[0]


def _field(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "type": kind, **extra}


def _form(*fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": "session.form_input",
        "session_id": SESSION,
        "title": "Release details",
        "form": {"fields": list(fields)},
    }


def _event(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"event": name, "session_id": SESSION, "title": "A title"}
    if name == "session.form_input":
        body["form"] = {"fields": [_field("notes", "text")]}
    body.update(overrides)
    return body


def _without(key: str) -> dict[str, Any]:
    body = dict(REVIEW_EVENT)
    del body[key]
    return body


def _options(count: int) -> list[dict[str, str]]:
    return [{"value": f"v{i}", "label": f"Choice {i}"} for i in range(count)]


@pytest.fixture
def key(running: RunningBridge) -> str:
    return running.add_agent()[1]


def _post(running: RunningBridge, key: str, body: Any) -> httpx.Response:
    return running.api("POST", "/webhook", key, json=body)


def _session(running: RunningBridge, key: str) -> list[dict[str, Any]]:
    response = running.api("GET", f"/sessions/{SESSION}", key)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["interactions"]
    return found


# The seed's review request ---------------------------------------------------


def test_webhook_accepts_seed_curl_body_with_exactly_the_seven_fields(
    running: RunningBridge, key: str
) -> None:
    response = running.api(
        "POST", "/webhook", key, content=REVIEW_CURL_BODY, headers=JSON_HEADERS
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == ACCEPTED_FIELDS
    assert body["status"] == "pending"
    assert body["type"] == "session.review_request"
    assert body["session_id"] == SESSION
    uuid.UUID(body["event_id"])
    uuid.UUID(body["interaction_id"])
    assert body["event_id"] != body["interaction_id"]


def test_webhook_times_are_utc_z_with_deadline_after_timeout_seconds(
    running: RunningBridge, key: str
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    response = running.api(
        "POST", "/webhook", key, content=REVIEW_CURL_BODY, headers=JSON_HEADERS
    )
    after = datetime.now(UTC)

    body = response.json()
    created, deadline = (
        rfc3339_time(body["created_at"]),
        rfc3339_time(body["deadline_at"]),
    )
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)
    assert deadline - created == timedelta(seconds=1800)


def test_webhook_deadline_defaults_to_3600_seconds_without_timeout(
    running: RunningBridge, key: str
) -> None:
    body = running.send_event(key, _without("timeout_seconds"))

    created, deadline = (
        rfc3339_time(body["created_at"]),
        rfc3339_time(body["deadline_at"]),
    )
    assert deadline - created == timedelta(seconds=3600)


def test_webhook_share_has_null_deadline_even_with_timeout(
    running: RunningBridge, key: str
) -> None:
    body = running.send_event(key, _event("session.share", timeout_seconds=60))

    assert set(body) == ACCEPTED_FIELDS
    assert body["type"] == "session.share"
    assert body["deadline_at"] is None
    rfc3339_time(body["created_at"])


@pytest.mark.parametrize("name", EVENTS)
def test_webhook_accepts_each_event_type_with_its_name_as_type(
    running: RunningBridge, key: str, name: str
) -> None:
    body = running.send_event(key, _event(name))

    assert set(body) == ACCEPTED_FIELDS
    assert body["type"] == name
    assert body["status"] == "pending"


def test_webhook_ignores_unknown_top_level_fields(
    running: RunningBridge, key: str
) -> None:
    event = {**REVIEW_EVENT, "oz_version": "2.1", "labels": ["a"], "meta": {"x": 1}}

    body = running.send_event(key, event)

    assert set(body) == ACCEPTED_FIELDS
    stored = running.api("GET", f"/interactions/{body['interaction_id']}", key).json()
    assert "oz_version" not in stored and "labels" not in stored


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"session_id": "s" * 200}, id="session_id-200"),
        pytest.param({"title": "t" * 300}, id="title-300"),
        pytest.param({"description": "d" * 10_000}, id="description-10000"),
        pytest.param({"timeout_seconds": 1}, id="timeout-1"),
        pytest.param({"timeout_seconds": 604_800}, id="timeout-604800"),
        pytest.param({"priority": "urgent"}, id="priority-urgent"),
        pytest.param({"priority": "low"}, id="priority-low"),
        pytest.param(
            {"context": {"session_url": "http://oz.example/s/1"}}, id="http-url"
        ),
    ],
)
def test_webhook_accepts_values_at_the_limits(
    running: RunningBridge, key: str, overrides: dict[str, Any]
) -> None:
    response = _post(running, key, {**REVIEW_EVENT, **overrides})

    assert response.status_code == 201, response.text


# Validation -------------------------------------------------------------------


def test_webhook_unknown_event_is_422_listing_the_five(
    running: RunningBridge, key: str
) -> None:
    response = _post(running, key, {**REVIEW_EVENT, "event": "session.reviewed"})

    detail = _invalid(response, "body.event")
    assert detail["field"] == "body.event"
    for name in EVENTS:
        assert name in detail["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_without("event"), "body.event"),
        (_without("session_id"), "body.session_id"),
        ({**REVIEW_EVENT, "session_id": ""}, "body.session_id"),
        ({**REVIEW_EVENT, "session_id": "s" * 201}, "body.session_id"),
        ({**REVIEW_EVENT, "session_id": 123}, "body.session_id"),
        (_without("title"), "body.title"),
        ({**REVIEW_EVENT, "title": ""}, "body.title"),
        ({**REVIEW_EVENT, "title": "t" * 301}, "body.title"),
        ({**REVIEW_EVENT, "description": "d" * 10_001}, "body.description"),
        ({**REVIEW_EVENT, "priority": "critical"}, "body.priority"),
        ({**REVIEW_EVENT, "priority": "HIGH"}, "body.priority"),
        ({**REVIEW_EVENT, "timeout_seconds": 0}, "body.timeout_seconds"),
        ({**REVIEW_EVENT, "timeout_seconds": -5}, "body.timeout_seconds"),
        ({**REVIEW_EVENT, "timeout_seconds": 604_801}, "body.timeout_seconds"),
        ({**REVIEW_EVENT, "timeout_seconds": "1800"}, "body.timeout_seconds"),
        ({**REVIEW_EVENT, "timeout_seconds": True}, "body.timeout_seconds"),
        ({**REVIEW_EVENT, "timeout_seconds": 12.5}, "body.timeout_seconds"),
    ],
    ids=[
        "event-missing",
        "session-missing",
        "session-empty",
        "session-201",
        "session-number",
        "title-missing",
        "title-empty",
        "title-301",
        "description-10001",
        "priority-unknown",
        "priority-upper",
        "timeout-0",
        "timeout-negative",
        "timeout-604801",
        "timeout-string",
        "timeout-bool",
        "timeout-float",
    ],
)
def test_webhook_bad_field_is_422_naming_it(
    running: RunningBridge, key: str, body: dict[str, Any], field: str
) -> None:
    response = _post(running, key, body)

    detail = _invalid(response, field)
    assert detail["field"] == field
    assert _session(running, key) == []


@pytest.mark.parametrize(
    "url",
    ["ftp://warp.dev/oz", "javascript:alert(1)", "warp.dev/oz", "https://a b.dev"],
)
def test_webhook_session_url_not_http_is_422(
    running: RunningBridge, key: str, url: str
) -> None:
    event = {**REVIEW_EVENT, "context": {**REVIEW_EVENT["context"], "session_url": url}}

    detail = _invalid(_post(running, key, event), "body.context.session_url")

    assert detail["field"] == "body.context.session_url"


def test_webhook_form_input_without_form_is_422(
    running: RunningBridge, key: str
) -> None:
    event = _event("session.form_input")
    del event["form"]

    _invalid(_post(running, key, event), "body.form")


@pytest.mark.parametrize(
    "name", ["session.review_request", "session.approval_needed", "session.share"]
)
def test_webhook_form_on_other_event_is_422(
    running: RunningBridge, key: str, name: str
) -> None:
    event = _event(name, form={"fields": [_field("notes", "text")]})

    _invalid(_post(running, key, event), "body.form")


def test_webhook_form_with_every_field_type_is_accepted(
    running: RunningBridge, key: str
) -> None:
    event = _form(
        _field("summary", "text", required=True, placeholder="One line", default="x"),
        _field("notes", "textarea"),
        _field("replicas", "number", default=3),
        _field("region", "select", options=["eu", "us"], default="eu"),
        _field(
            "targets",
            "multiselect",
            options=[{"value": "web", "label": "Web"}, "api"],
            default=["web"],
        ),
        _field("checks", "checkbox", options=["lint", "tests"], default=["tests"]),
        _field("date", "date", default="2026-02-21"),
    )

    body = running.send_event(key, event)

    assert body["type"] == "session.form_input"


def test_webhook_form_with_twenty_fields_is_accepted(
    running: RunningBridge, key: str
) -> None:
    event = _form(*[_field(f"f{i}", "text") for i in range(20)])

    assert _post(running, key, event).status_code == 201


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"fields": []}, "body.form.fields"),
        ({"fields": [_field(f"f{i}", "text") for i in range(21)]}, "body.form.fields"),
        ({}, "body.form.fields"),
        ({"fields": [_field("colour", "color")]}, "body.form.fields.0"),
        ({"fields": [{"label": "No name", "type": "text"}]}, "body.form.fields.0"),
        ({"fields": [{"name": "x", "type": "text"}]}, "body.form.fields.0"),
        ({"fields": [_field("region", "select")]}, "body.form.fields.0"),
        ({"fields": [_field("region", "select", options=[])]}, "body.form.fields.0"),
        ({"fields": [_field("targets", "multiselect")]}, "body.form.fields.0"),
        ({"fields": [_field("checks", "checkbox")]}, "body.form.fields.0"),
        (
            {"fields": [_field("a", "text"), _field("a", "number")]},
            "body.form.fields",
        ),
        ({"fields": [_field("n", "number", default="three")]}, "body.form.fields.0"),
        ({"fields": [_field("n", "number", default=True)]}, "body.form.fields.0"),
        ({"fields": [_field("t", "text", default=5)]}, "body.form.fields.0"),
        (
            {"fields": [_field("r", "select", options=["eu"], default="us")]},
            "body.form.fields.0",
        ),
        (
            {"fields": [_field("m", "multiselect", options=["a"], default="a")]},
            "body.form.fields.0",
        ),
        (
            {"fields": [_field("c", "checkbox", options=["a"], default=["b"])]},
            "body.form.fields.0",
        ),
        ({"fields": [_field("d", "date", default="21/02/2026")]}, "body.form.fields.0"),
        ({"fields": [_field("d", "date", default="2026-02-30")]}, "body.form.fields.0"),
        (
            {"fields": [_field("ok", "text"), _field("bad", "select")]},
            "body.form.fields.1",
        ),
    ],
    ids=[
        "no-fields",
        "21-fields",
        "fields-missing",
        "unknown-type",
        "name-missing",
        "label-missing",
        "select-no-options",
        "select-empty-options",
        "multiselect-no-options",
        "checkbox-no-options",
        "duplicate-names",
        "number-default-text",
        "number-default-bool",
        "text-default-number",
        "select-default-not-an-option",
        "multiselect-default-not-a-list",
        "checkbox-default-not-an-option",
        "date-default-not-iso",
        "date-default-not-a-day",
        "second-field-bad",
    ],
)
def test_webhook_bad_form_is_422_naming_the_field(
    running: RunningBridge, key: str, form: dict[str, Any], field: str
) -> None:
    event = {**_form(), "form": form}

    _invalid(_post(running, key, event), field)
    assert _session(running, key) == []


@pytest.mark.parametrize("count", [2, 5])
def test_webhook_approval_options_within_two_to_five_are_accepted(
    running: RunningBridge, key: str, count: int
) -> None:
    event = _event("session.approval_needed", options=_options(count))

    assert _post(running, key, event).status_code == 201


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (_options(1), "one option"),
        (_options(6), "six options"),
        (
            [{"value": "go", "label": "Go"}, {"value": "go", "label": "Go again"}],
            "duplicate values",
        ),
    ],
)
def test_webhook_bad_approval_options_are_422(
    running: RunningBridge, key: str, options: list[dict[str, str]], why: str
) -> None:
    event = _event("session.approval_needed", options=options)

    _invalid(_post(running, key, event), "body.options")


@pytest.mark.parametrize(
    "name", ["session.review_request", "session.human_input", "session.share"]
)
def test_webhook_options_on_other_event_are_422(
    running: RunningBridge, key: str, name: str
) -> None:
    _invalid(_post(running, key, _event(name, options=_options(2))), "body.options")


# Malformed bodies -------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ['{"event": "session.share",', "not json", "", "[1, 2]", '"text"']
)
def test_webhook_body_not_a_json_object_is_422(
    running: RunningBridge, key: str, raw: str
) -> None:
    response = running.api("POST", "/webhook", key, content=raw, headers=JSON_HEADERS)

    error_of(response, 422, "validation_error")


def _big_event(size: int) -> bytes:
    padding = "x" * size
    return json.dumps({**REVIEW_EVENT, "padding": padding}).encode()


def test_webhook_body_over_one_mib_is_413(running: RunningBridge, key: str) -> None:
    raw = _big_event(MIB + 10)

    response = running.api("POST", "/webhook", key, content=raw, headers=JSON_HEADERS)

    error_of(response, 413, "payload_too_large")
    assert _session(running, key) == []


def _chunks(raw: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def test_webhook_streamed_body_over_one_mib_is_413(
    running: RunningBridge, key: str
) -> None:
    raw = _big_event(MIB + 10)

    response = running.api(
        "POST", "/webhook", key, content=_chunks(raw), headers=JSON_HEADERS
    )

    assert "content-length" not in response.request.headers
    assert response.request.headers.get("transfer-encoding") == "chunked"
    error_of(response, 413, "payload_too_large")
    assert _session(running, key) == []


def test_webhook_streamed_body_under_the_limit_is_accepted(
    running: RunningBridge, key: str
) -> None:
    raw = _big_event(MIB - 4096)
    assert len(raw) < MIB

    response = running.api(
        "POST", "/webhook", key, content=_chunks(raw), headers=JSON_HEADERS
    )

    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 201, response.text
    assert set(response.json()) == ACCEPTED_FIELDS


# Batch ------------------------------------------------------------------------


def test_batch_seed_body_gives_two_results_in_order(
    running: RunningBridge, key: str
) -> None:
    response = running.api(
        "POST", "/webhook/batch", key, content=BATCH_BODY, headers=JSON_HEADERS
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"events"}
    first, second = body["events"]
    for accepted in (first, second):
        assert set(accepted) == ACCEPTED_FIELDS
        assert accepted["status"] == "pending"
        assert accepted["session_id"] == SESSION
        rfc3339_time(accepted["created_at"])
    assert first["type"] == "session.review_request"
    assert second["type"] == "session.approval_needed"
    assert first["interaction_id"] != second["interaction_id"]
    stored = _session(running, key)
    assert [i["id"] for i in stored] == [
        first["interaction_id"],
        second["interaction_id"],
    ]
    assert [i["title"] for i in stored] == ["Review: auth module", "Deploy to staging?"]


def test_batch_of_twenty_events_is_accepted(running: RunningBridge, key: str) -> None:
    events = [_event("session.share", title=f"Step {i}") for i in range(20)]

    response = running.api("POST", "/webhook/batch", key, json={"events": events})

    assert response.status_code == 201, response.text
    assert len(response.json()["events"]) == 20


@pytest.mark.parametrize("count", [0, 21])
def test_batch_with_wrong_event_count_is_422(
    running: RunningBridge, key: str, count: int
) -> None:
    events = [_event("session.share") for _ in range(count)]

    response = running.api("POST", "/webhook/batch", key, json={"events": events})

    _invalid(response, "body.events")
    assert _session(running, key) == []


def test_batch_without_events_is_422(running: RunningBridge, key: str) -> None:
    response = running.api("POST", "/webhook/batch", key, json={})

    _invalid(response, "body.events")


def test_batch_with_one_bad_event_is_422_naming_its_index_and_stores_nothing(
    running: RunningBridge, key: str
) -> None:
    batch = json.loads(BATCH_BODY)
    batch["events"][1]["title"] = ""

    response = running.api("POST", "/webhook/batch", key, json=batch)

    detail = _invalid(response, "body.events.1.title")
    assert detail["field"] == "body.events.1.title"
    assert _session(running, key) == []


def test_batch_with_bad_event_late_in_batch_names_that_index(
    running: RunningBridge, key: str
) -> None:
    events = [_event("session.share", title=f"Step {i}") for i in range(5)]
    events[4]["event"] = "session.unknown"

    response = running.api("POST", "/webhook/batch", key, json={"events": events})

    _invalid(response, "body.events.4.event")
    assert _session(running, key) == []


def test_batch_over_one_mib_is_413(running: RunningBridge, key: str) -> None:
    events = [{**_event("session.share"), "padding": "x" * (MIB // 2)}] * 3

    response = running.api("POST", "/webhook/batch", key, json={"events": events})

    error_of(response, 413, "payload_too_large")
    assert _session(running, key) == []
