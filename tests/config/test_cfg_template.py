"""The starter template validates and documents every configuration option."""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from rostersync.config import TEMPLATE, Condition, DistrictConfig, parse_config_text
from rostersync.config._rules import TEMPLATES, Operator
from rostersync.config._transforms import TransformOp


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        stack: list[Any] = [field.annotation]
        while stack:
            ann = stack.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                _models(ann, seen)
            stack.extend(get_args(ann))


def all_keys() -> set[str]:
    seen: set[type[BaseModel]] = set()
    _models(DistrictConfig, seen)
    keys: set[str] = set()
    for model in seen:
        if model.__name__ in {"Transform"}:  # written in the short form (`lower`, {op: arg})
            continue
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
    return keys


def test_template_validates() -> None:
    config = parse_config_text(TEMPLATE, "template")
    assert config.sources[0].name == "sis"


def test_every_config_field_is_in_the_template() -> None:
    documented = set(re.findall(r"([A-Za-z_]+):", TEMPLATE))
    missing = sorted(all_keys() - documented)
    assert not missing, f"undocumented options: {missing}"


def test_every_operator_transform_and_template_is_named_in_the_template() -> None:
    words = set(re.findall(r"[a-z_]+", TEMPLATE))
    names = set(get_args(Operator)) | set(get_args(TransformOp)) | set(TEMPLATES)
    assert not names - words, sorted(names - words)


def test_condition_fields_are_documented() -> None:
    assert {"attribute", "op", "value", "all", "any", "not"} <= {
        f.alias or n for n, f in Condition.model_fields.items()
    }
    assert get_origin(list[int]) is list
