"""The REST API (SPEC 11): `create_app(settings)` builds it; routes are thin edges."""
