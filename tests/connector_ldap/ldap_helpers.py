"""District configurations for an ``ldap`` source on the test directory."""

from __future__ import annotations

from typing import Any

from connector_ldap.district import STAFF, STUDENTS
from connector_ldap.slapd import READER_DN
from rostersync.config import SourceConfig, validate_config

#: Springfield's searches: students with their grade, staff with principals as administrators.
CONNECTOR: dict[str, Any] = {
    "district_name": "Springfield Public Schools",
    "school_names": {"101": "Springfield Elementary", "102": "Shelbyville Elementary"},
    "page_size": 7,
    "timeout_seconds": 10,
    "students": {
        "base_dn": STUDENTS,
        "school_attribute": "physicalDeliveryOfficeName",
        "attributes": {"grades": "departmentNumber"},
    },
    "staff": {
        "base_dn": STAFF,
        "school_attribute": "physicalDeliveryOfficeName",
        "roles_by_group": {"Principals": "administrator"},
    },
}


def source_body(
    url: str,
    *,
    secret: str = "env:LDAP_BIND_PASSWORD",
    bind_dn: str = READER_DN,
    name: str = "directory",
    **connector: Any,
) -> dict[str, Any]:
    """One ``ldap`` source entry (its ``connector:`` block over :data:`CONNECTOR`)."""
    return {
        "name": name,
        "app": "ldap",
        "delivery": {"url": url, "client_id": bind_dn, "client_secret": secret},
        "connector": {**CONNECTOR, **connector},
        "advanced": {"compare_by_uniqueness": False},
    }


def ldap_source(url: str, **kwargs: Any) -> SourceConfig:
    """A validated ``ldap`` source (through the district configuration's validation)."""
    body = {"district": "Springfield", "sources": [source_body(url, **kwargs)]}
    return validate_config(body, "test").sources[0]
