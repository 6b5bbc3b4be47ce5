"""Checks of a configuration that need the canonical model: names, value types, regexes.

Pydantic checks shapes; these checks know that ``givenName`` is a student attribute, that
``birthDate`` compares with dates and that a regex must compile in the engine that will run it
(Polars' Rust regex). Each check returns every problem with its path and never stops at the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from datetime import date
from functools import cache, partial
from typing import Any, TypeVar, cast

import polars as pl
from pydantic import TypeAdapter, ValidationError

from rostersync.config import fields
from rostersync.config._models import ContactNameRule, Requirement
from rostersync.config._rules import (
    GRADE_ORDER,
    LIST_VALUE,
    NO_VALUE,
    ORDERED,
    TEMPLATES,
    TEXT_ONLY,
    Condition,
    FilterRule,
)
from rostersync.config._transforms import MappingRule
from rostersync.errors import Problem
from rostersync.model import ENTITIES, ENTITY_TYPES

T = TypeVar("T")
Problems = Iterator[Problem]


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def parse(annotation: type[T] | Any, value: Any) -> T | None:
    """``value`` validated as ``annotation``, or None when it is not (pydantic reports why)."""
    try:
        result: T = _adapter(cast(Hashable, annotation)).validate_python(value)
    except ValidationError:
        return None
    return result


def regex_problem(pattern: str) -> str | None:
    """None when Polars' regex engine accepts ``pattern``, else its complaint (one line)."""
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("error:")]
        return f"invalid regular expression {pattern!r}" + (f" ({lines[0]})" if lines else "")
    return None


def _typed_types(raw: Any) -> Iterator[tuple[str, Any]]:
    """(entity type, value) pairs of a per-type section, skipping keys pydantic rejects."""
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key in ENTITY_TYPES:
                yield key, value


def check_source(raw: dict[str, Any], path: str) -> Problems:
    """Every model-dependent problem of one source entry (given as read from the file)."""
    yield from _check_mapping(raw.get("attribute_mapping"), f"{path}.attribute_mapping")
    yield from _check_requirements(raw.get("data_requirements"), f"{path}.data_requirements")
    yield from _check_filters(raw.get("filter_rules"), f"{path}.filter_rules")
    yield from _check_domains(raw.get("uniqueness_domains"), f"{path}.uniqueness_domains")
    advanced = raw.get("advanced")
    if isinstance(advanced, dict):
        cond = parse(Condition, advanced.get("contact_filter"))
        if cond is not None:
            yield from check_condition("contact", cond, f"{path}.advanced.contact_filter")
        rule = parse(ContactNameRule, advanced.get("contact_name_rule", {}))
        if rule is not None:
            problem = contact_pattern_problem(rule.pattern)
            if problem:
                yield Problem(f"{path}.advanced.contact_name_rule.pattern", problem)


def contact_pattern_problem(pattern: str) -> str | None:
    """None for a valid contact name pattern: placeholders joined by ``{sep}``."""
    parts = pattern.split("{sep}")
    allowed = {"{first}", "{middle}", "{last}"}
    if any(p not in allowed for p in parts) or len(set(parts)) != len(parts):
        return (
            "write the placeholders {first}, {last} and optionally {middle}, each once, "
            "joined by {sep}, e.g. {last}{sep}{first}"
        )
    if "{first}" not in parts or "{last}" not in parts:
        return "the pattern needs both {first} and {last}"
    return None


def _check_mapping(raw: Any, path: str) -> Problems:
    for etype, mapping in _typed_types(raw):
        if not isinstance(mapping, dict):
            continue
        for attr, raw_rule in mapping.items():
            here = f"{path}.{etype}.{attr}"
            problem = fields.check_target(etype, str(attr))
            if problem:
                yield Problem(here, problem)
            rule = parse(MappingRule, raw_rule)
            if rule is None:
                continue
            if rule.field is not None:
                problem = fields.check_source_field(etype, rule.field)
                if problem:
                    yield Problem(f"{here}.field" if isinstance(raw_rule, dict) else here, problem)
            for i, t in enumerate(rule.transforms):
                yield from _check_transform(etype, t.op, t.arg, f"{here}.transforms[{i}]")


