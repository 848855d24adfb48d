"""The words people receive, as the webhook channel posted them: an Alert, its downgrade, its upgrade and its
解除, word by word; the defence guidance given once; whom each person answers for; an all-clear asks for no
叫应 unless configured to."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update
from support.warning_factories import EAST_VILLAGE, NOON, add_registry, make_warning, notifications, warning_settings

from fangxun.core.accounts import signing_secret
from fangxun.plans.models import Plan
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.delivery.outbox import DUTY_SLOT, RECIPIENT_SLOT, compose
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Warning

VILLAGER, WATER = "东村支书", "市水利局（市水利局值班室）"
DUTY = "您是 东村 防汛责任人（《东村防汛应急预案》）"
DESCRIPTION = "预计未来3小时降雨量将达100毫米以上。"
INSTRUCTION = "请做好防御工作。"
# What the red rainstorm_severe message said before wording per type (the Alert must still say it).
TODAY_RED = ("{name}：暴雨红色预警，请立即按预案启动响应，落实转移避险。\n"
             f"{DESCRIPTION}\n影响区域：郑州市\n生效时间：2026-06-01 09:55 至 2026-06-01 22:00\n"
             f"防御指南：\n{INSTRUCTION}\n请在规定时限内点击确认收到（叫应），未确认将逐级上报：{{link}}")
NATIONAL_RED = ["1. 政府及相关部门按照职责做好防暴雨应急和抢险工作；", "2. 停止集会、停课、停业（除特殊行业外）；",
                "3. 做好山洪、滑坡、泥石流等灾害的防御和抢险工作。"]


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


class Story:
    """A registry, a dispatcher posting to the sink, and a clock that moves on between messages."""

    def __init__(self, sessions, config, clock, sink):
        self.sessions, self.config, self.clock, self.sink = sessions, config, clock, sink

    async def setup(self) -> None:
        async with self.sessions() as session, session.begin():
            plans = await add_registry(session)
            await session.execute(update(Plan).where(Plan.id == plans[(EAST_VILLAGE, "flood_plan")])
                                  .values(title="东村防汛应急预案"))

    async def send(self, warning, after_minutes: int = 0) -> int:
        """Accept `warning` now (after moving the clock on), deliver everything; the warning's id."""
        self.clock.advance(minutes=after_minutes)
        result = await ingest(self.sessions, warning, self.config, self.clock.now())
        await self.deliver()
        return result.warning.id

    async def deliver(self) -> None:
        """Send everything due now through the webhook channel to the sink."""
        async with new_http_session(self.config.warnings.channels) as http:
            dispatcher = Dispatcher(self.sessions, build_channels(self.config.warnings.channels, http), self.config,
                                    self.clock, "w1", rng=random.Random(1))
            await dispatcher.run_until_idle()

    def received(self, warning_id: int) -> dict[str, dict]:
        """What each recipient of a warning was posted: {recipient: body}."""
        bodies = [request.json for request in self.sink.requests]
        found = {body["recipient"]: body for body in bodies if body["warning_id"] == warning_id}
        assert len(found) == len([b for b in bodies if b["warning_id"] == warning_id])  # one message each
        return found


@pytest.fixture
async def story(sessions, config, clock, sink):
    told = Story(sessions, config, clock, sink)
    await told.setup()
    return told


def _link(body: dict) -> str:
    assert body["ack_url"].startswith("http://127.0.0.1:8080/ack/")
    return body["ack_url"]


def _update(identifier: str, colour: str, earlier, minutes: int, headline: str, **changes):
    return replace(make_warning(identifier, msg_type="Update", colour=colour, references=(earlier,),
                                sent=NOON + timedelta(minutes=minutes - 5),
                                expires=NOON + timedelta(hours=12, minutes=minutes)), headline=headline, **changes)


