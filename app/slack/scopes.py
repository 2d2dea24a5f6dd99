"""The Slack Web API methods the bridge calls and the bot scopes they need.

manifest.yml must ask for exactly these scopes; a test checks both against
the calls the code makes.
"""

METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.getPermalink": None,
    "chat.postEphemeral": "chat:write",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    # Reading back a write whose answer was lost (private channels need
    # groups:history, which the thread events ask for already).
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
    "views.open": None,
}

# Events the bridge subscribes to, with the scope each needs.
EVENT_SCOPES: dict[str, str] = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
}

REQUEST_PATH = "/slack/events"


def bot_scopes() -> set[str]:
    needed = {scope for scope in METHOD_SCOPES.values() if scope}
    return needed | set(EVENT_SCOPES.values())
