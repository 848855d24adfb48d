"""Templates render Chinese messages with the national rainstorm guidance and Asia/Shanghai times."""

from datetime import datetime, timezone

import pytest

from fangxun.warnings.config import Template
from fangxun.warnings.routing.templates import display_time, guidance, message_context, render

ONSET = datetime(2026, 7, 20, 0, 30, tzinfo=timezone.utc)  # 08:30 in Zhengzhou


def context(**changes):
    values = dict(event="暴雨", colour="red", headline="郑州市气象台发布暴雨红色预警信号",
                  description="预计未来3小时郑州市区降雨量将达100毫米以上。", instruction="请立即启动Ⅰ级应急响应。",
                  areas=["金水区", "二七区"], onset=ONSET, expires=ONSET.replace(hour=12), ack_url="https://fx/ack/abc",
                  recipient="张伟")
    return message_context(**(values | changes))


def test_guidance_for_each_rainstorm_signal():
    assert len(guidance("暴雨", "blue")) == 4
    assert guidance("暴雨", "red")[1] == "2、停止集会、停课、停业(除特殊行业外);"
    assert all(len(guidance("暴雨", colour)) >= 3 for colour in ("blue", "yellow", "orange", "red"))


@pytest.mark.parametrize("event, colour", [("雷电", "red"), ("暴雨", None), ("大风", "blue")])
def test_no_guidance_elsewhere(event, colour):
    assert guidance(event, colour) == []


def test_render_default_rainstorm_templates(settings):
    for name in ("rainstorm", "rainstorm_severe"):
        title, text = render(settings.warnings.templates[name], context())
        assert "暴雨红色预警" in title
        assert text.startswith("张伟：")
        assert "影响区域：金水区、二七区" in text
        assert "2026-07-20 08:30 至 2026-07-20 20:30" in text
        assert "3、做好山洪、滑坡、泥石流等灾害的防御和抢险工作。" in text
        assert text.rstrip().endswith("https://fx/ack/abc")


def test_render_default_template_without_guidance(settings):
    title, text = render(settings.warnings.templates["default"], context(event="雷电", colour="yellow",
                                                                          headline="雷电黄色预警"))
    assert title == "【雷电黄色预警】雷电黄色预警"
    assert "防御指南" not in text and "{" not in text


def test_context_has_every_placeholder_and_labels():
    values = context(colour="orange", onset=None, expires=None, areas=[])
    assert values["colour_label"] == "橙色"
    assert values["onset"] == values["expires"] == values["areas"] == ""
    assert values["guidance"].splitlines()[0].startswith("1、政府及相关部门")
    assert context(colour=None)["colour_label"] == ""


def test_missing_placeholders_render_empty_and_literal_braces_stay():
    template = Template(title="{event}预警", text="{{应急}} {recipient}|{ack_url}")
    assert render(template, {"event": "暴雨"}) == ("暴雨预警", "{应急} |")


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
