"""The web shell: app factory, access control, sessions, error pages, core pages and API."""
