"""The OpenAPI description of the OneRoster provider: what a consumer (or a fuzzer) may send and
what it gets back, generated from the same tables the handler serves from.

FastAPI cannot see the provider's parameters, auth or bodies (one handler reads them from the
request for every endpoint), so each route gets its operation from here: path parameters, the
paging/filter/sort/fields parameters, the bearer / OAuth 2 client-credentials security, the
exact JSON objects of each resource (from the field catalogue), the paging headers, and the
``imsx_StatusInfo`` error payloads (1.1 wrapped in ``statusInfoSet``) of every refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI

from rostersync.export.oneroster.catalog import (
    DOTTED_ALIASES,
    RESOURCES,
    JsonField,
    Resource,
    Version,
)
from rostersync.export.oneroster.clients import SCOPE_PREFIXES
from rostersync.export.oneroster.protocol import MAX_LIMIT, MAX_PAGING, STATUS_OF

TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 (a path, not a secret)
_VTAG: Final[dict[Version, str]] = {"1.2": "1p2", "1.1": "1p1"}
SCOPES: Final = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
_SORTABLE_KINDS: Final = ("text", "date", "datetime", "boolstr", "ref")
#: An optional query parameter sent empty (``?sort=&limit=``) is served as if left out.
_EMPTY: Final = {"type": "string", "maxLength": 0}
_EMPTY_NOTE: Final = " Empty is the same as leaving it out."


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _guid_ref(version: Version) -> str:
    return f"OneRoster{_VTAG[version]}GUIDRef"


def _field_schema(field: JsonField, version: Version) -> dict[str, Any]:
    kind = field.kind
    if field.name == "status":
        return {"type": "string", "enum": ["active", "tobedeleted"]}
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "datetime":
        return {"type": "string", "format": "date-time"}
    if kind == "boolstr":
        return {"type": "string", "enum": ["true", "false"]}
    if kind == "list":
        return {"type": "array", "items": {"type": "string"}}
    if kind == "ref":
        return _ref(_guid_ref(version))
    if kind == "refs":
        return {"type": "array", "items": _ref(_guid_ref(version))}
    if kind == "userIds":
        return {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "identifier": {"type": "string"}},
                "required": ["type", "identifier"],
                "additionalProperties": False,
            },
        }
    if kind == "roles":
        return {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "roleType": {"type": "string", "enum": ["primary", "secondary"]},
                    "role": {"type": "string"},
                    "org": _ref(_guid_ref(version)),
                },
                "required": ["roleType", "role", "org"],
                "additionalProperties": False,
            },
        }
    if kind == "metadata":
        return {"type": "object"}
    return {"type": "string"}


def object_name(resource: Resource, version: Version) -> str:
    """The component name of a resource's JSON object in a version."""
    return f"OneRoster{_VTAG[version]}{resource.name[0].upper()}{resource.name[1:]}"


def object_schema(resource: Resource, version: Version) -> dict[str, Any]:
    """A resource's JSON object: every field it may carry, typed, and nothing else.

    No field is listed as required: ``fields`` selects which ones a response carries (and a
    field without a value is left out), so presence is the request's business.
    """
    return {
        "type": "object",
        "description": f"A OneRoster {version} {resource.name}.",
        "properties": {f.name: _field_schema(f, version) for f in resource.fields},
        "additionalProperties": False,
    }


def sortable(resource: Resource) -> list[str]:
    """The names ``sort`` accepts for a resource (scalar fields, ``ref.sourcedId``, aliases)."""
    names = [f.name for f in resource.fields if f.kind in _SORTABLE_KINDS and f.kind != "ref"]
    names += [f"{f.name}.sourcedId" for f in resource.fields if f.kind == "ref"]
    names += [
        alias
        for alias, column in DOTTED_ALIASES.get(resource.entity, {}).items()
        if not column.endswith("Ids")
    ]
    return names


