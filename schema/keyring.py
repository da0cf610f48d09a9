"""The installation's secret keys: `ROPA_SECRET_KEY`, then the earlier values still accepted.

`ROPA_SECRET_KEY_PREVIOUS` lists earlier values of `ROPA_SECRET_KEY`, comma-separated. The
first key (the current one) seals and signs; every key opens and verifies: webhook signing
secrets at rest (graph.secret_box) until `ropa secrets rotate` has re-sealed them, and the
links of e-mails sent before a rotation (schema.mail_links), for as long as the earlier key
stays listed. Pure: no I/O.
"""

from __future__ import annotations

from pydantic import SecretStr


def secret_keys(current: SecretStr | None, previous: SecretStr | None = None) -> tuple[str, ...]:
    """The current key, then the earlier ones (blanks dropped); none when no current key."""
    text = current.get_secret_value().strip() if current is not None else ""
    if not text:
        return ()
    older = previous.get_secret_value() if previous is not None else ""
    return (text, *(k.strip() for k in older.split(",") if k.strip()))
