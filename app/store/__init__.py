"""Tables and queries. Knows nothing of HTTP or Slack."""
