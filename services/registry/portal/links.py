"""Where the portal's pages are, as paths and as absolute URLs (ROPA_PUBLIC_URL, if set)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request

from schema.access.policy import PublicReads


def page_path(processor_id: str) -> str:
    """Where the processor's page is served."""
    return f"/processors/{quote(processor_id, safe='')}"


def feed_path(processor_id: str) -> str:
    """Where the processor's Atom feed is served."""
    return f"/feeds/subprocessors/{quote(processor_id, safe='')}.atom"


def lists_public(request: Request) -> bool:
    """Whether this registry publishes sub-processor lists to anyone (ROPA_PUBLIC_READS is not
    `none`): the portal's pages and forms answer only then."""
    settings = request.app.state.settings
    return bool(settings.public_reads is not PublicReads.NONE)


def public_base(request: Request) -> str:
    """The registry's public URL without a trailing slash: ROPA_PUBLIC_URL, else as requested."""
    configured: str | None = getattr(request.app.state.settings, "public_url", None)
    return (configured or str(request.base_url)).rstrip("/")
