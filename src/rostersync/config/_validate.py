"""Loading and validating a district configuration, collecting every problem with its path.

``validate_config`` runs pydantic over the whole document (shapes, types, enums) and then the
model checks of :mod:`rostersync.config._check` over every section that has the right shape, so a
file with a wrong type AND an unknown attribute reports both at once.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Collection, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from rostersync.config._check import check_master_fields, check_relinking, check_source
from rostersync.config._models import DistrictConfig
from rostersync.config._sections import FIELD_ALIASES as SCHEDULE_ALIASES
from rostersync.config._sections import ConfigDeprecationWarning
from rostersync.config._yaml import parse_yaml, read_yaml
from rostersync.errors import ConfigValidationError, Problem

#: The entry-point group connectors register under (see :mod:`rostersync.connectors`).
CONNECTOR_GROUP: Final = "rostersync.connectors"

_TAG = re.compile(r"^(literal|list|dict|function-[a-z-]+|union|tagged-union)\[")


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif item == "[key]" or _TAG.match(item):
            continue
        else:
            out += f".{item}" if out else item
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown setting (check the spelling; `rostersync config template` lists all)"
    if kind == "missing":
        return "required setting is missing"
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"{error['input']!r} is not allowed here: {msg}"
    return msg


def pydantic_problems(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """A pydantic error as problems with config paths (``sources[0].delivery.url``)."""
    problems: list[Problem] = []
    for error in exc.errors():
        path = _path(error["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        problems.append(Problem(path, _message(error)))
    return _merge_same_path(problems)


def _merge_same_path(problems: list[Problem]) -> list[Problem]:
    """Join alternatives of one union into one problem (e.g. `auto` or a list)."""
    merged: dict[str, list[str]] = {}
    for p in problems:
        messages = merged.setdefault(p.path, [])
        if p.message not in messages:
            messages.append(p.message)
    return [Problem(path, "; or ".join(messages)) for path, messages in merged.items()]


def schedule_problems_as_written(
    problems: list[Problem], section: Any, prefix: str = "sync_schedule"
) -> list[Problem]:
    """Problems of a ``sync_schedule`` section under the keys it uses (``time``, not ``at``).

    The schedule model accepts earlier spellings and reports under its own names; an admin
    should read the name they wrote. ``prefix`` is the section's path in ``problems``.
    """
    if not isinstance(section, dict):
        return problems
    written = {
        SCHEDULE_ALIASES[key]: key
        for key in section
        if key in SCHEDULE_ALIASES and SCHEDULE_ALIASES[key] not in section
    }
    head = f"{prefix}." if prefix else ""
    out = []
    for p in problems:
        if written and p.path.startswith(head):
            field, sep, tail = p.path[len(head) :].partition(".")
            if field in written:
                p = Problem(f"{head}{written[field]}{sep}{tail}", p.message)
        out.append(p)
    return out


def validate_config(data: Any, source_name: str) -> DistrictConfig:
    """A district configuration from parsed YAML/JSON, or every problem in it at once.

    Raises :class:`ConfigValidationError` whose ``problems`` carry paths such as
    ``sources[0].filter_rules.student[2].value``.
    """
    problems: list[Problem] = []
    config: DistrictConfig | None = None
    if not isinstance(data, dict):
        raise ConfigValidationError(
            source_name, [Problem("", "the configuration must be a mapping (district: …)")]
        )
    try:
        config = DistrictConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(
            schedule_problems_as_written(pydantic_problems(exc), data.get("sync_schedule"))
        )
    raw_sources = data.get("sources")
    names: list[str] = []
    if isinstance(raw_sources, list):
        for i, raw in enumerate(raw_sources):
            if not isinstance(raw, dict):
                continue
            name = raw.get("name")
            if isinstance(name, str):
                if name in names:
                    problems.append(Problem(f"sources[{i}].name", f"source {name!r} is twice"))
                names.append(name)
            problems.extend(check_source(raw, f"sources[{i}]"))
            problems.extend(delivery_problems(raw, f"sources[{i}]"))
    problems.extend(check_master_fields(data.get("master_fields"), names))
    problems.extend(check_relinking(data.get("relinking")))
    if problems:
        raise ConfigValidationError(source_name, _merge_same_path(problems))
    assert config is not None
    return config


def load_config(path: str | Path, *, apps: Collection[str] | None = None) -> DistrictConfig:
    """Read and validate a district configuration file (YAML), within the reader's bounds.

    Every source's ``app`` must be one of ``apps`` (default: the installed connectors).
    """
    return _document(read_yaml(path), str(path), apps)


def parse_config_text(
    text: str, source_name: str, *, apps: Collection[str] | None = None
) -> DistrictConfig:
    """Validate configuration text (YAML or JSON); syntax errors name line and column."""
    return _document(parse_yaml(text, source_name), source_name, apps)


def _document(data: Any, source_name: str, apps: Collection[str] | None) -> DistrictConfig:
    if data is None:
        raise ConfigValidationError(
            source_name, [Problem("", "the file holds no configuration (it is empty or null)")]
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            config = validate_config(data, source_name)
    except ConfigValidationError as exc:
        problems = [*exc.problems, *(app_problems(data, apps) or option_problems(data))]
        raise ConfigValidationError(source_name, _merge_same_path(problems)) from None
    finally:
        _warn_about_file(caught, source_name)
    problems = app_problems(data, apps) or option_problems(data)
    if problems:
        raise ConfigValidationError(source_name, problems)
    return config


def _warn_about_file(caught: list[warnings.WarningMessage], source_name: str) -> None:
    """Deprecation warnings again, as about the configuration file rather than our code."""
    for w in caught:
        if issubclass(w.category, ConfigDeprecationWarning):
            warnings.warn_explicit(
                w.message, w.category, source_name, 0, module="rostersync.config"
            )
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def option_problems(data: Any) -> list[Problem]:
    """Problems of each source's ``connector:`` options, checked by its installed connector.

    A connector declares its options as a pydantic model in ``options_model``; the class is
    found through the registry, so this package imports no connector.
    """
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, list):
        return []
    registered = {ep.name: ep for ep in entry_points(group=CONNECTOR_GROUP)}
    problems: list[Problem] = []
    for i, raw in enumerate(sources):
        app = raw.get("app") if isinstance(raw, dict) else None
        if not isinstance(app, str) or app not in registered:
            continue
        try:
            model = getattr(registered[app].load(), "options_model", None)
        except Exception as exc:  # a broken third-party package: say which
            problems.append(Problem(f"sources[{i}].app", f"connector {app!r} fails to load: {exc}"))
            continue
        if model is None:
            continue
        try:
            model.model_validate(raw.get("connector") or {})
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, f"sources[{i}].connector"))
    return problems


def delivery_problems(raw: dict[str, Any], path: str) -> list[Problem]:
    """A source's ``delivery`` against its app: an app reading a service needs one, an app
    reading files (its connector says ``uses_delivery = False``) refuses one it would ignore.
    """
    app = raw.get("app")
    given = raw.get("delivery") is not None
    uses = True
    for ep in entry_points(group=CONNECTOR_GROUP):
        if ep.name == app:
            try:
                uses = bool(getattr(ep.load(), "uses_delivery", True))
            except Exception:  # a broken package: option_problems says which
                uses = True
    if uses and not given:
        return [Problem(f"{path}.delivery", "required setting is missing")]
    if given and not uses:
        return [
            Problem(
                f"{path}.delivery",
                f"app {app!r} reads files, not a service: remove delivery (its connector "
                "options say where the files are)",
            )
        ]
    return []


def installed_apps() -> list[str]:
    """The ``app`` names of the installed connectors (read from the registry, none imported)."""
    return sorted({ep.name for ep in entry_points(group=CONNECTOR_GROUP)})


def app_problems(data: Any, apps: Collection[str] | None = None) -> list[Problem]:
    """Every ``sources[i].app`` that names no installed connector (``apps``: the installed ones).

    Part of reading a configuration file, not of :func:`validate_config`, so that code and tests
    may build in memory a configuration for a source whose connector is not installed.
    """
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, list):
        return []
    known = sorted(apps) if apps is not None else installed_apps()
    problems = []
    for i, raw in enumerate(sources):
        app = raw.get("app") if isinstance(raw, dict) else None
        if isinstance(app, str) and app and app not in known:
            close = difflib.get_close_matches(app, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    f"sources[{i}].app",
                    f"unknown app {app!r}; {hint}installed apps: {', '.join(known) or 'none'}",
                )
            )
    return problems


def config_document(config: DistrictConfig) -> dict[str, Any]:
    """The configuration as plain JSON-able data, every default filled in: what the store keeps
    as a configuration version and what :func:`dump_config` prints. Validates back to ``config``.
    """
    data: dict[str, Any] = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def dump_config(config: DistrictConfig) -> str:
    """The configuration as YAML text (``config show``): :func:`config_document` as YAML."""
    return yaml.safe_dump(config_document(config), sort_keys=False, allow_unicode=True)
