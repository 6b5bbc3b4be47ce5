"""The wizard pages' HTML forms, read into the step values ``manage.wizard`` saves.

An HTML form posts flat fields; each step's reader turns them into the configuration sections
the step writes (the same shapes as the YAML file), and the settings' help comes from the
configuration models themselves (each setting is declared once, with its help). Fields are
named after the configuration paths they fill (``delivery.url``, ``advanced.preview``,
``map.student.0.field``…) so a validation problem can be shown next to its field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import UnionType
from typing import Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from starlette.datastructures import FormData

from rostersync.config import TEMPLATES, Advanced, SyncSchedule, fields
from rostersync.connectors import get_connector_class
from rostersync.errors import ConfigValidationError, Problem
from rostersync.manage.wizard_steps import uses_delivery

#: Blank attribute-mapping rows offered per entity type.
BLANK_ROWS: Final = 3
ENTITY_TYPES: Final = ("student", "contact", "teacher", "admin", "course", "class", "calendar")
OPERATORS: Final = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "greater_than",
    "less_than",
    "greater_or_equal",
    "less_or_equal",
    "between",
    "is_empty",
    "is_not_empty",
)


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1")


def kept_json(raw: str, field: str) -> Any:
    """A value the page carries as JSON (a rule or section the form cannot edit field by
    field), or a problem naming it."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigValidationError(
            "the form", [Problem(field, f"is not valid JSON ({exc})")]
        ) from None


def _scalar(raw: str) -> Any:
    """A number or boolean typed into a text box, as JSON reads it; else the text."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, int | float | bool) else raw


_SCALARS: Final = (str, int, float, type(None))


def _is_scalar(annotation: Any) -> bool:
    """Whether a setting is one value (a text box) rather than a list or a section (JSON)."""
    if annotation in _SCALARS:
        return True
    if get_origin(annotation) is Literal:
        return True
    if get_origin(annotation) in (Union, UnionType):
        return all(_is_scalar(a) for a in get_args(annotation))
    return False


def setting_fields(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A model's settings for a form: name, help, kind (checkbox, text or json) and default."""
    out = []
    for name, info in model.model_fields.items():
        if name in skip or info.exclude:
            continue
        kind = "checkbox" if info.annotation is bool else "text"
        if kind == "text" and not _is_scalar(info.annotation):
            kind = "json"
        default = info.get_default(call_default_factory=False)
        shown = default if isinstance(default, str | int | float | bool) else None
        out.append({"name": name, "help": info.description or "", "kind": kind, "default": shown})
    return out


ADVANCED: Final = setting_fields(
    Advanced, skip=("contact_filter", "contact_name_rule", "hold_threshold")
)


