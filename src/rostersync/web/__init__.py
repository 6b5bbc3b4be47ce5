"""The FastAPI application: the OneRoster provider now, admin routers mounted beside it later."""

from rostersync.web.app import create_app

__all__ = ["create_app"]
