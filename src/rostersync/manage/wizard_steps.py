"""The wizard's steps in the seed's order, what each one writes, and the Application Gallery.

A step names the configuration sections it writes — the same keys as the YAML file, on the
source (``delivery``, ``schools_mapping``…) or on the district (``hold_threshold``,
``master_fields``, ``sync_schedule``…) — and the help the admin reads on its page. The gallery
lists the installed connectors (the ``rostersync.connectors`` entry-point group), each card with
its title, what it does and what it can do.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, get_args

from rostersync.config import SourceConfig, installed_apps
from rostersync.connectors import get_connector_class
from rostersync.errors import ConfigurationError, ConfigValidationError, Problem

#: A source's name, as the configuration requires it.
SOURCE_NAME: Final = re.compile(r"^[a-z][a-z0-9_-]*$")
SYNC_MODES: Final = get_args(SourceConfig.model_fields["sync_mode"].annotation)


@dataclass(frozen=True)
class Step:
    """One step of the journey: its key, title, help, and the sections it writes."""

    key: str
    title: str
    help: str
    source_keys: tuple[str, ...] = ()
    district_keys: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "help": self.help,
            "settings": [*self.source_keys, *self.district_keys],
        }

    def check_keys(self, values: Mapping[str, Any], *, new_source: bool) -> None:
        """Every key of ``values`` is a setting of this step; else each one is named."""
        allowed = {"name", *self.source_keys, *self.district_keys}
        if new_source and self.key in ("activate", "sync_mode", "delivery"):
            allowed |= {"app", "sync_mode"}
        unknown = sorted(str(k) for k in values if k not in allowed)
        if unknown:
            listed = ", ".join(sorted(allowed))
            raise ConfigValidationError(
                f"the {self.title} step",
                [
                    Problem(k, f"is not a setting of this step (its settings: {listed})")
                    for k in unknown
                ],
            )

    def apply(
        self, work: dict[str, Any], source: dict[str, Any], values: Mapping[str, Any]
    ) -> str | None:
        """Write the step's sections into the configuration; the typed client secret, if any."""
        secret: str | None = None
        for key in self.source_keys:
            if key not in values:
                continue
            value = values[key]
            if key == "app" and value != source.get("app"):
                raise ConfigurationError(
                    f"Source {source.get('name')!r} is already activated as {source.get('app')!r}",
                    setting="app",
                    hint="activate the other app as a new source with its own name",
                )
            if key == "delivery" and isinstance(value, Mapping):
                merged = dict(source.get("delivery") or {})
                merged.update({k: v for k, v in value.items() if k != "client_secret"})
                typed = value.get("client_secret")
                if isinstance(typed, str) and typed.strip():
                    secret = typed.strip()
                source["delivery"] = merged
            else:
                source[key] = value
        for key in self.district_keys:
            if key in values:
                work[key] = values[key]
        return secret


STEPS: Final[tuple[Step, ...]] = (
    Step(
        "activate",
        "Activate",
        "Activate the app for this district under a source name: the name every record from "
        "it carries as its source (lower-case letters, digits, '-' and '_').",
        ("app",),
    ),
    Step(
        "sync_mode",
        "Sync Mode",
        "Import brings the roster (and gradebook data) in. Two-way also writes data back to "
        "the SIS, which needs the SIS to grant write access.",
        ("sync_mode",),
    ),
    Step(
        "delivery",
        "Delivery Config",
        "Where the SIS is and the OAuth client it gave you: the server's address (without "
        "/ws/v1), the client ID and the client secret (kept encrypted in the secret store, "
        "never shown again). Advanced Settings change how records are read and compared; "
        "Test Connection checks all of it against the SIS.",
        ("delivery", "advanced", "connector"),
        ("hold_threshold",),
    ),
    Step(
        "schools_mapping",
        "Schools Mapping",
        "Choose the schools to sync, one by one (optionally under another name or merged "
        "onto another school), or AUTO MAPPING for every school the SIS lists.",
        ("schools_mapping",),
    ),
    Step(
        "attribute_mapping",
        "Attributes Mapping",
        "Per entity, which SIS field fills which attribute. Custom fields from extension "
        "tables are named TABLE.field; the field finder searches the SIS for them. FINISH "
        "is allowed from here on: the later steps keep their defaults.",
        ("attribute_mapping",),
    ),
    Step(
        "data_requirements",
        "Data Requirements",
        "Per attribute: report (keep the record and list it in the run's report) or skip "
        "(leave the record out and list it) when the value is missing.",
        ("data_requirements",),
    ),
    Step(
        "filter_rules",
        "Filter Rules",
        "For each of the seven entity types, ready-made templates or custom include/exclude "
        "conditions on any attribute. The counts show what each rule keeps and drops on the "
        "last extraction.",
        ("filter_rules",),
    ),
    Step(
        "uniqueness_domains",
        "Domains of Uniqueness",
        "Records equal on their domain are one record, never duplicates. People default to "
        "first name + last name + email; add birth date, grade, phone…",
        ("uniqueness_domains",),
    ),
    Step(
        "master_fields",
        "Master Fields",
        "With several sources: for each attribute, the sources in order of priority (the "
        "first one with a value wins).",
        (),
        ("master_fields",),
    ),
    Step(
        "sync_schedule",
        "Sync Schedule",
        "Daily or weekly at a time in the district's time zone, until an expiry date; a sync "
        "at 00:00 on the first day of school; who is told when new data is available.",
        (),
        ("sync_schedule", "notifications"),
    ),
    Step("done", "Done", "FINISH saves the configuration; RUN IMPORT syncs now."),
)