def connector_options(app: str | None) -> list[dict[str, Any]]:
    """Every option of the app's connector (``connector:``), when it declares them."""
    if not app:
        return []
    model = getattr(get_connector_class(app), "options_model", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return setting_fields(model)


def delivery_values(form: FormData, app: str | None) -> dict[str, Any]:
    """Delivery Config with Advanced Settings and the connector's options."""
    values: dict[str, Any] = {}
    if app is None or uses_delivery(app):
        values["delivery"] = {
            "url": text(form, "delivery.url"),
            "client_id": text(form, "delivery.client_id"),
            "client_secret": text(form, "delivery.client_secret"),
        }
    advanced: dict[str, Any] = {}
    for f in ADVANCED:
        key = f"advanced.{f['name']}"
        advanced[f["name"]] = checked(form, key) if f["kind"] == "checkbox" else text(form, key)
    advanced["contact_name_rule"] = {
        "pattern": text(form, "advanced.contact_name_rule.pattern") or "{last}{sep}{first}",
        "separator": text(form, "advanced.contact_name_rule.separator") or ",",
    }
    values["advanced"] = advanced
    options: dict[str, Any] = {}
    for f in connector_options(app):
        key = f"connector.{f['name']}"
        if f["kind"] == "checkbox":
            options[f["name"]] = checked(form, key)
        elif f["kind"] == "json" and text(form, key):
            options[f["name"]] = kept_json(text(form, key), key)
        elif text(form, key):
            options[f["name"]] = _scalar(text(form, key))
    values["connector"] = options
    threshold: dict[str, Any] = {}
    for name in ("delete_percent", "update_percent", "create_percent"):
        raw = text(form, f"hold_threshold.{name}")
        threshold[name] = _scalar(raw) if raw else None
    values["hold_threshold"] = threshold
    for pending in ("app", "sync_mode", "name"):
        if text(form, pending):
            values[pending] = text(form, pending)
    return values


def schools_values(form: FormData, school_ids: list[str]) -> dict[str, Any]:
    if text(form, "mode") == "auto":
        return {"schools_mapping": "auto"}
    chosen = []
    for sid in school_ids:
        if checked(form, f"school.{sid}.include"):
            target = text(form, f"school.{sid}.target")
            chosen.append({"source_id": sid, **({"target": target} if target else {})})
    return {"schools_mapping": chosen}


def _rows(form: FormData, prefix: str) -> dict[str, dict[str, str]]:
    """``prefix.<n>.<part>`` fields grouped by row number."""
    rows: dict[str, dict[str, str]] = {}
    for key in form:
        if key.startswith(prefix + "."):
            row, _, part = key[len(prefix) + 1 :].partition(".")
            rows.setdefault(row, {})[part] = text(form, key)
    return dict(sorted(rows.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0))


def parse_transforms(raw: str) -> list[Any]:
    """``trim | lower | regex_extract: ^([^@]+)`` → transforms as the file writes them."""
    out: list[Any] = []
    for part in (p.strip() for p in raw.split("|")):
        if not part:
            continue
        op, sep, arg = part.partition(":")
        out.append({op.strip(): arg.strip()} if sep else op.strip())
    return out


def show_transforms(rule: Any) -> str:
    """The transforms of a stored rule in the form's ``a | b: arg`` notation."""
    if not isinstance(rule, Mapping):
        return ""
    parts = []
    for t in rule.get("transforms") or []:
        if isinstance(t, str):
            parts.append(t)
        elif isinstance(t, Mapping) and len(t) == 1:
            op, arg = next(iter(t.items()))
            parts.append(f"{op}: {arg}" if isinstance(arg, str) else json.dumps({op: arg}))
    return " | ".join(parts)


def mapping_values(form: FormData) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for etype in ENTITY_TYPES:
        for row in _rows(form, f"map.{etype}").values():
            attribute = row.get("attribute", "")
            if not attribute or row.get("remove") == "on":
                continue
            if row.get("json"):
                kept = kept_json(row["json"], f"map.{etype}.{attribute}")
                out.setdefault(etype, {})[attribute] = kept
                continue
            source = row.get("field", "")
            transforms = parse_transforms(row.get("transforms", ""))
            rule: Any = {"field": source, "transforms": transforms} if transforms else source
            out.setdefault(etype, {})[attribute] = rule
    return {"attribute_mapping": out}


def requirements_values(form: FormData) -> dict[str, Any]:
    out: dict[str, dict[str, str]] = {}
    for etype in ENTITY_TYPES:
        for attribute in fields.attribute_dtypes(etype):
            choice = text(form, f"req.{etype}.{attribute}")
            if choice:
                out.setdefault(etype, {})[attribute] = choice
    return {"data_requirements": out}


def _condition(kind: str, row: Mapping[str, str]) -> dict[str, Any]:
    op = row.get("op", "equals")
    raw = row.get("value", "")
    value: Any = raw
    if op in ("in", "not_in", "between"):
        value = [v.strip() for v in raw.split(",") if v.strip()]
    leaf: dict[str, Any] = {"attribute": row.get("attribute", ""), "op": op}
    if op not in ("is_empty", "is_not_empty"):
        leaf["value"] = value
    rule: dict[str, Any] = {kind: leaf}
    if row.get("name"):
        rule["name"] = row["name"]
    return rule


def filter_values(form: FormData) -> dict[str, Any]:
    """Kept rules, then the template and the custom rule added on each tab."""
    out: dict[str, list[Any]] = {}
    for etype in ENTITY_TYPES:
        rules = [
            kept_json(r["json"], f"rule.{etype}.{n}")
            for n, r in _rows(form, f"rule.{etype}").items()
            if r.get("json") and r.get("remove") != "on"
        ]
        added = {k: text(form, f"add.{etype}.{k}") for k in ("template", "kind", "attribute")}
        template = added["template"]
        if template:
            rule: dict[str, Any] = {"template": template}
            for param in TEMPLATES[template].params if template in TEMPLATES else ():
                value = text(form, f"add.{etype}.{param}")
                if value:
                    rule[param] = (
                        [v.strip() for v in value.split(",")] if param == "attributes" else value
                    )
            rules.append(rule)
        if added["kind"] in ("include", "exclude") and added["attribute"]:
            row = {k: text(form, f"add.{etype}.{k}") for k in ("attribute", "op", "value", "name")}
            rules.append(_condition(added["kind"], row))
        if rules:
            out[etype] = rules
    return {"filter_rules": out}


def uniqueness_values(form: FormData) -> dict[str, Any]:
    out: dict[str, list[str]] = {}
    for etype in ENTITY_TYPES:
        chosen = [a for a in fields.attribute_dtypes(etype) if checked(form, f"dom.{etype}.{a}")]
        if chosen or etype in ("student", "contact", "teacher", "admin"):
            out[etype] = chosen
    return {"uniqueness_domains": out}


def master_values(form: FormData) -> dict[str, Any]:
    out: dict[str, dict[str, list[str]]] = {}
    for row in _rows(form, "mf").values():
        entity, attribute = row.get("entity", ""), row.get("attribute", "")
        order = [s.strip() for s in row.get("order", "").split(",") if s.strip()]
        if entity and attribute and order and row.get("remove") != "on":
            out.setdefault(entity, {})[attribute] = order
    return {"master_fields": out}


SCHEDULE: Final = setting_fields(SyncSchedule)


def schedule_values(form: FormData) -> dict[str, Any]:
    every = text(form, "sync_schedule.every")
    schedule: dict[str, Any] = {
        "every": every or None,
        "days": [
            d
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            if checked(form, f"sync_schedule.days.{d}")
        ],
        "at": text(form, "sync_schedule.at") or "02:00",
        "timezone": text(form, "sync_schedule.timezone") or "UTC",
        "first_day_of_school": checked(form, "sync_schedule.first_day_of_school"),
    }
    for name in ("starts", "expires"):
        if text(form, f"sync_schedule.{name}"):
            schedule[name] = text(form, f"sync_schedule.{name}")
    emails = [e.strip() for e in text(form, "notifications.emails").replace(",", "\n").splitlines()]
    notifications = {
        "emails": [e for e in emails if e],
        "on_new_data": checked(form, "notifications.on_new_data"),
        "on_held": checked(form, "notifications.on_held"),
        "on_failure": checked(form, "notifications.on_failure"),
    }
    return {"sync_schedule": schedule, "notifications": notifications}
