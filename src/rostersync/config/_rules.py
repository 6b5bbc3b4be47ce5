"""Filter rules: ready-made templates and custom include/exclude conditions, as config models.

A condition is a small tree: a leaf ``{attribute, op, value}`` or ``{all: [...]}``,
``{any: [...]}``, ``{not: ...}``. Rules are data, compiled to Polars expressions by the pipeline;
nothing in a rule is ever evaluated as code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Operator = Literal[
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
]

#: Operators that take no value, a list of values, or exactly two values.
NO_VALUE: Final = frozenset({"is_empty", "is_not_empty"})
LIST_VALUE: Final = frozenset({"in", "not_in"})
ORDERED: Final = frozenset(
    {"greater_than", "less_than", "greater_or_equal", "less_or_equal", "between"}
)
TEXT_ONLY: Final = frozenset({"contains", "starts_with", "ends_with", "matches"})


class Condition(BaseModel):
    """A leaf comparison on one attribute, or all/any/not of nested conditions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    attribute: str | None = Field(None, description="Attribute name or metadata.<key>.")
    op: Operator | None = Field(None, description="Comparison operator.")
    value: Any = Field(None, description="Value (a list for in/not_in, two for between).")
    all: list[Condition] | None = Field(None, description="Every nested condition holds.")
    any: list[Condition] | None = Field(None, description="At least one nested condition holds.")
    not_: Condition | None = Field(None, alias="not", description="The nested condition fails.")

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        shapes = [
            self.attribute is not None or self.op is not None,
            self.all is not None,
            self.any is not None,
            self.not_ is not None,
        ]
        if sum(shapes) != 1:
            raise ValueError(
                "a condition is exactly one of {attribute, op, value}, {all: [...]}, "
                "{any: [...]} or {not: {...}}"
            )
        if shapes[0] and (self.attribute is None or self.op is None):
            raise ValueError("a comparison needs both `attribute` and `op`")
        return self


@dataclass(frozen=True)
class Template:
    """A ready-made filter rule: which entity types it applies to and its parameters."""

    name: str
    types: tuple[str, ...]
    help: str
    params: tuple[str, ...] = ()


_PEOPLE = ("student", "contact", "teacher", "admin")

TEMPLATES: Final[dict[str, Template]] = {
    t.name: t
    for t in (
        Template(
            "active_students_only",
            ("student",),
            "Keep students whose status is active, whose account is enabled and whose SIS "
            "enrollment status (metadata enroll_status, when present) is Active.",
        ),
        Template(
            "exclude_pre_registered",
            ("student",),
            "Drop students whose SIS enrollment status is Pre-registered (P / -1).",
        ),
        Template(
            "current_school_year_only",
            ("calendar", "course", "class"),
            "Keep sessions of one school year (default: the latest in the data), the courses "
            "of that year and the classes running in its terms.",
            ("school_year",),
        ),
        Template(
            "teachers_with_class",
            ("teacher",),
            "Keep teachers who teach at least one class.",
        ),
        Template(
            "contacts_of_synced_students",
            ("contact",),
            "Keep contacts linked to at least one student that is synced.",
        ),
        Template(
            "exclude_test_records",
            (*_PEOPLE, "course", "class", "calendar"),
            "Drop records whose name matches a pattern (default ^(test|zz), any case): "
            "givenName/familyName for people, title otherwise.",
            ("pattern", "attributes"),
        ),
        Template(
            "grade_range",
            ("student", "course", "class"),
            "Keep records with a grade between min_grade and max_grade (CEDS codes, IT…13).",
            ("min_grade", "max_grade"),
        ),
    )
}

#: CEDS grade levels in school order, so grade ranges compare as the admin expects.
GRADE_ORDER: Final = (
    "IT",
    "PR",
    "PK",
    "TK",
    "KG",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "09",
    "10",
    "11",
    "12",
    "13",
    "PS",
)

_TEMPLATE_PARAMS: Final = ("school_year", "pattern", "attributes", "min_grade", "max_grade")


class FilterRule(BaseModel):
    """One filter rule: a template, or a custom ``include`` / ``exclude`` condition."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Label shown in the run report.")
    template: str | None = Field(None, description="A ready-made rule (see TEMPLATES).")
    include: Condition | None = Field(None, description="Keep only records matching this.")
    exclude: Condition | None = Field(None, description="Drop records matching this.")
    school_year: str | None = Field(None, description="current_school_year_only: YYYY.")
    pattern: str | None = Field(None, description="exclude_test_records: regex.")
    attributes: list[str] | None = Field(None, description="exclude_test_records: attributes.")
    min_grade: str | None = Field(None, description="grade_range: lowest grade.")
    max_grade: str | None = Field(None, description="grade_range: highest grade.")

    @model_validator(mode="after")
    def _one_kind(self) -> FilterRule:
        kinds = [self.template is not None, self.include is not None, self.exclude is not None]
        if sum(kinds) != 1:
            raise ValueError("a rule has exactly one of `template`, `include` or `exclude`")
        if self.template is None:
            extra = [p for p in _TEMPLATE_PARAMS if getattr(self, p) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} only go with a `template`")
        return self

    def label(self, index: int) -> str:
        """How the report names this rule."""
        if self.name:
            return self.name
        if self.template:
            return self.template
        return f"{'include' if self.include is not None else 'exclude'} rule {index}"
