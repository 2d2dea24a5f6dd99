"""The core: interaction rules and state, between the API, Slack and the store."""
