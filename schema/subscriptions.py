"""E-mail subscriptions to a processor's sub-processor changes: what is kept and what can go
wrong (pure).

Only the address and its confirmation state are kept (and whether the subscriber wants a
daily digest). An address subscribes to one processor once: its subscriber id is derived from
the processor and the normalised address, so a second request finds the first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from schema.errors import ErrorCode, RopaError

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ropa-registry:subscribers")
MAX_ADDRESS = 254


class InvalidEmail(RopaError):
    """An address that cannot receive mail as written."""

    code = ErrorCode.BAD_USER_INPUT


class RateLimited(RopaError):
    """Too many subscription requests for an address, or from one client."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class SubscriptionsUnavailable(RopaError):
    """E-mail subscriptions are not configured on this registry (no ROPA_SECRET_KEY)."""

    code = ErrorCode.SUBSCRIPTIONS_UNAVAILABLE


def normalise_email(text: str) -> str:
    """The address as it is kept (domain in lower case); InvalidEmail, saying why, if it is not
    one. No DNS lookup: the confirmation mail is the test that it receives mail."""
    candidate = text.strip()
    if not candidate:
        raise InvalidEmail("email: give an e-mail address")
    if len(candidate) > MAX_ADDRESS:
        raise InvalidEmail(f"email: an address has at most {MAX_ADDRESS} characters")
    try:
        found = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"email: '{candidate}' is not an e-mail address: {exc}") from exc
    address: str = found.normalized
    return address


def subscriber_id(processor_id: str, email: str) -> str:
    """The one id of an address's subscription to a processor."""
    return str(uuid.uuid5(_NAMESPACE, f"{processor_id}\n{email.lower()}"))


class Outcome(StrEnum):
    """What a subscription request did."""

    CONFIRMATION_SENT = "CONFIRMATION_SENT"
    ALREADY_PENDING = "ALREADY_PENDING"
    ALREADY_SUBSCRIBED = "ALREADY_SUBSCRIBED"


OUTCOME_MESSAGES = {
    Outcome.CONFIRMATION_SENT: "We have sent a message to {email}. Follow its link to confirm "
    "the subscription; nothing else is sent until you do.",
    Outcome.ALREADY_PENDING: "A confirmation message was already sent to {email}; follow its "
    "link to confirm. Nothing new was sent.",
    Outcome.ALREADY_SUBSCRIBED: "{email} already receives these notices; nothing was changed.",
}


@dataclass(frozen=True)
class Subscription:
    """An address's subscription to one processor's changes."""

    id: str
    processor_id: str
    email: str
    confirmed: bool
    digest: bool
    created_at: dt.datetime
    confirmed_at: dt.datetime | None = None


@dataclass(frozen=True)
class SubscribeResult:
    """The subscription after a request, and what the request did."""

    subscription: Subscription
    outcome: Outcome

    @property
    def message(self) -> str:
        """What to tell the person who asked."""
        return OUTCOME_MESSAGES[self.outcome].format(email=self.subscription.email)