#: FINISH is allowed once this step is saved.
FINISH_AFTER: Final = "attribute_mapping"


def step_named(key: str) -> Step:
    """The step ``key``; a clear error listing the steps otherwise."""
    for s in STEPS:
        if s.key == key:
            return s
    raise ConfigurationError(
        f"No wizard step {key!r}",
        setting="step",
        hint="steps: " + ", ".join(s.key for s in STEPS),
    )


def check_activation(name: str, values: Mapping[str, Any], taken: list[str]) -> dict[str, Any]:
    """A new source's activation (name, app, sync mode), or every problem with it."""
    app = values.get("app")
    name = name or (str(app) if app else "")
    mode = values.get("sync_mode", "import")
    problems: list[Problem] = []
    if not SOURCE_NAME.match(name):
        problems.append(
            Problem("name", f"{name!r} is not a source name: lower-case letters, digits, - and _")
        )
    elif name in taken:
        problems.append(Problem("name", f"the district already has a source named {name!r}"))
    apps = installed_apps()
    if app not in apps:
        problems.append(Problem("app", f"{app!r} is not an installed app ({', '.join(apps)})"))
    if mode not in SYNC_MODES:
        problems.append(Problem("sync_mode", f"{mode!r} is not one of {', '.join(SYNC_MODES)}"))
    if problems:
        raise ConfigValidationError("the Activate step", problems)
    return {"name": name, "app": app, "sync_mode": mode}


@dataclass(frozen=True)
class AppCard:
    """An app of the Application Gallery."""

    app: str
    title: str
    summary: str
    capabilities: dict[str, bool]
    #: False for apps that read files: Delivery Config has no URL, client ID or secret.
    uses_delivery: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "title": self.title,
            "summary": self.summary,
            "capabilities": self.capabilities,
            "uses_delivery": self.uses_delivery,
        }


#: How words of an app's name are written on its card when its connector gives no title.
_WORDS: Final = {
    "ldap": "LDAP",
    "csv": "CSV",
    "rest": "REST",
    "oneroster": "OneRoster",
    "sis": "SIS",
}


def uses_delivery(app: str) -> bool:
    """Whether the app reads a service (Delivery Config: URL, client ID, secret) or files."""
    return bool(getattr(get_connector_class(app), "uses_delivery", True))


def gallery() -> list[AppCard]:
    """Every installed source app, as the gallery shows it."""
    cards = []
    for app in installed_apps():
        cls = get_connector_class(app)
        named = " ".join(_WORDS.get(w, w.capitalize()) for w in app.split("_"))
        title = getattr(cls, "title", None) or named
        doc = inspect.getdoc(cls) or ""
        caps = cls.capabilities
        cards.append(
            AppCard(
                app,
                str(title),
                doc.splitlines()[0] if doc else "",
                {
                    "complete_snapshot": caps.complete_snapshot,
                    "incremental": caps.incremental,
                    "write_back": caps.write_back,
                },
                uses_delivery(app),
            )
        )
    return cards


def app_card(app: str) -> AppCard:
    """The gallery card of ``app``; a clear error naming the installed apps otherwise."""
    for card in gallery():
        if card.app == app:
            return card
    raise ConfigurationError(
        f"No app {app!r} in the gallery",
        setting="app",
        hint="installed: " + ", ".join(installed_apps()),
    )