def _check_transform(etype: str, op: str, arg: Any, path: str) -> Problems:
    from rostersync.config._transforms import placeholders

    if op == "regex_extract":
        problem = regex_problem(str(arg))
        if problem:
            yield Problem(path, problem)
    elif op == "regex_replace":
        problem = regex_problem(str(arg["pattern"]))
        if problem:
            yield Problem(f"{path}.pattern", problem)
    elif op == "concat":
        for j, name in enumerate(arg["fields"]):
            problem = fields.check_source_field(etype, str(name))
            if problem:
                yield Problem(f"{path}.fields[{j}]", problem)
    elif op == "format":
        for name in placeholders(str(arg)):
            if name == "value":
                continue
            problem = fields.check_source_field(etype, name)
            if problem:
                yield Problem(path, problem)
    elif op in ("date_parse", "date_format") and "%" not in str(arg):
        yield Problem(path, f"{arg!r} is not a date format; use strftime codes like %Y-%m-%d")


def _check_requirements(raw: Any, path: str) -> Problems:
    for etype, reqs in _typed_types(raw):
        if not isinstance(reqs, dict):
            continue
        for attr in reqs:
            problem = fields.check_attribute(etype, str(attr))
            if problem:
                yield Problem(f"{path}.{etype}.{attr}", problem)
            elif parse(Requirement, reqs[attr]) is None:
                pass  # pydantic reports the bad value


def check_relinking(raw: Any, path: str = "relinking") -> Problems:
    """Unknown attributes among the ``relinking.keys``."""
    if isinstance(raw, dict):
        yield from _check_domains(raw.get("keys"), f"{path}.keys")


def _check_domains(raw: Any, path: str) -> Problems:
    for etype, attrs in _typed_types(raw):
        if not isinstance(attrs, list):
            continue
        for i, attr in enumerate(attrs):
            problem = fields.check_attribute(etype, str(attr))
            if problem:
                yield Problem(f"{path}.{etype}[{i}]", problem)


def _check_filters(raw: Any, path: str) -> Problems:
    for etype, rules in _typed_types(raw):
        if not isinstance(rules, list):
            continue
        for i, raw_rule in enumerate(rules):
            rule = parse(FilterRule, raw_rule)
            if rule is not None:
                yield from check_rule(etype, rule, f"{path}.{etype}[{i}]")


def check_rule(etype: str, rule: FilterRule, path: str) -> Problems:
    """Problems of one filter rule of an entity type."""
    if rule.include is not None:
        yield from check_condition(etype, rule.include, f"{path}.include")
    if rule.exclude is not None:
        yield from check_condition(etype, rule.exclude, f"{path}.exclude")
    if rule.template is None:
        return
    template = TEMPLATES.get(rule.template)
    if template is None:
        yield Problem(
            f"{path}.template",
            f"unknown template {rule.template!r}; templates: {', '.join(TEMPLATES)}",
        )
        return
    if etype not in template.types:
        yield Problem(
            f"{path}.template",
            f"{rule.template} applies to {', '.join(template.types)}, not {etype}",
        )
    for param in ("school_year", "pattern", "attributes", "min_grade", "max_grade"):
        if getattr(rule, param) is not None and param not in template.params:
            yield Problem(f"{path}.{param}", f"{rule.template} takes no {param!r}")
    if rule.school_year is not None and not re.fullmatch(r"\d{4}", rule.school_year):
        yield Problem(f"{path}.school_year", "write the year the school year ends in, e.g. 2026")
    if rule.pattern is not None:
        problem = regex_problem(rule.pattern)
        if problem:
            yield Problem(f"{path}.pattern", problem)
    for j, attr in enumerate(rule.attributes or []):
        problem = fields.check_attribute(etype, attr)
        if problem:
            yield Problem(f"{path}.attributes[{j}]", problem)
    for param in ("min_grade", "max_grade"):
        value = getattr(rule, param)
        if value is not None and value not in GRADE_ORDER:
            yield Problem(
                f"{path}.{param}", f"unknown grade {value!r}; use {', '.join(GRADE_ORDER)}"
            )
    if rule.template == "grade_range" and rule.min_grade is None and rule.max_grade is None:
        yield Problem(path, "grade_range needs min_grade, max_grade or both")


