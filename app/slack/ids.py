"""Identifiers our Slack messages and modals carry, in one place."""

APPROVE = "hiloop.approve"
REJECT = "hiloop.reject"
REQUEST_CHANGES = "hiloop.request_changes"
CHOOSE = "hiloop.choose"  # custom approval options: action ids CHOOSE + ".<n>"
OPEN_FORM = "hiloop.open_form"

DECISION_BLOCK = "hiloop.decision"

COMMENT_MODAL = "hiloop.comment"
COMMENT_BLOCK = "hiloop.comment"
COMMENT_INPUT = "comment"

FORM_MODAL = "hiloop.form"
