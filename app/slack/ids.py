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
# Each form field's input block is FORM_FIELD_BLOCK + the field's name; every
# field's element carries the same action id.
FORM_FIELD_BLOCK = "hiloop.field."
FORM_FIELD_INPUT = "answer"
