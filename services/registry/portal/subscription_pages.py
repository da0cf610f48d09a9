"""The subscription routes: the subscribe form's POST, confirming, and unsubscribing.

POST /processors/{processor}/subscribe takes the page's form (email, digest, token). The form
is protected without a session: its token is signed for the processor and expires after an
hour, and a request whose Origin (or Sec-Fetch-Site) shows another site is refused.

GET /subscriptions/confirm?token=... shows a button that POSTs back: a mail scanner that
follows links does not confirm a subscription nobody asked for. /subscriptions/unsubscribe
works the same way for people, and takes RFC 8058's one-click POST
(`List-Unsubscribe=One-Click`) from mail clients: the signed token in the URL is the authority,
no cookie or form token is needed, and the address is erased at once.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from schema.errors import DatabaseUnavailable, NotFound, RopaError
from schema.mail_links import ExpiredLink, InvalidLink
from schema.subscriptions import InvalidEmail, RateLimited, SubscriptionsUnavailable
from services.registry.client_address import client_address
from services.registry.portal.links import lists_public, page_path, public_base
from services.registry.portal.render import page, problem, unpublished
from services.registry.portal.subscribe import Subscriptions

_UNAVAILABLE = "The register's database cannot be reached just now; please try again shortly."


def _subscriptions(request: Request) -> Subscriptions:
    found: Subscriptions = request.app.state.subscriptions
    return found


def _same_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    allowed = {str(request.base_url).rstrip("/"), public_base(request)}
    return origin.rstrip("/") in allowed


async def subscribe_form(request: Request) -> Response:
    """The subscribe form's POST: a confirmation mail is queued, or a clear refusal."""
    if not lists_public(request):
        return unpublished(request)
    subscriptions = _subscriptions(request)
    ref = request.path_params["processor"]
    form = await request.form()
    email, token = str(form.get("email") or ""), str(form.get("token") or "")
    digest = form.get("digest") == "on"
    try:
        processor = await subscriptions.processor(ref)
        if not _same_origin(request) or not subscriptions.check_form_token(processor, token):
            return problem(
                request,
                403,
                "Form expired",
                "This form has expired or was not sent from this site. Go back to the "
                "processor's page, reload it and try again.",
            )
        result = await subscriptions.subscribe(
            processor, email, digest, client_address(request.scope)
        )
    except NotFound as missing:
        return problem(request, 404, "No such processor", f"{missing}.")
    except InvalidEmail as invalid:
        return problem(request, 400, "Not an e-mail address", str(invalid))
    except RateLimited as limited:
        response = problem(request, 429, "Too many requests", str(limited))
        response.headers["retry-after"] = str(max(1, round(limited.retry_after)))
        return response
    except SubscriptionsUnavailable as off:
        return problem(request, 503, "Not available", str(off))
    except DatabaseUnavailable:
        return problem(request, 503, "Service unavailable", _UNAVAILABLE)
    return page(
        request,
        "message.html",
        title="Check your e-mail",
        message=result.message,
        back=page_path(processor),
    )


def _link_problem(request: Request, error: RopaError) -> Response:
    status = 410 if isinstance(error, ExpiredLink) else 400
    title = "Link expired" if status == 410 else "Link not valid"
    return problem(request, status, title, str(error).capitalize() + ".")


async def confirm(request: Request) -> Response:
    """GET: a button to confirm; POST: confirm the subscription the link names."""
    subscriptions = _subscriptions(request)
    token = request.query_params.get("token", "")
    try:
        if request.method == "GET":
            found = await subscriptions.pending(token)
            if found is None:
                return _gone(request)
            if found.confirmed:
                return _already_confirmed(request, found.processor_id)
            return page(
                request,
                "confirm.html",
                title="Confirm your subscription",
                email=found.email,
                action=f"/subscriptions/confirm?token={token}",
                back=page_path(found.processor_id),
            )
        outcome = await subscriptions.confirm(token)
    except (InvalidLink, ExpiredLink) as bad:
        return _link_problem(request, bad)
    except (SubscriptionsUnavailable, DatabaseUnavailable) as down:
        return problem(request, 503, "Not available", str(down))
    if outcome is None:
        return _gone(request)
    subscription, was_confirmed = outcome
    if was_confirmed:
        return _already_confirmed(request, subscription.processor_id)
    return page(
        request,
        "message.html",
        title="Subscribed",
        message=f"{subscription.email} will be told of every change to this list. Each "
        "message has a link to unsubscribe.",
        back=page_path(subscription.processor_id),
    )


def _gone(request: Request) -> Response:
    return problem(
        request,
        410,
        "No such subscription",
        "This subscription no longer exists (it was cancelled); subscribe again if you wish.",
    )


def _already_confirmed(request: Request, processor_id: str) -> Response:
    return page(
        request,
        "message.html",
        status=409,
        title="Already confirmed",
        message="This link was already used: the subscription is confirmed. Nothing changed.",
        back=page_path(processor_id),
    )


async def unsubscribe(request: Request) -> Response:
    """GET: a button to unsubscribe; POST (a person, or RFC 8058 one-click): erase it."""
    subscriptions = _subscriptions(request)
    token = request.query_params.get("token", "")
    try:
        if request.method == "GET":
            found = await subscriptions.subscription(token)
            if found is None:
                return _gone(request)
            return page(
                request,
                "unsubscribe.html",
                title="Unsubscribe",
                email=found.email,
                action=f"/subscriptions/unsubscribe?token={token}",
            )
        existed = await subscriptions.unsubscribe(token)
    except (InvalidLink, ExpiredLink) as bad:
        return _link_problem(request, bad)
    except (SubscriptionsUnavailable, DatabaseUnavailable) as down:
        return problem(request, 503, "Not available", str(down))
    message = (
        "You are unsubscribed: your address has been erased from this registry."
        if existed
        else "This address was already unsubscribed and erased."
    )
    return page(request, "message.html", title="Unsubscribed", message=message, back=None)


ROUTES = [
    Route("/processors/{processor}/subscribe", subscribe_form, methods=["POST"]),
    Route("/subscriptions/confirm", confirm, methods=["GET", "POST"]),
    Route("/subscriptions/unsubscribe", unsubscribe, methods=["GET", "POST"]),
]
