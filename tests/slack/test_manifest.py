"""manifest.yml asks Slack for exactly what the code uses."""

import re
from pathlib import Path
from typing import Any

import yaml

from app.slack import scopes

ROOT = Path(__file__).resolve().parents[2]


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def _methods_called_in_code() -> set[str]:
    """Every `client.<method>(` call in app/, as Slack's dotted method name."""
    called = set()
    for source in (ROOT / "app").rglob("*.py"):
        for name in re.findall(r"\bclient\.([a-z]+_[A-Za-z_]+)\(", source.read_text()):
            called.add(name.replace("_", "."))
    return called


def test_every_called_method_has_a_known_scope() -> None:
    called = _methods_called_in_code()

    assert called, "no Slack calls found: the scan is broken"
    assert called <= set(scopes.METHOD_SCOPES), called - set(scopes.METHOD_SCOPES)


def test_manifest_asks_for_exactly_the_needed_scopes() -> None:
    needed = {
        scopes.METHOD_SCOPES[method]
        for method in _methods_called_in_code() | {"auth.test"}
        if scopes.METHOD_SCOPES.get(method)
    }
    needed |= set(scopes.EVENT_SCOPES.values())

    manifest_scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])

    assert manifest_scopes == needed == scopes.bot_scopes()


def test_manifest_events_match_the_subscribed_events() -> None:
    subscriptions = _manifest()["settings"].get("event_subscriptions") or {}

    assert set(subscriptions.get("bot_events") or []) == set(scopes.EVENT_SCOPES)
    if scopes.EVENT_SCOPES:
        assert subscriptions["request_url"].endswith(scopes.REQUEST_PATH)


def test_manifest_points_interactivity_at_the_bolt_endpoint() -> None:
    interactivity = _manifest()["settings"]["interactivity"]

    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith(scopes.REQUEST_PATH)
    assert interactivity["request_url"].startswith("https://")


def test_bolt_endpoint_is_served_at_the_manifest_path() -> None:
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="sqlite://",
        slack_bot_token="xoxb-x",
        slack_signing_secret="s",
    )
    app = create_app(settings)

    assert any(
        getattr(route, "path", None) == scopes.REQUEST_PATH
        for route in app.router.routes
    )
