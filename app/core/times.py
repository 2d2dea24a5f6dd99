"""Time formats of the contract."""

from datetime import UTC, datetime


def rfc3339(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`, to the second, as the integration page shows."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
