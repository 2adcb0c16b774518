"""The one hierarchy of Hamsa lookup errors. Messages never contain the API key."""

from __future__ import annotations


class HamsaError(Exception):
    """Base class: a conversation could not be looked up."""


class InvalidConversationId(HamsaError, ValueError):
    """The reference is not a conversation UUID; no request was made."""


class ConversationNotFound(HamsaError):
    """404: missing, or not visible to this API key (Hamsa does not say which)."""


class HamsaUnauthorized(HamsaError):
    """401/403: the API key is wrong, revoked, or lacks access."""


class HamsaRateLimited(HamsaError):
    """429 after the retries allowed by the budget."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HamsaUnavailable(HamsaError):
    """5xx, timeouts, refused or reset connections, or the lookup budget ran out."""


class HamsaBadResponse(HamsaError):
    """An answer that is not a conversation: not JSON, an HTML page, the wrong shape, too large."""
