"""``/api/v1/districts/{district}/config``: the current configuration, put (validated, every
problem with its path), versions, diff and restore."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from rostersync import manage
from rostersync.admin.secrets import lookup_for
from rostersync.config import DistrictConfig, validate_config
from rostersync.connectors.base import ConnectionReport
from rostersync.errors import ConfigValidationError, Problem, VersionNotFound
from rostersync.sync.run import ensure_district, save_config
from rostersync.sync.sources import connector_for
from rostersync.web.api_v1._core import (
    ApiError,
    ApiRoute,
    CallerDep,
    NewerVersion,
    OlderVersion,
    Version,
    district_for,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.models import (
    ConfigDiffOut,
    ConfigOut,
    ConfigVersionOut,
    ConnectionReportOut,
)

router = APIRouter(route_class=ApiRoute, tags=["configuration"])
BASE = "/districts/{district}/config"


def _info(info: manage.ConfigVersionInfo) -> ConfigVersionOut:
    return ConfigVersionOut.model_validate(info.as_dict())


def store_references_only(config: DistrictConfig, section: str = "") -> None:
    """A district admin's configuration names its secrets as ``store:NAME`` only.

    ``env:`` and ``file:`` are read on the server, so through the API they would let an admin
    without a shell send the server's environment variables or files (its keys among them) to
    a URL of their choosing; operators, who run the installation, may still use them.
    """
    found: list[tuple[str, str | None]] = [
        (f"sources[{i}].delivery.client_secret", source.delivery.client_secret)
        for i, source in enumerate(config.sources)
        if source.delivery is not None
    ]
    notifications = config.notifications
    found += [("notifications.webhook_secret", notifications.webhook_secret)]
    found += [
        (f"notifications.webhooks[{i}].secret", hook.secret)
        for i, hook in enumerate(notifications.webhooks)
    ]
    problems = [
        Problem(path, "refers to a secret outside the secret store: use store:NAME")
        for path, ref in found
        if ref is not None and not ref.startswith("store:") and path.startswith(section)
    ]
    if problems:
        raise ConfigValidationError("the request body", problems)


@router.get(BASE, response_model=ConfigOut)
def get_config(request: Request, caller: CallerDep, district: str) -> ConfigOut:
    """The district's newest configuration."""
    d = district_for(store_of(request), caller, district, "read")
    info, body = manage.get_config_version(store_of(request), d.id)
    return ConfigOut(info=_info(info), body=body)


@router.put(BASE, response_model=ConfigVersionOut)
def put_config(
    request: Request,
    caller: CallerDep,
    district: str,
    body: Annotated[dict[str, Any], Body(description="the district configuration, as JSON")],
) -> ConfigVersionOut:
    """Validate a configuration and save it as the district's newest version.

    422 lists every problem with its path (``sources[0].url``…). ``district`` may be left out;
    when given it must be this district's name. An unchanged configuration keeps its version.
    """
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    named = body.setdefault("district", d.name)
    if named != d.name:
        raise ConfigValidationError(
            "the request body",
            [Problem("district", f"is {named!r}, but this is district {d.name!r}")],
        )
    config = validate_config(body, "the request body")
    if caller.account.role != "operator":
        store_references_only(config)
    ensure_district(store, config)  # its sources, as a sync would add them
    newest: int | None = None
    with contextlib.suppress(VersionNotFound):  # none yet: the district's first configuration
        newest = manage.get_config_version(store, d.id)[0].version
    version = save_config(store, d.id, config, caller.actor)
    if version != newest:
        store.audit(caller.actor, "config.put", d.id, version=version, was=newest)
    return _info(manage.get_config_version(store, d.id, version)[0])


@router.get(BASE + "/versions", response_model=list[ConfigVersionOut])
def list_config_versions(
    request: Request, caller: CallerDep, district: str
) -> list[ConfigVersionOut]:
    """Every stored configuration version, newest first."""
    d = district_for(store_of(request), caller, district, "read")
    return [_info(i) for i in manage.list_config_versions(store_of(request), d.id)]


@router.get(BASE + "/versions/{version}", response_model=ConfigOut)
def get_config_version(
    request: Request, caller: CallerDep, district: str, version: Version
) -> ConfigOut:
    d = district_for(store_of(request), caller, district, "read")
    info, body = manage.get_config_version(store_of(request), d.id, version)
    return ConfigOut(info=_info(info), body=body)


@router.get(BASE + "/diff", response_model=ConfigDiffOut)
def diff_config(
    request: Request,
    caller: CallerDep,
    district: str,
    a: OlderVersion,
    b: NewerVersion,
) -> ConfigDiffOut:
    """What changed from version ``a`` to ``b``: per path, and as a unified diff."""
    d = district_for(store_of(request), caller, district, "read")
    diff = manage.diff_config_versions(store_of(request), d.id, a, b)
    return ConfigDiffOut.model_validate(diff.as_dict())


@router.post(BASE + "/versions/{version}/restore", response_model=ConfigVersionOut)
def restore_config(
    request: Request, caller: CallerDep, district: str, version: Version
) -> ConfigVersionOut:
    """Save version ``version``'s content as the newest version."""
    d = district_for(store_of(request), caller, district, "write")
    return _info(manage.restore_config_version(store_of(request), caller.actor, d.id, version))


@router.post(BASE + "/test", response_model=ConnectionReportOut)
def connection_test(
    request: Request,
    caller: CallerDep,
    district: str,
    source: Annotated[str | None, Query(description="a source's name (default: the first)")] = None,
) -> ConnectionReportOut:
    """Test the connection of a source of the newest configuration: reachability, credentials,
    access to every field it reads. A failed test is a 200 with ``ok: false`` and what is wrong."""
    store = store_of(request)
    settings = settings_of(request)
    d = district_for(store, caller, district, "write")  # it sends the source's secret out
    info, body = manage.get_config_version(store, d.id)
    config = validate_config(body, f"configuration version {info.version}")
    indexed = [(i, s) for i, s in enumerate(config.sources) if source in (None, s.name)]
    if not indexed:
        raise ApiError(422, "invalid_input", f"source: {source!r} is not in the configuration")
    index, chosen = indexed[0]
    lookup = lookup_for(store, settings, d.id)

    async def run() -> ConnectionReport:
        connector, client = connector_for(chosen, settings, index=index, store_lookup=lookup)
        try:
            return await connector.test_connection()
        finally:
            await client.aclose()

    report = asyncio.run(run())
    return ConnectionReportOut.model_validate({"source": chosen.name, **report.to_dict()})
