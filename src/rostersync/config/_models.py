"""The district configuration: one file per district, one entry per activated source app.

Every step of the admin's journey has its section, named as the admin knows it: ``sync_mode``,
``delivery``, ``advanced``, ``schools_mapping``, ``attribute_mapping``, ``data_requirements``,
``filter_rules``, ``uniqueness_domains``, ``master_fields``, ``sync_schedule``,
``notifications``. These models check shapes and types; :mod:`rostersync.config._validate` adds
the checks that need the canonical model (attribute names, regexes, templates, sources).

The sections acted on by other packages — ``hold_threshold``, ``sync_schedule`` and
``notifications`` — are declared in :mod:`rostersync.config._sections`; those packages import them
from here.

``hold_threshold`` is a district setting (one decision per district run). A source's
``advanced.hold_threshold`` is still read, with a :class:`ConfigDeprecationWarning`, and becomes
the district's when the district gives none; sources that disagree are a configuration error.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rostersync.config._rules import Condition, FilterRule
from rostersync.config._sections import (
    HoldThreshold,
    NotificationsConfig,
    SyncSchedule,
    deprecated_setting,
)
from rostersync.config._transforms import MappingRule
from rostersync.errors import ConfigurationError

EntityTypeName = Literal["student", "contact", "teacher", "admin", "course", "class", "calendar"]
Requirement = Literal["report", "skip"]

PEOPLE_TYPES: Final = ("student", "contact", "teacher", "admin")
#: The domain of uniqueness people get when none is configured.
DEFAULT_PEOPLE_DOMAIN: Final = ("givenName", "familyName", "email")

SECRET_SCHEMES: Final = ("env", "file", "store")
_SECRET_REF = re.compile(r"^(env|file|store):(.+)$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Delivery(_Section):
    """Delivery config: where the source app's API is and the OAuth client to use."""

    url: str = Field(
        description="Service URL of the source app, e.g. https://sis.example.org "
        "(an LDAP source: ldap://host:389 or ldaps://host:636)."
    )
    client_id: str = Field(min_length=1, description="OAuth client ID.")
    client_secret: str = Field(
        description="OAuth client secret as a reference: env:NAME, file:PATH or store:NAME."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # ldap:// and ldaps:// are the servers of the `ldap` app (its connector checks them)
        if not re.match(r"^(https?|ldaps?)://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL (ldap:// or ldaps:// for LDAP)")
        return value.rstrip("/")

    @field_validator("client_secret")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not _SECRET_REF.match(value):
            raise ValueError(
                "plain-text secrets are refused: write a reference such as "
                "env:PS_CLIENT_SECRET, file:/run/secrets/ps or store:NAME and keep the "
                "secret there"
            )
        return value


class ContactNameRule(_Section):
    """How a legacy single-string contact name splits into first, middle and last names."""

    pattern: str = Field(
        "{last}{sep}{first}",
        description="Placeholders {first} {middle} {last} joined by {sep}.",
    )
    separator: str = Field(",", min_length=1, description="The separator character.")


class Advanced(_Section):
    """Advanced settings of a source."""

    contact_module: bool = Field(False, description="Use the PowerSchool Contacts module.")
    contact_filter: Condition | None = Field(
        None, description="With the contact module on: keep only contacts matching this."
    )
    contact_name_rule: ContactNameRule = Field(
        default_factory=ContactNameRule,
        description="With the contact module off: how to split legacy contact names.",
    )
    sync_co_teachers: bool = Field(True, description="Sync co-teachers of classes.")
    bulk_upload: bool = Field(
        False,
        description=(
            "Detect deletions against the last accepted upload: a record the source stops "
            "sending is deleted. Sources that always send a complete snapshot (PowerSchool) "
            "delete what they stop sending whatever this says."
        ),
    )
    multiple_sources: bool = Field(
        False,
        description=(
            "Data comes from several sources: this source's records are matched with those of "
            "the other sources that say so by their common domains of uniqueness."
        ),
    )
    compare_by_uniqueness: bool = Field(True, description="Merge records equal on a domain.")
    preview: bool = Field(False, description="Every sync waits for approval.")
    hold_threshold: HoldThreshold = Field(
        default_factory=HoldThreshold,
        exclude=True,
        description=(
            "Deprecated: write the district's top-level `hold_threshold`. Read as the "
            "district's when it has none; afterwards it holds the district's value."
        ),
    )
    sis_prefix: str = Field(
        "", pattern=r"^[A-Za-z0-9_.:-]*$", description="Prefix of every ID of this source."
    )


class SchoolMapping(_Section):
    """One mapped school: its ID in the source, optionally renamed or merged onto a target."""

    source_id: str = Field(description="School ID in the source (sourceId or school number).")
    target: str | None = Field(
        None,
        description="Another mapped school's ID to merge onto, or a new name for this school.",
    )

    @field_validator("source_id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class SourceConfig(_Section):
    """One activated source app and every rule applied to its data."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_-]*$", description="Source name; the `source` of its records."
    )
    app: str = Field(min_length=1, description="Connector name, e.g. powerschool.")
    sync_mode: Literal["import", "two_way"] = Field("import", description="import or two_way.")
    delivery: Delivery | None = Field(
        None,
        description=(
            "Service URL and OAuth client; required by apps that read a service, refused by "
            "apps that read files (e.g. oneroster_csv)."
        ),
    )
    connector: dict[str, Any] = Field(
        default_factory=dict, description="App-specific options, checked by the connector."
    )
    advanced: Advanced = Field(default_factory=Advanced, description="Advanced settings.")
    schools_mapping: Literal["auto"] | list[SchoolMapping] = Field(
        "auto", description="auto (all schools) or a list of schools."
    )
    attribute_mapping: dict[EntityTypeName, dict[str, MappingRule]] = Field(
        default_factory=dict, description="Per entity type: attribute ← source field/transform."
    )
    data_requirements: dict[EntityTypeName, dict[str, Requirement]] = Field(
        default_factory=dict, description="Per entity type: attribute → report or skip."
    )
    filter_rules: dict[EntityTypeName, list[FilterRule]] = Field(
        default_factory=dict, description="Per entity type: templates and custom rules."
    )
    uniqueness_domains: dict[EntityTypeName, list[str]] = Field(
        default_factory=dict, description="Per entity type: attributes identifying a record."
    )

    def require_delivery(self) -> Delivery:
        """The delivery of a source whose app reads a service (a clear error when absent)."""
        if self.delivery is None:
            raise ConfigurationError(
                f"source {self.name!r} (app {self.app}) has no delivery",
                setting=f"sources.{self.name}.delivery",
                hint="give its service URL, OAuth client ID and client secret reference",
            )
        return self.delivery

    def domains(self) -> dict[str, list[str]]:
        """The configured domains, people default to name + email (whether or not records are
        compared by them: re-linking uses them as its default keys)."""
        out: dict[str, list[str]] = {t: list(DEFAULT_PEOPLE_DOMAIN) for t in PEOPLE_TYPES}
        out.update({t: list(attrs) for t, attrs in self.uniqueness_domains.items()})
        return {t: attrs for t, attrs in out.items() if attrs}

    def effective_domains(self) -> dict[str, list[str]]:
        """The domains dedup uses: configured ones, people default to name + email."""
        if not self.advanced.compare_by_uniqueness:
            return {}
        return self.domains()


class Relinking(_Section):
    """Re-linking when IDs change: a record that disappears while one that appears matches it
    on the secondary keys keeps its sourcedId (an update, not a deletion plus a creation)."""

    enabled: bool = Field(True, description="Re-link records whose ID changed in the source.")
    min_confidence: float = Field(
        1.0,
        ge=0.5,
        le=1.0,
        description=(
            "Share of the keys that must be equal (and not empty) on both records, from 0.5 "
            "to 1.0 (all of them)."
        ),
    )
    keys: dict[EntityTypeName, list[str]] = Field(
        default_factory=dict,
        description=(
            "Per entity type: the secondary keys compared (e.g. metadata.stateId, email, "
            "givenName, familyName, birthDate); default: the type's domain of uniqueness."
        ),
    )

    @field_validator("keys")
    @classmethod
    def _some_keys(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for etype, attrs in value.items():
            if not attrs:
                raise ValueError(f"keys.{etype} is empty: give at least one attribute")
        return value


class DistrictConfig(_Section):
    """The whole configuration of one district."""

    district: str = Field(min_length=1, description="District name.")
    sources: list[SourceConfig] = Field(min_length=1, description="Activated source apps.")
    master_fields: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Per entity (type or table), per attribute: sources in order of priority.",
    )
    hold_threshold: HoldThreshold = Field(
        default_factory=HoldThreshold,
        description="Hold a sync whose changes exceed these limits until an admin approves it.",
    )
    sync_schedule: SyncSchedule = Field(
        default_factory=SyncSchedule, description="When the district syncs by itself."
    )
    notifications: NotificationsConfig = Field(
        default_factory=NotificationsConfig, description="Who is told about runs, and how."
    )
    relinking: Relinking = Field(
        default_factory=Relinking,
        description="Keep a record's sourcedId when the source renumbers it (reported).",
    )
    deletion_retention_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="Days a deleted record stays readable over the OneRoster REST API as "
        "tobedeleted (with its deletion time as dateLastModified) before it answers 404.",
    )

    @model_validator(mode="after")
    def _district_hold_threshold(self) -> DistrictConfig:
        given = [
            (i, s.advanced.hold_threshold)
            for i, s in enumerate(self.sources)
            if "hold_threshold" in s.advanced.model_fields_set
        ]
        for i, _ in given:
            deprecated_setting(f"sources[{i}].advanced.hold_threshold", "hold_threshold")
        if given:
            at_top = "hold_threshold" in self.model_fields_set
            first, value = (-1, self.hold_threshold) if at_top else given[0]
            where = "hold_threshold" if at_top else f"sources[{first}].advanced.hold_threshold"
            for i, other in given:
                if other != value:
                    raise ValueError(
                        f"sources[{i}].advanced.hold_threshold differs from {where}: the hold "
                        "threshold is one per district; keep one top-level `hold_threshold`"
                    )
            self.hold_threshold = value
        for s in self.sources:  # readers of the old place see the district's value
            s.advanced.hold_threshold = self.hold_threshold
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)
