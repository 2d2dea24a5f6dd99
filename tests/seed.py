"""The integration page's examples, verbatim, as test input."""

import json

# The body of the page's "Send a webhook event" curl example.
REVIEW_CURL_BODY = """{
    "event": "session.review_request",
    "session_id": "oz_sess_abc123",
    "title": "Review auth refactor",
    "description": "Refactored auth to use JWT middleware",
    "context": {
      "files": ["src/auth/middleware.ts", "src/auth/jwt.ts"],
      "diff": "+import { verify } from \\"jose\\";\\n-import { decode } from \\"jsonwebtoken\\";",
      "branch": "feat/jwt-auth",
      "repository": "acme/backend",
      "session_url": "https://warp.dev/oz/sess_abc123"
    },
    "priority": "high",
    "timeout_seconds": 1800
  }"""
REVIEW_EVENT = json.loads(REVIEW_CURL_BODY)

# The page's "Send a message" body.
MESSAGE_CURL_BODY = """{
    "content": "I updated the auth middleware. Can you re-review?",
    "sender": "agent"
  }"""

# The page's "Batch events" body.
BATCH_BODY = """{
  "events": [
    {
      "event": "session.review_request",
      "session_id": "oz_sess_abc123",
      "title": "Review: auth module"
    },
    {
      "event": "session.approval_needed",
      "session_id": "oz_sess_abc123",
      "title": "Deploy to staging?"
    }
  ]
}"""

# The seven fields of the page's 201 response.
ACCEPTED_FIELDS = {
    "event_id",
    "interaction_id",
    "session_id",
    "status",
    "type",
    "created_at",
    "deadline_at",
}


def approval(**overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "event": "session.approval_needed",
        "session_id": "oz_sess_abc123",
        "title": "Deploy to staging?",
    }
    event.update(overrides)
    return event