def status_info_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "imsx_codeMajor": {"type": "string", "enum": ["failure", "unsupported"]},
            "imsx_severity": {"type": "string", "enum": ["error"]},
            "imsx_description": {"type": "string", "minLength": 1},
            "imsx_CodeMinor": {
                "type": "object",
                "properties": {
                    "imsx_codeMinorField": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "properties": {
                                "imsx_codeMinorFieldName": {"type": "string"},
                                "imsx_codeMinorFieldValue": {
                                    "type": "string",
                                    "enum": sorted(STATUS_OF),
                                },
                            },
                            "required": ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
                        },
                    }
                },
                "required": ["imsx_codeMinorField"],
            },
        },
        "required": ["imsx_codeMajor", "imsx_severity", "imsx_description", "imsx_CodeMinor"],
        "additionalProperties": False,
    }


def _error_name(version: Version) -> str:
    return "OneRoster1p2StatusInfo" if version == "1.2" else "OneRoster1p1StatusInfoSet"


def components() -> dict[str, Any]:
    """The schemas and security schemes the operations refer to."""
    schemas: dict[str, Any] = {
        "OneRoster1p2StatusInfo": status_info_schema(),
        "OneRoster1p1StatusInfoSet": {
            "type": "object",
            "properties": {
                "statusInfoSet": {
                    "type": "array",
                    "minItems": 1,
                    "items": status_info_schema(),
                }
            },
            "required": ["statusInfoSet"],
            "additionalProperties": False,
        },
        "OAuthError": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "string",
                    "enum": [
                        "invalid_request",
                        "invalid_client",
                        "unsupported_grant_type",
                        "invalid_scope",
                    ],
                },
                "error_description": {"type": "string", "minLength": 1},
            },
            "required": ["error", "error_description"],
            "additionalProperties": False,
        },
        "OAuthToken": {
            "type": "object",
            "properties": {
                "access_token": {"type": "string", "minLength": 1},
                "token_type": {"type": "string", "enum": ["bearer"]},
                "expires_in": {"type": "integer", "minimum": 1},
                "scope": {"type": "string"},
            },
            "required": ["access_token", "token_type", "expires_in", "scope"],
            "additionalProperties": False,
        },
    }
    for version in ("1.2", "1.1"):
        schemas[_guid_ref(version)] = {
            "type": "object",
            "properties": {
                "href": {"type": "string", "format": "uri"},
                "sourcedId": {"type": "string"},
                "type": {"type": "string"},
            },
            "required": ["href", "sourcedId", "type"],
            "additionalProperties": False,
        }
        for resource in RESOURCES[version].values():
            schemas[object_name(resource, version)] = object_schema(resource, version)
    return {
        "schemas": schemas,
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": f"An access token from POST {TOKEN_PATH}.",
            },
            "oauth2": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": TOKEN_PATH,
                        "scopes": {SCOPE_PREFIXES[0] + s: f"OneRoster {s}" for s in SCOPES},
                    }
                },
            },
            "clientBasic": {
                "type": "http",
                "scheme": "basic",
                "description": "The API client's id and secret (client_secret_basic).",
            },
        },
    }


def _error_response(version: Version, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(_error_name(version))}},
    }