def check_condition(etype: str, cond: Condition, path: str) -> Problems:
    """Problems of a condition tree against the attributes of an entity type."""
    for key, children in (("all", cond.all), ("any", cond.any)):
        for i, child in enumerate(children or []):
            yield from check_condition(etype, child, f"{path}.{key}[{i}]")
    if cond.not_ is not None:
        yield from check_condition(etype, cond.not_, f"{path}.not")
    if cond.attribute is None or cond.op is None:
        return
    dtype = fields.attribute_dtype(etype, cond.attribute)
    if dtype is None:
        yield Problem(f"{path}.attribute", str(fields.check_attribute(etype, cond.attribute)))
        return
    problem = _value_problem(cond.op, dtype, cond.value)
    if problem:
        yield Problem(f"{path}.value" if cond.op not in NO_VALUE else path, problem)


def _value_problem(op: str, dtype: pl.DataType, value: Any) -> str | None:
    inner = dtype.inner if isinstance(dtype, pl.List) else dtype
    base = inner() if isinstance(inner, type) else inner
    assert isinstance(base, pl.DataType)
    if op in NO_VALUE:
        return None if value is None else f"{op} takes no value"
    if op in TEXT_ONLY and base != pl.Utf8():
        return f"{op} works on text attributes, this one is {base}"
    if op in ORDERED and base == pl.Boolean():
        return f"{op} does not apply to a true/false attribute"
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            return "between needs two values: [low, high]"
        values = value
    elif op in LIST_VALUE:
        if not isinstance(value, list) or not value:
            return f"{op} needs a list of values"
        values = value
    else:
        if value is None or isinstance(value, list | dict):
            return f"{op} needs one value"
        values = [value]
    if op == "matches":
        return regex_problem(str(value))
    for v in values:
        problem = _scalar_problem(base, v)
        if problem:
            return problem
    return None


def _scalar_problem(dtype: pl.DataType, value: Any) -> str | None:
    if dtype == pl.Boolean():
        return None if isinstance(value, bool) else f"{value!r} is not true or false"
    if dtype == pl.Date() or isinstance(dtype, pl.Datetime):
        if isinstance(value, date):
            return None
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return f"{value!r} is not a date (YYYY-MM-DD)"
        return None
    if isinstance(value, dict | list):
        return f"{value!r} is not a single value"
    return None


def check_master_fields(raw: Any, source_names: list[str], path: str = "master_fields") -> Problems:
    """Unknown entities, attributes or sources, and circular priorities in ``master_fields``."""
    if not isinstance(raw, dict):
        return
    seen: dict[tuple[str, str], list[str]] = {}
    for key, attrs in raw.items():
        here = f"{path}.{key}"
        attribute_ok: Callable[[str], str | None]
        if key in ENTITY_TYPES:
            entity = fields.entity_of(key)
            attribute_ok = partial(fields.check_attribute, key)
        elif key in ENTITIES:
            entity = key
            attribute_ok = partial(_table_attribute_problem, key)
        else:
            yield Problem(
                here,
                f"unknown entity {key!r}; use an entity type ({', '.join(ENTITY_TYPES)}) or "
                f"a table ({', '.join(ENTITIES)})",
            )
            continue
        if not isinstance(attrs, dict):
            continue
        for attr, order in attrs.items():
            where = f"{here}.{attr}"
            problem = attribute_ok(str(attr))
            if problem:
                yield Problem(where, problem)
            if not isinstance(order, list):
                continue
            yield from _check_order(order, source_names, where)
            previous = seen.setdefault((entity, str(attr)), order)
            if previous != order:
                yield Problem(
                    where, f"conflicts with another priority for {entity}.{attr}: {previous}"
                )


def _table_attribute_problem(entity: str, attr: str) -> str | None:
    known = set(ENTITIES[entity].schema)
    if entity == "users":
        known |= set(fields.DEMOGRAPHIC_EXTRAS)
    return None if attr in known else f"unknown attribute {attr!r} of {entity}"


def _check_order(order: list[Any], source_names: list[str], where: str) -> Problems:
    if not order:
        yield Problem(where, "list at least one source")
    for i, name in enumerate(order):
        if name not in source_names:
            yield Problem(
                f"{where}[{i}]", f"unknown source {name!r}; sources: {', '.join(source_names)}"
            )
        elif name in order[:i]:
            chain = " > ".join(str(n) for n in order[: i + 1])
            yield Problem(f"{where}[{i}]", f"circular priority: {name!r} comes twice ({chain})")
