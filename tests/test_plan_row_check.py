"""A plan file's row checked by plain functions gives PlanFields' values, or its problems with the same reasons."""

from __future__ import annotations

import random

from pydantic import ValidationError

from fangxun.plans.plan_fields import PlanFields
from fangxun.plans.plan_row_check import PlanCellChecker, check_plan_cells

# Texts a file may hold per field: good, blank (absent), malformed, out of bounds.
CHOICES = {
    "unit_code": [None, "410102000000", "4101", "410102000000.0", "甲"],
    "kind": [None, "flood_plan", "防汛应急预案", "应急预案"],
    "title": [None, "标题", "长" * 201, "长" * 200],
    "owner_org": [None, "单位", "x" * 201],
    "approved_on": [None, "2024-05-01", "2024-13-45", "2024/5/1", "1800-01-01", "2024年2月30日"],
    "last_reviewed_on": [None, "2024-01-01", "2025年1月1日", "昨天"],
    "review_cycle_months": [None, "36", "0", "241", "3.5", "24.0", "-1", "十二"],
    "version": [None, "2.0", "v" * 21],
    "lifecycle": [None, "有效", "withdrawn", "作废"],
}
# PlanFields' error types in the import's words (plan_import words the rest by their message).
WORDS = {"missing": "不能为空", "string_too_short": "不能为空", "string_too_long": "不能超过 {max_length} 个字",
         "greater_than_equal": "不能小于 {ge}", "less_than_equal": "不能大于 {le}"}


def _by_model(cells: dict) -> tuple[dict | None, list]:
    try:
        return PlanFields(**cells).model_dump(), []
    except ValidationError as exc:
        return None, [(error["loc"][0] if error["loc"] else None,
                       WORDS[error["type"]].format(**error.get("ctx", {})) if error["type"] in WORDS
                       else error["msg"].removeprefix("Value error, ")) for error in exc.errors()]


def _samples(count: int) -> list[dict]:
    rng = random.Random(18)
    return [{key: text for key, options in CHOICES.items() if (text := rng.choice(options)) is not None}
            for _ in range(count)]


def test_the_plain_check_agrees_with_the_model():
    rows = [{}, *_samples(3000)]
    outcomes = [check_plan_cells(cells) for cells in rows]
    assert outcomes == [_by_model(cells) for cells in rows]
    assert any(values for values, _ in outcomes) and any(problems for _, problems in outcomes)


def test_a_checker_remembering_parsed_texts_still_agrees_row_after_row():
    checker = PlanCellChecker()
    rows = _samples(2000)
    assert [checker(cells) for cells in rows + rows] == [_by_model(cells) for cells in rows + rows]


def test_every_value_of_a_good_row_is_the_model_s_own():
    cells = dict(zip(CHOICES, ("410102000000.0", "防汛应急预案", "标题", "单位", "2024/5/1", "2025年1月1日", "24.0",
                               "2.0", "withdrawn")))
    values, problems = check_plan_cells(cells)
    assert problems == [] and values == PlanFields(**cells).model_dump()
    assert (values["unit_code"], values["kind"], values["review_cycle_months"]) == ("410102000000", "flood_plan", 24)
