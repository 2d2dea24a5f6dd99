"""The `hiloop` command: manage agents and serve the bridge."""

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, OperationalError

from app import logs
from app.core.bridge import Bridge, NewAgent
from app.core.errors import BridgeError
from app.settings import Settings
from app.store.db import create_schema, make_cli_engine
from app.store.models import Agent

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,39}$")
APPROVER_ID = re.compile(r"^[UWS][A-Z0-9]{2,39}$")
AGENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "settings"
            print(f"hiloop: setting {name}: {problem['msg']}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    try:
        result: int = args.run(args, settings)
    except BridgeError as error:
        print(f"hiloop: {error.message}", file=sys.stderr)
        return 1
    except (ArgumentError, OperationalError) as error:
        # A database URL that does not parse, or a database that is not there.
        print(f"hiloop: cannot use the database: {error}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hiloop", description="Hiloop Bridge: humans in the loop of Oz agents."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bridge")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(run=_serve)

    agents = commands.add_parser("agents", help="manage agents and their API keys")
    actions = agents.add_subparsers(required=True, metavar="ACTION")

    create = actions.add_parser("create", help="create an agent and its first key")
    create.add_argument("name", type=_name)
    create.add_argument("--channel", required=True, type=_channel)
    create.add_argument(
        "--approver",
        action="append",
        default=[],
        type=_approver,
        help="Slack user (U…/W…) or user group (S…) that may decide; repeatable",
    )
    create.add_argument("--json", action="store_true")
    create.set_defaults(run=_create)

    listing = actions.add_parser("list", help="list agents")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_list)

    rotate = actions.add_parser("rotate-key", help="issue a new key; the old one stops")
    rotate.add_argument("name")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(run=_rotate)

    revoke = actions.add_parser("revoke", help="revoke the agent and all its keys")
    revoke.add_argument("name")
    revoke.set_defaults(run=_revoke)
    return parser


def _checked(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise argparse.ArgumentTypeError(f"{value!r} is not {what}")
        return value

    return check


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port from 1 to 65535")
    return int(value)


_name = _checked(AGENT_NAME, "a name of letters, digits, '_', '.' or '-'")
_channel = _checked(CHANNEL_ID, "a Slack channel id such as C0123ABCD")
_approver = _checked(APPROVER_ID, "a Slack user (U…, W…) or user group (S…) id")


def _bridge(settings: Settings) -> Bridge:
    engine = make_cli_engine(settings.database_url)
    # Said on stderr so a key made in the wrong database is noticed at once.
    print(
        f"database: {engine.url.render_as_string(hide_password=True)}", file=sys.stderr
    )
    create_schema(engine)
    return Bridge(engine)


def _agent_json(agent: Agent, api_key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": agent.id,
        "name": agent.name,
        "channel": agent.channel,
        "approvers": agent.approvers,
        "revoked": agent.revoked_at is not None,
    }
    if api_key is not None:
        body["api_key"] = api_key
    return body


def _print_new(new: NewAgent, as_json: bool, verb: str) -> None:
    if as_json:
        print(json.dumps(_agent_json(new.agent, new.api_key)))
        return
    print(f"{verb} agent {new.agent.name} ({new.agent.id}) on {new.agent.channel}")
    print(f"API key (shown once, store it now): {new.api_key}")


def _create(args: argparse.Namespace, settings: Settings) -> int:
    approvers = list(dict.fromkeys(args.approver))  # once each, in order
    new = _bridge(settings).create_agent(args.name, args.channel, approvers)
    _print_new(new, args.json, "created")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    found = _bridge(settings).list_agents()
    if args.json:
        print(json.dumps({"agents": [_agent_json(agent) for agent in found]}))
        return 0
    for agent in found:
        state = "revoked" if agent.revoked_at else "active"
        approvers = ",".join(agent.approvers) or "anyone in the channel"
        print(f"{agent.name}\t{agent.channel}\t{state}\tapprovers: {approvers}")
    return 0


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    new = _bridge(settings).rotate_key(args.name)
    _print_new(new, args.json, "new key for")
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    agent = _bridge(settings).revoke_agent(args.name)
    print(f"revoked agent {agent.name}; its keys no longer work")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the agents commands need none of the web stack.
    from app.main import begin_shutdown, create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        log_config=None,
        lifespan="on",
    )

    class Server(uvicorn.Server):
        """Wakes held awaits as soon as a stop is asked for, not after them."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            loop = getattr(self, "loop", None)
            if loop is not None:
                loop.call_soon_threadsafe(begin_shutdown, app)
            super().handle_exit(sig, frame)

        async def serve(self, sockets: Any = None) -> None:
            self.loop = asyncio.get_running_loop()
            await super().serve(sockets)

    Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
