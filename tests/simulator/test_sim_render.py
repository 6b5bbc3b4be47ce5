"""The columnar student renderer gives exactly the JSON of the per-record reference builder."""

from __future__ import annotations

import orjson
import pytest

from rostersync.simulators.powerschool import District, _render, _v1


@pytest.mark.parametrize("coerce", [True, False])
@pytest.mark.parametrize(
    ("expansions", "extensions"),
    [
        (set(), []),
        (set(_v1.STUDENT_EXPANSIONS), ["u_students_extension"]),
        ({"contact", "contact_info", "addresses"}, ["studentcorefields", "u_students_extension"]),
    ],
)
def test_render_matches_reference_builder(
    tiny_small: District, coerce: bool, expansions: set[str], extensions: list[str]
) -> None:
    view = _v1.student_view(tiny_small)
    rendered = [orjson.loads(t) for t in _render.students(view, expansions, extensions, coerce)]
    expected = _v1.students_json(view.to_dicts(), expansions, extensions, _v1.Numbers(coerce))
    assert rendered == orjson.loads(orjson.dumps(expected))