async def test_a_cancel_chain_word_by_word(story, sessions, config, clock):
    red = make_warning("zz-1", colour="red")
    alert_id = await story.send(red)
    alert = story.received(alert_id)
    # The first Alert keeps today's wording; a person's message names whom they answer for.
    for name, body in alert.items():
        assert body["title"] == "【紧急】暴雨红色预警：郑州市气象台发布暴雨红色预警信号", name
    water = alert[WATER]
    assert water["text"] == TODAY_RED.format(name=WATER, link=_link(water))
    villager = alert[VILLAGER]
    lines = TODAY_RED.format(name=VILLAGER, link=_link(villager)).split("\n")
    assert villager["text"] == "\n".join(lines[:1] + [DUTY] + lines[1:])

    orange = _update("zz-2", "orange", red, 30, "郑州市气象台将暴雨红色预警信号降级为暴雨橙色预警信号",
                     description="雨势减弱，预计未来3小时降雨量50毫米以上。", instruction="")
    downgrade_id = await story.send(orange, after_minutes=30)
    downgrade = story.received(downgrade_id)
    assert set(downgrade) == set(alert)  # everyone told of the red signal hears it was lowered
    villager = downgrade[VILLAGER]
    assert villager["title"] == "【暴雨预警降级】郑州市气象台将暴雨红色预警降级为橙色预警"
    assert villager["text"] == (
        f"{VILLAGER}：郑州市气象台将暴雨红色预警降级为橙色预警，请按预案调整响应。\n{DUTY}\n"
        "雨势减弱，预计未来3小时降雨量50毫米以上。\n影响区域：郑州市\n"
        "生效时间：2026-06-01 10:25 至 2026-06-01 22:30\n防御指南：\n"
        "1. 政府及相关部门按照职责做好防暴雨应急工作；\n2. 切断有危险的室外电源，暂停户外作业；\n"
        "3. 处于危险地带的单位应当停课、停业，采取专门措施保护已到校学生、幼儿和其他上班人员的安全；\n"
        "4. 做好城市、农田的排涝，注意防范可能引发的山洪、滑坡、泥石流等灾害。\n"
        f"请点击确认收到（叫应）：{_link(villager)}")

    red_again = _update("zz-3", "red", orange, 60, "郑州市气象台将暴雨橙色预警信号升级为暴雨红色预警信号")
    upgrade_id = await story.send(red_again, after_minutes=30)
    upgrade = story.received(upgrade_id)
    water = upgrade[WATER]
    assert water["title"] == "【暴雨预警升级】郑州市气象台将暴雨橙色预警升级为红色预警"
    assert water["text"] == (
        f"{WATER}：郑州市气象台将暴雨橙色预警升级为红色预警，请按预案调整响应。\n{DESCRIPTION}\n影响区域：郑州市\n"
        f"生效时间：2026-06-01 10:55 至 2026-06-01 23:00\n防御指南：\n{INSTRUCTION}\n"
        f"请在规定时限内点击确认收到（叫应），未确认将逐级上报：{_link(water)}")

    # The 解除 names no colour and no area of its own: it says those of the signal it lifts.
    cancel = replace(make_warning("zz-4", msg_type="Cancel", colour=None, references=(red_again,), geocodes=(),
                                  sent=NOON + timedelta(minutes=85), description="降雨已基本结束。"),
                     headline="郑州市气象台解除暴雨红色预警信号", instruction="")
    cancel_id = await story.send(cancel, after_minutes=30)
    lifted = story.received(cancel_id)
    assert set(lifted) == set(alert)
    for name, body in lifted.items():
        assert body["title"] == "【解除】郑州市气象台解除暴雨红色预警信号"
        duty = [body["text"].split("\n")[1]] if "role" in body else []  # a person's, checked below for one
        assert all(line.startswith("您是 ") for line in duty), name
        assert body["text"] == "\n".join([f"{name}：郑州市气象台解除暴雨红色预警信号。", *duty, "降雨已基本结束。",
                                          "解除区域：郑州市", "本条为解除通知，无需叫应。"])
        for words in ("【紧急】", "请立即", "启动响应", "未确认将逐级上报", "防御指南", "叫应）：", *NATIONAL_RED):
            assert words not in body["title"] + body["text"], (name, words)
        assert body["ack_url"] == ""  # no channel adds "收到请点击确认"
    assert lifted[VILLAGER]["text"].split("\n")[1] == DUTY

    async with sessions() as session:
        told = await notifications(session, cancel_id, purpose="notice")
    assert {row.status for row in told} == {"delivered", "failed"}  # 三号街道主任 has no address
    assert {row.ack_deadline for row in told} == {None}
    # Hours later nobody is reminded of the 解除, and nobody above anyone who could not be reached is told.
    clock.advance(hours=3)
    async with sessions() as session, session.begin():
        assert await escalate_due(session, clock.now(), config) == 0
    async with sessions() as session:
        assert await notifications(session, cancel_id, purpose="reminder") == []
        assert await notifications(session, cancel_id, purpose="escalation") == []


