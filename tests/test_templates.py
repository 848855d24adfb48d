"""Templates render Chinese messages with the defence guidance given once and Asia/Shanghai times."""

import re
from datetime import datetime, timezone

import pytest

from fangxun.warnings.config import Template
from fangxun.warnings.routing.templates import display_time, guidance, message_context, normalised_guidance, render

ONSET = datetime(2026, 7, 20, 0, 30, tzinfo=timezone.utc)  # 08:30 in Zhengzhou


def context(**changes):
    values = dict(event="暴雨", colour="red", headline="郑州市气象台发布暴雨红色预警信号",
                  description="预计未来3小时郑州市区降雨量将达100毫米以上。", instruction="请立即启动Ⅰ级应急响应。",
                  areas=["金水区", "二七区"], onset=ONSET, expires=ONSET.replace(hour=12), ack_url="https://fx/ack/abc",
                  recipient="张伟")
    return message_context(**(values | changes))


NATIONAL_RED = "3. 做好山洪、滑坡、泥石流等灾害的防御和抢险工作。"


def test_guidance_for_each_rainstorm_signal():
    assert len(guidance("暴雨", "blue")) == 4
    assert guidance("暴雨", "red") == ["1. 政府及相关部门按照职责做好防暴雨应急和抢险工作；",
                                     "2. 停止集会、停课、停业（除特殊行业外）；", NATIONAL_RED]
    assert all(len(guidance("暴雨", colour)) >= 3 for colour in ("blue", "yellow", "orange", "red"))


@pytest.mark.parametrize("colour", ["blue", "yellow", "orange", "red"])
def test_packaged_guidance_has_one_numbering_and_full_width_punctuation(colour):
    lines = guidance("暴雨", colour)
    assert [line.split(". ", 1)[0] for line in lines] == [str(n) for n in range(1, len(lines) + 1)]
    for line in lines:
        body = line.split(". ", 1)[1]
        assert not re.search(r"[;,:()!?、．]$|[;,:()!?]", body), line
        assert not re.match(r"\d|[（(]", body), line   # no second number left behind
    assert all(line.endswith("；") for line in lines[:-1]) and lines[-1].endswith("。")


def test_normalising_guidance_renumbers_and_widens_punctuation():
    assert normalised_guidance(["1.做好准备(必要时);", "  3、停课,停业。", "（三）转移人员:立即", ""]) == (
        "1. 做好准备（必要时）；", "2. 停课，停业；", "3. 转移人员：立即。")


def test_the_issuers_instruction_is_the_guidance_and_the_national_one_only_without_it():
    given = context()
    assert given["guidance"] == "请立即启动Ⅰ级应急响应。"
    national = context(instruction="  ")
    assert national["guidance"].splitlines() == guidance("暴雨", "red")
    assert context(instruction="", kind="all_clear")["guidance"] == ""   # never for an all-clear
    assert context(kind="all_clear")["guidance"] == "请立即启动Ⅰ级应急响应。"


@pytest.mark.parametrize("event, colour", [("雷电", "red"), ("暴雨", None), ("大风", "blue")])
def test_no_guidance_elsewhere(event, colour):
    assert guidance(event, colour) == []


@pytest.mark.parametrize("name", ["rainstorm", "rainstorm_severe"])
def test_render_default_rainstorm_templates_give_guidance_once(settings, name):
    title, text = render(settings.warnings.templates[name], context())
    assert "暴雨红色预警" in title
    assert text.startswith("张伟：")
    assert "影响区域：金水区、二七区" in text
    assert "2026-07-20 08:30 至 2026-07-20 20:30" in text
    assert "防御指南：\n请立即启动Ⅰ级应急响应。\n" in text and text.count("请立即启动Ⅰ级应急响应") == 1
    assert NATIONAL_RED not in text   # the issuer's instruction, not both
    assert text.rstrip().endswith("https://fx/ack/abc")
    _, without = render(settings.warnings.templates[name], context(instruction=""))
    assert "防御指南：\n1. 政府及相关部门" in without and NATIONAL_RED in without


def test_every_packaged_template_uses_guidance_or_instruction_not_both(settings):
    for name, template in settings.warnings.templates.items():
        assert not {"guidance", "instruction"} <= template.placeholders, name


def test_a_template_with_both_guidance_and_instruction_is_refused():
    with pytest.raises(ValueError, match="不能与 {instruction} 同时使用"):
        Template(title="t", text="{guidance}\n{instruction}")


def test_render_default_template_without_guidance(settings):
    title, text = render(settings.warnings.templates["default"], context(event="雷电", colour="yellow",
                                                                          headline="雷电黄色预警"))
    assert title == "【雷电黄色预警】雷电黄色预警"
    assert "防御指南" not in text and "{" not in text


def test_context_has_every_placeholder_and_labels():
    values = context(colour="orange", onset=None, expires=None, areas=[])
    assert values["colour_label"] == "橙色"
    assert values["onset"] == values["expires"] == values["areas"] == ""
    assert values["guidance"] == "请立即启动Ⅰ级应急响应。"
    assert context(instruction="")["guidance"].splitlines()[0].startswith("1. 政府及相关部门")
    assert context(colour=None)["colour_label"] == ""


def test_missing_placeholders_render_empty_and_literal_braces_stay():
    template = Template(title="{event}预警", text="{{应急}} {event}{recipient}|{ack_url}")
    assert render(template, {"event": "暴雨"}) == ("暴雨预警", "{应急} 暴雨|")


def test_lines_of_empty_placeholders_and_their_heading_are_left_out():
    template = Template(title="{event}", text="{recipient}：\n{description}\n影响区域：{areas}\n防御指南：\n{guidance}\n"
                                              "说明：\n固定文字\n{ack_url}")
    _, text = render(template, {"event": "雷电", "recipient": "张伟", "ack_url": "u"})
    assert text == "张伟：\n说明：\n固定文字\nu"
    _, kept = render(template, {"event": "雷电", "recipient": "张伟", "guidance": "注意防雷", "areas": "金水区"})
    assert kept == "张伟：\n影响区域：金水区\n防御指南：\n注意防雷\n说明：\n固定文字"


def test_unknown_context_key_is_a_bug():
    with pytest.raises(KeyError):
        render(Template(title="t", text="x"), {"colour": "red"})


def test_display_time_in_shanghai():
    assert display_time(ONSET) == "2026-07-20 08:30"
    with pytest.raises(ValueError):
        display_time(ONSET.replace(tzinfo=None))


@pytest.mark.parametrize("text", ["{whatever}", "{event.upper}", "{areas[0]}", "{", "}"])
def test_template_model_refuses_bad_placeholders(text):
    with pytest.raises(ValueError):
        Template(title="t", text=text)
