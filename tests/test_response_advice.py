"""The wording of the response desk (pure): a proposal never reads as a decision, the level in force says who
decided it and when."""

from __future__ import annotations

import pytest

from fangxun.warnings.events.response_advice import Advice, current_text, decision_headline, proposal_advice


@pytest.mark.parametrize("proposed, current, advice", [
    (2, None, Advice("activate", 2, "建议启动Ⅱ级应急响应（尚未决定）")),
    (2, 3, Advice("upgrade", 2, "建议提升至Ⅱ级应急响应（尚未决定）")),
    (4, 2, Advice("downgrade", 4, "建议降低至Ⅳ级应急响应（尚未决定）")),
    (3, 3, Advice(None, 3, "系统建议Ⅲ级应急响应，与当前响应一致")),
    (None, None, Advice(None, None, "现行预警未达到任何响应级别的启动条件，系统无建议")),
    (None, 1, Advice(None, None, "现行预警已不满足任何响应级别的启动条件（是否终止Ⅰ级应急响应由会商决定）")),
])
def test_a_proposal_reads_against_the_level_in_force(proposed, current, advice):
    assert proposal_advice(proposed, current) == advice


def test_the_level_in_force_says_who_decided_and_when():
    assert current_text(None, None, "", "") == "当前：未启动应急响应"
    assert current_text("activate", 3, "张三", "2026-07-20 08:00") == "当前：Ⅲ级应急响应（2026-07-20 08:00 由 张三 决定）"
    assert current_text("downgrade", 4, "李四", "2026-07-21 09:00") == "当前：Ⅳ级应急响应（2026-07-21 09:00 由 李四 决定）"
    assert current_text("terminate", 4, "王五", "2026-07-22 18:00") == (
        "当前：未启动应急响应（Ⅳ级应急响应已于 2026-07-22 18:00 由 王五 决定终止）")


def test_a_decision_says_what_it_did():
    assert [decision_headline(action, 3) for action in ("activate", "upgrade", "downgrade", "terminate")] == [
        "启动Ⅲ级应急响应", "提升至Ⅲ级应急响应", "降低至Ⅲ级应急响应", "终止Ⅲ级应急响应"]