async def test_an_all_clear_asks_for_ack_when_configured(settings, sink, sessions, clock):
    templates = {key: template.model_dump() for key, template in settings.warnings.templates.items()}
    templates["all_clear"] = {"title": "【解除】{summary}", "text": "{recipient}：{summary}。\n请点击确认收到（叫应）：{ack_url}"}
    config = warning_settings(settings, sink.url_for("/hook"), templates=templates, all_clear={"ack": True})
    story = Story(sessions, config, clock, sink)
    await story.setup()
    red = make_warning("zz-1", colour="red")
    await story.send(red)
    cancel = make_warning("zz-2", msg_type="Cancel", colour="red", references=(red,), geocodes=(),
                          sent=NOON + timedelta(minutes=5))
    cancel_id = await story.send(cancel, after_minutes=10)
    body = story.received(cancel_id)[VILLAGER]
    assert body["text"] == f"{VILLAGER}：郑州市气象台解除暴雨红色预警信号。\n请点击确认收到（叫应）：{_link(body)}"
    async with sessions() as session:
        told = await notifications(session, cancel_id, purpose="notice", status="delivered")
    assert {row.ack_deadline for row in told} == {clock.now() + timedelta(minutes=15)}
    clock.advance(minutes=20)
    async with sessions() as session, session.begin():
        assert await escalate_due(session, clock.now(), config) > 0
    async with sessions() as session:
        assert len(await notifications(session, cancel_id, purpose="reminder")) == len(told)


@pytest.mark.parametrize("instruction, guidance", [
    (INSTRUCTION, [INSTRUCTION]),  # the issuer's own guidance, and nothing else
    ("", NATIONAL_RED),            # none given: the national guidance of the signal
])
async def test_the_defence_guidance_is_given_once(story, instruction, guidance):
    warning_id = await story.send(replace(make_warning("zz-1", colour="red"), instruction=instruction))
    for name, body in story.received(warning_id).items():
        text = body["text"]
        assert text.count("防御指南：") == 1, name
        shown = text.split("防御指南：\n", 1)[1].split("\n请在规定时限内", 1)[0]
        assert shown.split("\n") == guidance, name
        others = [INSTRUCTION] if instruction == "" else NATIONAL_RED
        assert not any(line in text for line in others), name


async def test_every_person_is_told_what_they_answer_for(story, sessions):
    warning_id = await story.send(make_warning("zz-1", colour="red"))
    received = story.received(warning_id)
    async with sessions() as session:
        rows = {row.recipient_name: row for row in await notifications(session, warning_id)}
        secret = await signing_secret(session)
        messages = (await session.get(Warning, warning_id)).messages
    # The shared text is rendered once per template, with the duty left as a slot for each recipient.
    assert set(messages) == {"rainstorm_severe"} and "您是" not in messages["rainstorm_severe"][1]
    expected = {"东村主任": "您是 东村 防汛副责任人（《东村防汛应急预案》）",
                "甲区区长": "您是 甲区 防汛责任人（《410102000000flood_plan》）",
                "二号镇副镇长": "您是 二号镇 防汛副责任人（《410102002000flood_plan》）"}
    for name, duty in expected.items():
        assert received[name]["text"].split("\n")[1] == duty
        assert rows[name].payload["duty"] == duty
        assert received[name]["ack_url"].endswith(ack_token(secret, rows[name].idempotency_key))
    for name, body in received.items():
        if rows[name].recipient_kind != "person":
            assert "您是" not in body["text"] and "duty" not in body  # a department answers as itself


async def test_a_reminder_keeps_the_duty_line(story, sessions, config, clock):
    warning_id = await story.send(make_warning("zz-1", colour="red"))
    clock.advance(minutes=16)  # red allows 15 minutes
    async with sessions() as session, session.begin():
        await escalate_due(session, clock.now(), config)
    await story.deliver()
    reminders = [request.json for request in story.sink.requests
                 if request.json.get("purpose") == "reminder" and request.json["recipient"] == VILLAGER]
    assert len(reminders) == 1 and reminders[0]["warning_id"] == warning_id
    assert reminders[0]["title"].startswith("【第1次提醒·请叫应】【紧急】暴雨红色预警")
    assert reminders[0]["text"].split("\n")[1] == DUTY


def test_the_duty_slot_is_filled_per_recipient_at_send_time():
    messages = {"t": ["标题", f"{RECIPIENT_SLOT}：\n{DUTY_SLOT}\n正文"]}
    assert compose({"message": "t", "duty": "您是 东村 防汛责任人"}, messages, "张三") == (
        "标题", "张三：\n您是 东村 防汛责任人\n正文")
    assert compose({"message": "t"}, messages, "市水利局") == ("标题", "市水利局：\n正文")