def operation(
    path: str,
    version: Version,
    resource: Resource,
    *,
    single: bool,
    scopes: tuple[str, ...],
    may_be_missing: bool,
) -> dict[str, Any]:
    """The OpenAPI operation of one rostering GET endpoint (``openapi_extra`` of its route)."""
    fields_param = {
        "name": "fields",
        "in": "query",
        "required": False,
        "description": "The fields to return, comma-separated (default: all); empty entries "
        "are ignored.",
        "style": "form",
        "explode": False,
        "schema": {
            "type": "array",
            "items": {"type": "string", "enum": [*resource.field_names, ""]},
        },
    }
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": "A sourcedId.",
            "schema": {"type": "string", "minLength": 1},
        }
        for name in re.findall(r"{(\w+)}", path)
    ]
    params.append(fields_param)
    headers: dict[str, Any] = {}
    if single:
        body: dict[str, Any] = {
            "type": "object",
            "properties": {resource.single_key: _ref(object_name(resource, version))},
            "required": [resource.single_key],
            "additionalProperties": False,
        }
    else:
        body = {
            "type": "object",
            "properties": {
                resource.collection_key: {
                    "type": "array",
                    "items": _ref(object_name(resource, version)),
                }
            },
            "required": [resource.collection_key],
            "additionalProperties": False,
        }
        params += [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Page size (default 100; more than {MAX_LIMIT} is served as "
                f"{MAX_LIMIT}).{_EMPTY_NOTE}",
                "schema": {
                    "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_PAGING}, _EMPTY]
                },
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": f"Records to skip (default 0).{_EMPTY_NOTE}",
                "schema": {
                    "anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_PAGING}, _EMPTY]
                },
            },
            {
                "name": "filter",
                "in": "query",
                "required": False,
                "description": "field op 'value' clauses joined by AND / OR; op is one of "
                f"= != > >= < <= ~ (contains).{_EMPTY_NOTE}",
                "schema": {"type": "string"},
            },
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "description": f"The field to sort on.{_EMPTY_NOTE}",
                "schema": {"type": "string", "enum": [*sortable(resource), ""]},
            },
            {
                "name": "orderBy",
                "in": "query",
                "required": False,
                "description": f"asc or desc (any case).{_EMPTY_NOTE}",
                "schema": {"type": "string", "pattern": "^([aA][sS][cC]|[dD][eE][sS][cC])?$"},
            },
        ]
        headers = {
            "X-Total-Count": {
                "description": "Records in the whole (filtered) collection.",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            },
            "Link": {
                "description": "RFC 5988 first / prev / next / last pages.",
                "required": True,
                "schema": {"type": "string"},
            },
        }
    ok: dict[str, Any] = {
        "description": "The object." if single else "One page of the collection.",
        "content": {"application/json": {"schema": body}},
    }
    if headers:
        ok["headers"] = headers
    responses: dict[str, Any] = {
        "200": ok,
        "400": _error_response(
            version,
            "A parameter is invalid (invaliddata, invalid_*_field): the description says which.",
        ),
        "401": _error_response(version, "No, an invalid or an expired credential."),
        "403": _error_response(version, "The credential lacks the scope or sharing grant."),
        "500": _error_response(version, "The roster store could not answer."),
        "503": _error_response(version, "The roster is being republished; retry."),
    }
    if may_be_missing:
        responses["404"] = _error_response(version, "No such object (unknownobject).")
    full_scopes = [SCOPE_PREFIXES[0] + s for s in scopes]
    auth = f"Send Authorization: Bearer <token from POST {TOKEN_PATH}>" + (
        "; OneRoster 1.1 also accepts requests signed with OAuth 1.0a (HMAC-SHA256, in the "
        "Authorization header or the query), each nonce once."
        if version == "1.1"
        else "."
    )
    return {
        "description": f"Needs the scope {' or '.join(scopes)}. {auth}",
        "parameters": params,
        "security": [
            *({"oauth2": [s]} for s in full_scopes),
            {"bearer": []},
        ],
        "responses": responses,
    }


def token_operation() -> dict[str, Any]:
    """The OpenAPI operation of ``POST /oauth/token``."""

    def error(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": _ref("OAuthError")}},
        }

    return {
        "description": "OAuth 2 client credentials: the API client authenticates with HTTP "
        "Basic (or client_id/client_secret in the form) and gets a bearer token.",
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "scope": {
                                "type": "string",
                                "description": "Space-separated scopes (default: all granted).",
                            },
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                        },
                        "required": ["grant_type"],
                    }
                }
            },
        },
        "security": [{"clientBasic": []}, {}],
        "responses": {
            "200": {
                "description": "The access token.",
                "content": {"application/json": {"schema": _ref("OAuthToken")}},
            },
            "400": error("A malformed request, grant type or scope."),
            "401": error("Unknown client, wrong secret or expired client."),
        },
    }


def describe(app: FastAPI) -> None:
    """Add the provider's schemas and security schemes to the app's OpenAPI document."""
    previous: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = previous()
        comps = schema.setdefault("components", {})
        for key, values in components().items():
            comps.setdefault(key, {}).update(values)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
