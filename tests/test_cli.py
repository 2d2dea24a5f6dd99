"""The `hiloop` command: agents and keys from the shell, before any serve."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from app.cli import main
from app.core.bridge import Bridge
from app.store.db import make_engine

KEY = re.compile(r"^hlp_[A-Za-z0-9_-]{32}$")


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "h.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HILOOP_DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def bridge(db_path: Path) -> Iterator[Bridge]:
    """A bridge over the CLI's database, to check what the keys open."""
    engine = make_engine(f"sqlite:///{db_path}")
    yield Bridge(engine)
    engine.dispose()


def _run(argv: list[str]) -> int:
    """The exit status of `hiloop argv`, whether returned or raised."""
    try:
        return main(argv)
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else 1


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    capsys.readouterr()
    assert _run(argv) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    return json.loads(out)


def _create(
    capsys: pytest.CaptureFixture[str], name: str = "platform", *extra: str
) -> dict[str, Any]:
    argv = ["agents", "create", name, "--channel", "C0123ABCD", *extra, "--json"]
    created: dict[str, Any] = _json(capsys, argv)
    return created


def _listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    body = _json(capsys, ["agents", "list", "--json"])
    found: list[dict[str, Any]] = body["agents"] if isinstance(body, dict) else body
    return found


def test_create_json_prints_one_object_with_a_new_key(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created = _create(capsys, "platform", "--approver", "U0456")

    assert isinstance(created, dict)
    assert {"id", "name", "channel", "api_key"} <= set(created)
    assert created["name"] == "platform"
    assert created["channel"] == "C0123ABCD"
    assert created["id"]
    assert KEY.match(created["api_key"]), created["api_key"]


def test_create_makes_the_database_before_any_serve(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not db_path.exists()

    _create(capsys)

    assert db_path.exists()
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        assert inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_create_key_opens_the_bridge(
    db_path: Path, capsys: pytest.CaptureFixture[str], bridge: Bridge
) -> None:
    created = _create(capsys, "platform", "--approver", "U0456", "--approver", "S0789")

    agent = bridge.authenticate(created["api_key"])

    assert agent is not None
    assert agent.id == created["id"]
    assert agent.name == "platform"
    assert agent.channel == "C0123ABCD"
    assert agent.approvers == ["U0456", "S0789"]


def test_create_without_json_shows_the_key_once(
    db_path: Path, capsys: pytest.CaptureFixture[str], bridge: Bridge
) -> None:
    assert _run(["agents", "create", "plain", "--channel", "C0123ABCD"]) == 0

    out = capsys.readouterr().out
    (key,) = re.findall(r"hlp_[A-Za-z0-9_-]{32}", out)
    assert bridge.authenticate(key) is not None


def test_list_json_shows_agents_without_keys(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _create(capsys, "alpha")
    second = _create(capsys, "beta")

    listed = _listed(capsys)

    assert [a["name"] for a in listed] == ["alpha", "beta"]
    assert [a["id"] for a in listed] == [first["id"], second["id"]]
    assert all(a["channel"] == "C0123ABCD" for a in listed)
    shown = json.dumps(listed)
    assert first["api_key"] not in shown and second["api_key"] not in shown


def test_list_json_on_an_empty_database_is_empty(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _listed(capsys) == []


def test_create_duplicate_name_fails_with_exit_1(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(capsys, "platform")

    status = _run(["agents", "create", "platform", "--channel", "C0999ZZZZ"])

    assert status == 1
    assert "platform" in capsys.readouterr().err
    assert len(_listed(capsys)) == 1


@pytest.mark.parametrize(
    "extra",
    [
        ["--channel", "general"],
        ["--channel", "#general"],
        ["--channel", "U0123ABCD"],
        ["--channel", ""],
        ["--channel", "C0123ABCD", "--approver", "alice"],
        ["--channel", "C0123ABCD", "--approver", "C0456"],
        ["--channel", "C0123ABCD", "--approver", "@alice"],
        [],
    ],
    ids=[
        "channel-name",
        "channel-hash",
        "channel-user-id",
        "channel-empty",
        "approver-name",
        "approver-channel",
        "approver-mention",
        "channel-missing",
    ],
)
def test_create_bad_ids_fail_with_exit_2(
    db_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["agents", "create", "platform", *extra])

    assert stop.value.code == 2
    assert capsys.readouterr().err
    assert not db_path.exists() or _listed(capsys) == []


def test_rotate_key_gives_a_new_key_and_the_old_stops(
    db_path: Path, capsys: pytest.CaptureFixture[str], bridge: Bridge
) -> None:
    created = _create(capsys, "platform")

    rotated = _json(capsys, ["agents", "rotate-key", "platform", "--json"])

    assert rotated["id"] == created["id"]
    assert rotated["name"] == "platform"
    assert KEY.match(rotated["api_key"])
    assert rotated["api_key"] != created["api_key"]
    assert bridge.authenticate(created["api_key"]) is None
    agent = bridge.authenticate(rotated["api_key"])
    assert agent is not None and agent.id == created["id"]


def test_rotate_key_of_unknown_agent_fails_with_exit_1(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["agents", "rotate-key", "nobody", "--json"]) == 1
    assert capsys.readouterr().out == ""


def test_revoke_makes_every_key_fail(
    db_path: Path, capsys: pytest.CaptureFixture[str], bridge: Bridge
) -> None:
    created = _create(capsys, "platform")
    rotated = _json(capsys, ["agents", "rotate-key", "platform", "--json"])
    other = _create(capsys, "other")

    assert _run(["agents", "revoke", "platform"]) == 0

    assert bridge.authenticate(created["api_key"]) is None
    assert bridge.authenticate(rotated["api_key"]) is None
    assert bridge.authenticate(other["api_key"]) is not None


def test_revoked_agent_cannot_get_a_new_key(
    db_path: Path, capsys: pytest.CaptureFixture[str], bridge: Bridge
) -> None:
    _create(capsys, "platform")
    assert _run(["agents", "revoke", "platform"]) == 0
    capsys.readouterr()

    status = _run(["agents", "rotate-key", "platform", "--json"])

    assert status == 1
    keys = re.findall(r"hlp_[A-Za-z0-9_-]{32}", capsys.readouterr().out)
    assert all(bridge.authenticate(key) is None for key in keys)


def test_revoke_of_unknown_agent_fails_with_exit_1(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["agents", "revoke", "nobody"]) == 1


def test_console_script_creates_an_agent(tmp_path: Path, bridge: Bridge) -> None:
    script = Path(sys.executable).parent / "hiloop"
    assert script.exists(), f"no console script at {script}"
    env = {**os.environ, "HILOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}

    done = subprocess.run(
        [
            str(script),
            "agents",
            "create",
            "scripted",
            "--channel",
            "C0123ABCD",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["name"] == "scripted"
    assert KEY.match(created["api_key"])
    agent = bridge.authenticate(created["api_key"])
    assert agent is not None and agent.name == "scripted"


@pytest.mark.parametrize("port", ["0", "99999", "-1", "http"])
def test_serve_refuses_a_port_outside_the_range(
    db_path: Path, capsys: pytest.CaptureFixture[str], port: str
) -> None:
    assert _run(["serve", "--port", port]) == 2
    assert "port" in capsys.readouterr().err


def test_bad_setting_is_named_without_a_traceback(
    db_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HILOOP_REMINDER_SHARE", "1")

    assert _run(["agents", "list"]) == 2
    err = capsys.readouterr().err
    assert "HILOOP_REMINDER_SHARE" in err and "Traceback" not in err


def test_repeated_approver_is_kept_once(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created = _create(capsys, "platform", "--approver", "U0A1", "--approver", "U0A1")

    assert created["approvers"] == ["U0A1"]
