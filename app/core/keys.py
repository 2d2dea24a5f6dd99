"""API keys: `hlp_` and 32 random URL-safe characters, stored only as a hash."""

import hashlib
import secrets

PREFIX = "hlp_"
_RANDOM_CHARS = 32


def new_key() -> str:
    # token_urlsafe(24) gives exactly 32 characters from the URL-safe alphabet.
    key = PREFIX + secrets.token_urlsafe(24)
    assert len(key) == len(PREFIX) + _RANDOM_CHARS
    return key


def hash_key(key: str) -> str:
    """SHA-256 is enough here: the keys carry 192 random bits, not a password."""
    return hashlib.sha256(key.encode()).hexdigest()


def hint(key: str) -> str:
    """The part of a key that may be shown later to tell keys apart."""
    return key[: len(PREFIX) + 4] + "…"


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX) and len(value) == len(PREFIX) + _RANDOM_CHARS
