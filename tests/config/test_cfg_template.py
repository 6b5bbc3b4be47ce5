"""The starter template validates and documents every configuration option where it is used.

Settings (environment variables) are checked against README.md in tests/test_settings.py; this
file does the same for the district configuration against ``rostersync config template``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from rostersync.config import TEMPLATE, DistrictConfig, parse_config_text
from rostersync.config._rules import TEMPLATES, Operator
from rostersync.config._transforms import TransformOp

#: A comment whose text starts with ``key:`` (or ``- key:``) is a commented-out example; it sits
#: where the key would, so removing "# " gives the YAML it stands for.
_EXAMPLE = re.compile(r"^(\s*)# (\s*(?:- )?[A-Za-z_][A-Za-z0-9_]*:(?:\s|$).*)$")

#: Written in a short form (`lower`, `{regex_extract: re}`), documented by name, not by key.
_SHORT_FORM = {"Transform"}

Documented = defaultdict[type[BaseModel], set[str]]


def uncommented(text: str) -> str:
    """The template with every commented-out example turned into YAML.

    An example of a key replaces the line above that gives the same key its default
    (``webhooks: []`` then ``# webhooks:``): a key given twice is refused.
    """
    lines: list[str] = []
    for line in text.splitlines():
        m = _EXAMPLE.match(line)
        if m:
            line = m.group(1) + m.group(2)
            key = line.split(":", 1)[0] + ":"
            if not key.lstrip().startswith("- "):
                for i in range(len(lines) - 1, -1, -1):
                    if lines[i].startswith(key):
                        del lines[i]
                        break
                    if lines[i].strip() and not lines[i].lstrip().startswith("#"):
                        indent = len(lines[i]) - len(lines[i].lstrip())
                        if indent < len(key) - len(key.lstrip()):
                            break
        lines.append(line)
    return "\n".join(lines) + "\n"


def config_models() -> list[type[BaseModel]]:
    """Every model a district configuration is made of (the three owned sections included)."""
    seen: list[type[BaseModel]] = []
    stack: list[Any] = [DistrictConfig]
    while stack:
        ann = stack.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if ann in seen:
                continue
            seen.append(ann)
            stack.extend(f.annotation for f in ann.model_fields.values())
        else:
            stack.extend(get_args(ann))
    return [m for m in seen if m.__name__ not in _SHORT_FORM]


def _keys(model: type[BaseModel]) -> dict[str, Any]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _visit(ann: Any, value: Any, documented: Documented) -> None:
    """Credit the keys of ``value`` to the model ``ann`` expects there, all the way down."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        if not isinstance(value, dict):
            return
        for cls in ann.__mro__:  # a subclass's keys document the fields it inherits
            if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
                documented[cls] |= set(value) & set(_keys(cls))
        fields = _keys(ann)
        for key, item in value.items():
            if key in fields:
                _visit(fields[key].annotation, item, documented)
        return
    origin, args = get_origin(ann), get_args(ann)
    if origin in (list, tuple, set, frozenset, Sequence) and isinstance(value, list):
        for item in value:
            for arg in args:
                _visit(arg, item, documented)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for item in value.values():
            _visit(args[1], item, documented)
    else:  # unions, Annotated, Literal, plain types
        for arg in args:
            _visit(arg, value, documented)


def undocumented(template: str) -> list[str]:
    """``Model.field`` of every option that no key of the template (examples included) shows."""
    documented: Documented = defaultdict(set)
    _visit(DistrictConfig, yaml.safe_load(uncommented(template)), documented)
    return sorted(
        f"{model.__name__}.{key}"
        for model in config_models()
        for key, field in _keys(model).items()
        if key not in documented[model] and not _deprecated(field)
    )


def _deprecated(field: Any) -> bool:
    """A setting still read in its old place, documented where it moved to."""
    return str(field.description or "").startswith("Deprecated")


def test_template_validates() -> None:
    config = parse_config_text(TEMPLATE, "template")
    assert config.sources[0].name == "sis"
    assert config.sync_schedule.timezone == "America/Chicago"


def test_template_with_every_example_uncommented_validates() -> None:
    text = uncommented(TEMPLATE)
    assert text != TEMPLATE
    config = parse_config_text(text, "template with examples")
    source = config.sources[0]
    assert source.schools_mapping != "auto"
    assert source.advanced.hold_threshold.entities["student"].delete_count == 50
    assert source.advanced.hold_threshold.rollover_windows[0].kind == "additions_only"
    assert config.notifications.webhooks[0].max_attempts == 5


def test_every_config_option_is_documented_in_the_template() -> None:
    assert undocumented(TEMPLATE) == []


@pytest.mark.parametrize(
    ("line", "option"),
    [
        ("  per_school: false", "HoldThreshold.per_school"),
        ("  retry_interrupted: false", "SyncSchedule.retry_interrupted"),
        ("  #     timeout_seconds: 10.0", "WebhookConfig.timeout_seconds"),
        ("    #     target: null", "SchoolMapping.target"),
    ],
)
def test_a_missing_option_is_reported(line: str, option: str) -> None:
    kept = [ln for ln in TEMPLATE.splitlines() if not ln.startswith(line)]
    assert len(kept) == len(TEMPLATE.splitlines()) - 1, f"{line!r} is not in the template"
    assert undocumented("\n".join(kept)) == [option]


def test_an_option_elsewhere_does_not_count() -> None:
    # `delete_percent` of hold_threshold written under a webhook documents nothing
    text = TEMPLATE.replace("  delete_percent: 10 ", "  colour: 10 ")
    text = text.replace("  #     max_attempts: 5 ", "  #     delete_percent: 5 ")
    assert "HoldThreshold.delete_percent" in undocumented(text)


def test_every_config_option_has_help_text() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in config_models()
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert not missing, f"options without a description: {missing}"


def test_every_operator_transform_and_template_is_named_in_the_template() -> None:
    words = set(re.findall(r"[a-z_]+", TEMPLATE))
    names = set(get_args(Operator)) | set(get_args(TransformOp)) | set(TEMPLATES)
    assert not names - words, sorted(names - words)
