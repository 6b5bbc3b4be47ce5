"""Attribute mapping rules: a source field or a constant, then a small pipeline of transforms.

In the file a transform is written the short way — ``lower`` or ``{regex_extract: "^([^@]+)"}`` —
and read into :class:`Transform` (``op`` + ``arg``). A mapping written as a plain string is a
source field: ``email: "U_DEF_EXT_STUDENTS.school_email"``.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

TransformOp = Literal[
    "trim",
    "lower",
    "upper",
    "title",
    "replace",
    "regex_replace",
    "regex_extract",
    "concat",
    "format",
    "date_parse",
    "date_format",
    "value_map",
    "default",
    "split",
]

NO_ARG: Final = frozenset({"trim", "lower", "upper", "title"})
TEXT_ARG: Final = frozenset({"regex_extract", "format", "date_parse", "date_format", "split"})

#: What each transform takes, for errors and the config template.
TRANSFORM_HELP: Final[dict[str, str]] = {
    "trim": "strip surrounding whitespace",
    "lower": "lower case",
    "upper": "upper case",
    "title": "Title Case",
    "replace": "{replace: {old: text, new: text}} literal replacement",
    "regex_replace": "{regex_replace: {pattern: regex, new: text}} ($1 for groups)",
    "regex_extract": "{regex_extract: regex} first group (or whole match)",
    "concat": "{concat: {fields: [a, b], separator: ' '}} append other fields",
    "format": "{format: '{value} ({identifier})'} with {value} and other fields",
    "date_parse": "{date_parse: '%m/%d/%Y'} text to date",
    "date_format": "{date_format: '%Y-%m-%d'} date to text",
    "value_map": "{value_map: {M: male, F: female}} unmapped values stay",
    "default": "{default: value} when empty",
    "split": "{split: ','} text to a list (e.g. grades)",
}


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of a format template, in order."""
    return _PLACEHOLDER.findall(template)


def format_parts(template: str) -> list[tuple[bool, str]]:
    """A format template as (is_field, text) parts: literal text and ``{field}`` names."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > pos:
            parts.append((False, template[pos : m.start()]))
        parts.append((True, m.group(1)))
        pos = m.end()
    if pos < len(template):
        parts.append((False, template[pos:]))
    return parts


class Transform(BaseModel):
    """One step of a mapping's transform pipeline."""

    model_config = ConfigDict(extra="forbid")

    op: TransformOp
    arg: Any = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"op": data}
        if isinstance(data, dict) and len(data) == 1 and "op" not in data:
            ((op, arg),) = data.items()
            if op not in get_args(TransformOp):
                known = ", ".join(get_args(TransformOp))
                raise ValueError(f"unknown transform {op!r}; known: {known}")
            return {"op": op, "arg": arg}
        return data

    @model_validator(mode="after")
    def _arg_shape(self) -> Transform:
        op, arg = self.op, self.arg
        problem: str | None = None
        if op in NO_ARG and arg is not None:
            problem = "takes no argument"
        elif op in TEXT_ARG and (not isinstance(arg, str) or not arg):
            problem = "needs a text argument"
        elif op == "replace" and not (
            isinstance(arg, dict) and set(arg) == {"old", "new"} and isinstance(arg["old"], str)
        ):
            problem = "needs {old: text, new: text}"
        elif op == "regex_replace" and not (
            isinstance(arg, dict) and set(arg) == {"pattern", "new"}
        ):
            problem = "needs {pattern: regex, new: text}"
        elif op == "concat" and not (
            isinstance(arg, dict)
            and isinstance(arg.get("fields"), list)
            and set(arg) <= {"fields", "separator"}
        ):
            problem = "needs {fields: [names], separator: text}"
        elif op == "value_map" and not (isinstance(arg, dict) and arg):
            problem = "needs a mapping {from: to}"
        elif op == "default" and arg is None:
            problem = "needs a value"
        if problem:
            raise ValueError(f"transform {op!r} {problem}: {TRANSFORM_HELP[op]}")
        return self

    @model_serializer
    def _serialize(self) -> Any:
        return self.op if self.arg is None else {self.op: self.arg}


class MappingRule(BaseModel):
    """Where a canonical attribute comes from: a source field or a constant, then transforms."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(None, description="Source field: canonical name or TABLE.field.")
    constant: Any = Field(None, description="A fixed value instead of a source field.")
    transforms: list[Transform] = Field(default_factory=list, description="Applied in order.")

    @model_validator(mode="before")
    @classmethod
    def _plain_field(cls, data: Any) -> Any:
        return {"field": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_origin(self) -> MappingRule:
        has_constant = "constant" in self.model_fields_set
        if (self.field is None) == (not has_constant):
            raise ValueError("a mapping has exactly one of `field` or `constant`")
        return self

    def referenced_fields(self) -> list[str]:
        """Every source field this rule reads, transforms included."""
        out = [self.field] if self.field else []
        for t in self.transforms:
            if t.op == "concat":
                out.extend(str(f) for f in t.arg["fields"])
            elif t.op == "format":
                out.extend(p for p in placeholders(str(t.arg)) if p != "value")
        return out
