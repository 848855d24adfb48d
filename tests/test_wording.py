"""Wording per message type (pure): the kind of a message, its one-line summary and the template it takes."""

import pytest

from fangxun.warnings.routing.recipients import duty_line
from fangxun.warnings.routing.templates import message_context, render
from fangxun.warnings.routing.wording import message_kind, summary, template_for


@pytest.mark.parametrize("msg_type, all_clear, colour, before, kind", [
    ("Alert", False, "red", None, "alert"),
    ("Update", False, "red", "orange", "upgrade"),
    ("Update", False, "yellow", "red", "downgrade"),
    ("Update", False, "red", "red", "update"),
    ("Update", False, "red", None, "update"),      # what it changes is not held
    ("Update", False, None, "red", "update"),
    ("Cancel", True, None, "red", "all_clear"),
    ("Cancel", False, "red", "red", "all_clear"),  # a Cancel is an all-clear whatever the flag says
    ("Update", True, "yellow", "red", "all_clear"),  # 解除 in the headline, or responseType AllClear
    ("Alert", True, "yellow", None, "all_clear"),
])
def test_the_kind_of_a_message(msg_type, all_clear, colour, before, kind):
    assert message_kind(msg_type, all_clear, colour, before) == kind


@pytest.mark.parametrize("kind, colour, before, sender, line", [
    ("all_clear", "red", None, "郑州市气象台", "郑州市气象台解除暴雨红色预警信号"),
    ("upgrade", "red", "orange", "", "暴雨橙色预警升级为红色预警"),
    ("upgrade", "red", "orange", "郑州市气象台", "郑州市气象台将暴雨橙色预警升级为红色预警"),
    ("downgrade", "yellow", "red", "郑州市气象台", "郑州市气象台将暴雨红色预警降级为黄色预警"),
    ("update", "red", "red", "郑州市气象台", "郑州市气象台更新暴雨红色预警"),
    ("update", "red", None, "", "暴雨红色预警更新"),
    ("alert", "red", None, "郑州市气象台", "郑州市气象台发布暴雨红色预警信号"),
])
def test_the_summary_line(kind, colour, before, sender, line):
    assert summary(kind, "暴雨", colour, before, sender) == line


def test_an_alert_keeps_its_routes_template_and_the_others_take_the_configured_one(settings):
    wording = settings.warnings.wording.model_dump()
    assert template_for("rainstorm_severe", "alert", wording) == "rainstorm_severe"
    for kind in ("upgrade", "downgrade", "update", "all_clear"):
        assert template_for("rainstorm_severe", kind, wording) == kind
    assert template_for("rainstorm_severe", "update", wording | {"update": ""}) == "rainstorm_severe"


def _rendered(settings, name, **values):
    context = message_context(event="暴雨", headline="h", description="预计降雨将持续。", areas=["金水区"],
                              sender_name="郑州市气象台", ack_url="https://fx/ack/x", recipient="张伟", **values)
    return render(settings.warnings.templates[name], context)


def test_the_shipped_all_clear_template(settings):
    title, text = _rendered(settings, "all_clear", kind="all_clear", colour="red", instruction="")
    assert title == "【解除】郑州市气象台解除暴雨红色预警信号"
    assert text == "张伟：郑州市气象台解除暴雨红色预警信号。\n预计降雨将持续。\n解除区域：金水区\n本条为解除通知，无需叫应。"


def test_the_shipped_update_templates(settings):
    title, text = _rendered(settings, "upgrade", kind="upgrade", colour="red", previous_colour="orange")
    assert title == "【暴雨预警升级】郑州市气象台将暴雨橙色预警升级为红色预警"
    assert text.startswith("张伟：郑州市气象台将暴雨橙色预警升级为红色预警，请按预案调整响应。\n")
    assert "防御指南：\n1. 政府及相关部门按照职责做好防暴雨应急和抢险工作；" in text
    title, text = _rendered(settings, "downgrade", kind="downgrade", colour="yellow", previous_colour="red")
    assert title == "【暴雨预警降级】郑州市气象台将暴雨红色预警降级为黄色预警"
    title, _ = _rendered(settings, "update", kind="update", colour="red", previous_colour="red")
    assert title == "【暴雨红色预警更新】郑州市气象台更新暴雨红色预警"


@pytest.mark.parametrize("unit, role, plan, line", [
    ("东村", "responsible", "东村防汛应急预案", "您是 东村 防汛责任人（《东村防汛应急预案》）"),
    ("二号镇", "deputy", "《二号镇紧急避险安置预案》", "您是 二号镇 防汛副责任人（《二号镇紧急避险安置预案》）"),
    ("甲区", "responsible", "", "您是 甲区 防汛责任人"),   # a contact of no plan
    ("", "responsible", "东村防汛应急预案", ""),
])
def test_the_duty_line_of_a_person(unit, role, plan, line):
    assert duty_line(unit, role, plan) == line
