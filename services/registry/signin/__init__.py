"""Sign-in for people: OpenID Connect (code flow with PKCE) and signed session cookies.

config.py checks the settings, mapping.py turns claims into a role and registers, session.py
reads and writes the session, routes.py serves /auth/*, guard.py applies the session rules
(expiry, CSRF) to /graphql. See the README's "Sign-in" section.
"""
