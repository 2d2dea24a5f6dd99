"""Interaction states and the decisions that lead to them."""

PENDING = "pending"
RESPONDED = "responded"
EXPIRED = "expired"
CANCELLED = "cancelled"
DELIVERED = "delivered"
SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
CHANGES_REQUESTED = "changes_requested"
# An approval answered with one of the event's own options.
DECIDED = "decided"

# States from which a person's answer or the agent's cancel is still possible.
OPEN = frozenset({PENDING, RESPONDED})

# The decisions a button may make, per interaction type.
DECISIONS: dict[str, frozenset[str]] = {
    "review": frozenset({APPROVED, CHANGES_REQUESTED}),
    "approval": frozenset({APPROVED, REJECTED}),
    "form": frozenset({SUBMITTED}),
}


def is_final(status: str) -> bool:
    return status not in OPEN
