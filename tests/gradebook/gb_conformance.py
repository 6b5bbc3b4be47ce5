"""OneRoster Gradebook payloads (1.1 and 1.2) as strict models written from the specification
(the project's OneRoster reference, §4 and §2.4), extending the rostering conformance models:
required members, GUIDRefs with href/sourcedId/type, UTC date-times, ``scoreStatus`` tokens,
string booleans, and no field outside the spec (``extra="forbid"``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from conformance.conformance_models import (
    GUID,
    Base,
    BoolStr,
    Date,
    DateTime,
    Strict,
    Text,
    entity_errors,
)

SCORE_STATUS = Literal["exempt", "fully graded", "not submitted", "partially graded", "submitted"]


class Ref(Strict):
    href: Text
    sourcedId: GUID
    type: Literal[
        "class", "org", "user", "course", "academicSession", "category", "lineItem", "scoreScale"
    ]


class Category1p1(Base):
    title: Text


class Category1p2(Category1p1):
    weight: float | None = None


class LineItem1p1(Base):
    title: Text
    description: str | None = None
    assignDate: DateTime
    dueDate: DateTime
    class_: Ref = Field(alias="class")
    category: Ref
    gradingPeriod: Ref
    resultValueMin: float | None = None
    resultValueMax: float | None = None


class LineItem1p2(Base):
    title: Text
    description: str | None = None
    assignDate: DateTime
    dueDate: DateTime
    class_: Ref = Field(alias="class")
    school: Ref
    category: Ref
    gradingPeriod: Ref | None = None
    academicSession: Ref | None = None
    scoreScale: Ref | None = None
    resultValueMin: float | None = None
    resultValueMax: float | None = None
    learningObjectiveSet: list[Any] | None = None


class Result1p1(Base):
    lineItem: Ref
    student: Ref
    scoreStatus: SCORE_STATUS
    score: float | None = None
    scoreDate: Date
    comment: str | None = None


class Result1p2(Result1p1):
    class_: Ref | None = Field(default=None, alias="class")
    scoreScale: Ref | None = None
    textScore: str | None = None
    learningObjectiveSet: list[Any] | None = None
    inProgress: BoolStr | None = None
    incomplete: BoolStr | None = None
    late: BoolStr | None = None
    missing: BoolStr | None = None


class ScaleValue(Strict):
    itemValueLHS: Text
    itemValueRHS: Text


class ScoreScale1p2(Base):
    title: Text
    type: Text
    course: Ref | None = None
    class_: Ref = Field(alias="class")
    scoreScaleValue: Annotated[list[ScaleValue], Field(min_length=1)]


#: Per version: collection key → (single key, model).
MODELS: dict[str, dict[str, tuple[str, type[Base]]]] = {
    "1.1": {
        "categories": ("category", Category1p1),
        "lineItems": ("lineItem", LineItem1p1),
        "results": ("result", Result1p1),
    },
    "1.2": {
        "categories": ("category", Category1p2),
        "lineItems": ("lineItem", LineItem1p2),
        "results": ("result", Result1p2),
        "scoreScales": ("scoreScale", ScoreScale1p2),
    },
}
#: The ref type each reference must carry.
REF_TYPES = {
    "class": "class",
    "school": "org",
    "category": "category",
    "gradingPeriod": "academicSession",
    "academicSession": "academicSession",
    "scoreScale": "scoreScale",
    "lineItem": "lineItem",
    "student": "user",
    "course": "course",
}


def gradebook_errors(version: str, key: str, body: Any, *, single: bool) -> list[str]:
    """Every violation of a gradebook response body: envelope, entities, ref types."""
    single_key, model = MODELS[version][key]
    want = single_key if single else key
    if not isinstance(body, dict) or set(body) != {want}:
        got = sorted(body) if isinstance(body, dict) else type(body).__name__
        return [f"envelope: expected exactly the key {want!r}, got {got}"]
    items = [body[want]] if single else body[want]
    if not isinstance(items, list):
        return [f"envelope: {want!r} is not an array"]
    errors: list[str] = []
    for item in items:
        found = entity_errors(model, item)
        errors.extend(found)
        if not found:
            for name, ref_type in REF_TYPES.items():
                ref = item.get(name)
                if isinstance(ref, dict) and ref.get("type") != ref_type:
                    errors.append(f"{item['sourcedId']}: {name}.type must be {ref_type!r}")
    return errors
