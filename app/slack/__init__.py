"""Slack: the Bolt app, Block Kit rendering and the delivery outbox worker."""
