"""LDAP / Active Directory connector: paged searches of students and staff, bound with a stored
secret, mapped onto canonical users with their groups as a filterable attribute.

Public API: :class:`LdapConnector` (registered in the ``rostersync.connectors`` entry-point group
as ``ldap``), :class:`LdapOptions` and :func:`parse_options`.
"""

from __future__ import annotations

from rostersync.connectors.ldap.config import GroupOptions, LdapOptions, PeopleSearch, parse_options
from rostersync.connectors.ldap.connector import LdapConnector

__all__ = ["GroupOptions", "LdapConnector", "LdapOptions", "PeopleSearch", "parse_options"]
