"""Signing in: passwords (argon2id), the second factor (TOTP), sessions, CSRF, rate limits,
the first administrator and the demo's accounts, and OIDC sign-in (docs/service.md).

Routes live in ``web/routes/auth.py`` (the sign-in steps) and ``web/routes/accounts.py`` (the
accounts API); what they do lives here, so that a test or the CLI can do it without HTTP.
"""
