"""The web layer: blueprints (public, staff, api), forms, login, security headers, errors and
the per-request database connection."""
