"""Subscribing by e-mail, confirming and unsubscribing: the one path the form and the GraphQL
mutation share, with its rate limits and signed links."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from limits import RateLimitItem

from graph import mail
from graph.database import Database
from graph.read import engagements, refs
from schema.errors import NotFound
from schema.graphql.records import RefKind
from schema.mail_links import (
    CONFIRM,
    SUBSCRIBE_FORM,
    UNSUBSCRIBE,
    ExpiredLink,
    InvalidLink,
    sign,
    verify,
)
from schema.subscriptions import (
    RateLimited,
    SubscribeResult,
    Subscription,
    SubscriptionsUnavailable,
    normalise_email,
    subscriber_id,
)
from services.registry.rate_limit import Limiter

FORM_TOKEN_SECONDS = 3600


class Subscriptions:
    """E-mail subscriptions on the graph, for one registry process."""

    def __init__(
        self,
        db: Database,
        keys: tuple[str, ...],
        confirm_within: dt.timedelta,
        per_address: RateLimitItem,
        per_client: RateLimitItem,
        limiter: Limiter | None = None,
    ) -> None:
        self._db = db
        # The keyring (schema.keyring): the first signs, every one verifies.
        self._keys = keys
        self.confirm_within = confirm_within
        self._per_address = per_address
        self._per_client = per_client
        # The registry's one limiter implementation (services.registry.rate_limit: per
        # process); its keys here are prefixed, apart from the request limits' keys.
        self._limiter = limiter or Limiter()

    def _keyring(self) -> tuple[str, ...]:
        if not self._keys:
            raise SubscriptionsUnavailable(
                "e-mail subscriptions are not available on this registry (ROPA_SECRET_KEY is "
                "not set)"
            )
        return self._keys

    def _key(self) -> str:
        return self._keyring()[0]

    async def processor(self, ref: str) -> str:
        """The id of the processor `ref` names, if it publishes a list; NotFound if not."""
        (resolved,) = await refs.resolve(self._db, RefKind.ORGANISATION, [ref])
        if isinstance(resolved, Exception) or resolved not in await engagements.processors(
            self._db
        ):
            raise NotFound("processor publishing a sub-processor list", ref)
        return resolved

    async def _limit(self, email: str, client: str | None) -> None:
        wait = await self._limiter.retry_after(
            self._per_address, f"subscribe-email:{email.lower()}"
        )
        if wait:
            raise RateLimited(
                f"too many subscription requests for {email}; try again in {wait:.0f} s", wait
            )
        if client is not None:
            wait = await self._limiter.retry_after(self._per_client, f"subscribe-client:{client}")
            if wait:
                raise RateLimited(
                    f"too many subscription requests from your address; try again in {wait:.0f} s",
                    wait,
                )

    async def subscribe(
        self, processor_ref: str, email_text: str, digest: bool, client: str | None
    ) -> SubscribeResult:
        """Start a subscription and queue its confirmation; InvalidEmail, NotFound,
        RateLimited or SubscriptionsUnavailable when refused (nothing written)."""
        self._keyring()
        email = normalise_email(email_text)
        processor = await self.processor(processor_ref)
        await self._limit(email, client)
        return await self._db.write(
            mail.subscribe_in,
            subscriber_id(processor, email),
            processor,
            email,
            digest,
            str(uuid.uuid4()),
            self.confirm_within,
            dt.datetime.now(dt.UTC),
        )

    async def pending(self, token: str) -> Subscription | None:
        """The subscription a confirmation link names (InvalidLink, ExpiredLink); None when it
        is gone (unsubscribed, or erased)."""
        subscription = verify(self._keyring(), CONFIRM, token, time.time())
        return await self._db.read(mail.get_in, subscription)

    async def confirm(self, token: str) -> tuple[Subscription, bool] | None:
        """Confirm what a confirmation link names: it, and whether it was confirmed already;
        None when it is gone."""
        subscription = verify(self._keyring(), CONFIRM, token, time.time())
        return await self._db.write(mail.confirm_in, subscription, dt.datetime.now(dt.UTC))

    async def subscription(self, token: str) -> Subscription | None:
        """The subscription an unsubscribe link names; None when it is gone."""
        subscription = verify(self._keyring(), UNSUBSCRIBE, token, time.time())
        return await self._db.read(mail.get_in, subscription)

    async def unsubscribe(self, token: str) -> bool:
        """Erase what an unsubscribe link names; whether there was anything (InvalidLink)."""
        subscription = verify(self._keyring(), UNSUBSCRIBE, token, time.time())
        return await self._db.write(mail.remove_in, subscription)

    def form_token(self, processor_id: str) -> str:
        """The CSRF token of a processor's subscribe form (valid for an hour)."""
        expires = int(time.time()) + FORM_TOKEN_SECONDS
        return sign(self._key(), SUBSCRIBE_FORM, processor_id, expires)

    def check_form_token(self, processor_id: str, token: str) -> bool:
        """Whether `token` is a current subscribe-form token of this processor."""
        try:
            return verify(self._keyring(), SUBSCRIBE_FORM, token, time.time()) == processor_id
        except (InvalidLink, ExpiredLink):
            return False
