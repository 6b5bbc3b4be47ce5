"""``/api/v1/districts/{district}/notifications``: who is told about runs, and *send test*."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request

from rostersync.admin.secrets import lookup_for
from rostersync.config import NotificationsConfig, validate_config
from rostersync.manage.notifications import get_notifications, send_test, set_notifications
from rostersync.web.api_v1._core import (
    ApiRoute,
    CallerDep,
    district_for,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.configs import store_references_only
from rostersync.web.api_v1.models import ConfigVersionOut, Model

router = APIRouter(route_class=ApiRoute, tags=["notifications"])
BASE = "/districts/{district}/notifications"


class DeliveryOut(Model):
    channel: Literal["email", "webhook"]
    target: str
    status: str
    http_status: int | None
    error: str | None
    at: datetime


class TestSentOut(Model):
    delivered: int
    failed: int
    deliveries: list[DeliveryOut]


@router.get(BASE, response_model=NotificationsConfig)
def get_recipients(request: Request, caller: CallerDep, district: str) -> Any:
    """The ``notifications`` section: email recipients, webhooks, which runs they hear about.
    Webhook secrets appear as references (``store:NAME``), never as values."""
    d = district_for(store_of(request), caller, district, "read")
    return get_notifications(store_of(request), d.id)


@router.put(BASE, response_model=ConfigVersionOut)
def put_recipients(
    request: Request,
    caller: CallerDep,
    district: str,
    body: Annotated[
        dict[str, Any],
        Body(
            description="the `notifications` section",
            examples=[{"emails": ["it@district.example"], "on_held": True}],
        ),
    ],
) -> Any:
    """Set who is told about runs: saved as a new configuration version (422 names every
    problem, e.g. ``notifications.emails``)."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    if caller.account.role != "operator":
        # the rule of a whole configuration put, checked before anything is saved
        _, current = store.get_config_version(d.id)
        changed = validate_config({**current, "notifications": body}, "the request body")
        store_references_only(changed, section="notifications")
    return set_notifications(store, caller.actor, d.id, body).as_dict()


@router.post(BASE + "/test", response_model=TestSentOut)
def send_test_message(request: Request, caller: CallerDep, district: str) -> Any:
    """Send a test message to every recipient now (one try each) and say how each went.
    A failed delivery is a 200 naming the failure; 422 when there are no recipients."""
    store, settings = store_of(request), settings_of(request)
    d = district_for(store, caller, district, "write")
    deliveries = send_test(
        store, settings, caller.actor, d.id, store_lookup=lookup_for(store, settings, d.id)
    )
    return TestSentOut(
        delivered=sum(x.status == "delivered" for x in deliveries),
        failed=sum(x.status != "delivered" for x in deliveries),
        deliveries=[
            DeliveryOut(
                channel=x.channel,
                target=x.target,
                status=x.status,
                http_status=x.http_status,
                error=x.error,
                at=x.at,
            )
            for x in deliveries
        ],
    )
