"""SMS replies (上行短信): the gateway's signed callback; 1 / 收到 / 确认 acknowledges the sender's open notifications of
the warnings in force; any other reply is kept, shown on the board beside the person and offered to the event's
journal; SMS text ends with 回复1确认收到."""

from __future__ import annotations

import asyncio
import json
import random
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from support.api_fixtures import PASSWORD, bearer, sign_in
from support.browser import ARTIFACTS, Watch, chromium, served
from support.browser import sign_in as browser_sign_in
from support.sinks import Sink
from support.warning_factories import EAST_VILLAGE, NOON, TOWN_2, add_registry, make_warning, warning_settings

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.errors import BadInput, ConfigError
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.inbound_sms import parse_inbound
from fangxun.warnings.acks.reply_rules import (REPLY_HINT, answerable, is_ack_reply, mask_phone, phone_key,
                                               phone_spellings, reply_fingerprint)
from fangxun.warnings.acks.tables import SmsReply, SmsReplyNotice
from fangxun.warnings.delivery.channels.base import OutgoingMessage
from fangxun.warnings.delivery.channels.config import SmsConfig
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.channels.signing import body_signature
from fangxun.warnings.delivery.channels.sms import sms_text
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.events.tables import JournalEntry
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.lifecycle import close_expired
from fangxun.warnings.tables import Notification

SECRET = "sms-callback-secret-0123456789"
TOKEN_ENV, CALLBACK_ENV = "FX_TEST_SMS_TOKEN", "FX_TEST_SMS_CALLBACK"
RECEIVED = "2026-06-01T10:05:00+08:00"
CALLBACK = "/api/callbacks/sms/sms"
# The persons of support.warning_factories reached by SMS (the red warning goes to every level).
PHONES = {"甲区区长": "13900000001", "甲区副区长": "13900000002", "乙区区长": "13900000003", "一号街道主任": "13900000005",
          "二号镇镇长": "13900000006", "东村支书": "13900000008", "东村主任": "13900000009"}


# --- the rules ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "1", "１", " 1", "1 ", " 1 ", "\t1\n", "1。", "1.", "1!", "１！", "　１　", "收到", "收到！", "收到!", "收到。", " 收 到 ",
    "收到~", "收到～", "【收到】", "确认", "确认！", "确认。", "已收到", "确认收到", "收到👍", "“收到”",
])
def test_these_replies_acknowledge(text):
    assert is_ack_reply(text)


@pytest.mark.parametrize("text", [
    "", " ", "！", "👍", "11", "1 1", "12", "2", "0", "一", "l", "I", "收到了", "已转移30人", "收到，已转移30人",
    "1人未转移", "不确认", "确认一下", "收", "到", "收到收到", "好的", "OK", "1收到", "回复1确认收到", "1\n已转移30人",
])
def test_other_replies_do_not(text):
    assert not is_ack_reply(text)


@pytest.mark.parametrize(("number", "key"), [
    ("13900000008", "13900000008"), ("139-0000-0008", "13900000008"), ("139 0000 0008", "13900000008"),
    ("+8613900000008", "13900000008"), ("+86 139-0000-0008", "13900000008"), ("8613900000008", "13900000008"),
    ("0086 139 0000 0008", "13900000008"), ("+86(139)0000-0008", "13900000008"), ("１３９００００００08", "13900000008"),
    ("0371-12345678", "037112345678"), ("+86 371 1234 5678", "037112345678"), ("(0371) 1234.5678", "037112345678"),
    ("+1 415 555 0100", "0014155550100"), ("10086", "10086"),
    ("", None), ("abc", None), ("139-0000-000x", None), ("+", None), ("12", None), ("1" * 21, None), ("+86+139", None),
])
def test_phone_numbers_are_compared_without_separators_and_country_code(number, key):
    assert phone_key(number) == key


def test_a_stored_address_may_carry_the_country_code():
    assert set(phone_spellings("13900000008")) == {"13900000008", "+8613900000008", "8613900000008",
                                                   "008613900000008"}
    assert "+8637112345678" in phone_spellings("037112345678")
    assert phone_spellings("0014155550100") == ("0014155550100", "+14155550100")
    assert mask_phone("+86 139-0000-0008") == "139****0008" and mask_phone("10086") == "10***"


@pytest.mark.parametrize(("status", "attempts", "acked", "expected"), [
    ("delivered", 1, False, True), ("sending", 0, False, True), ("failed", 3, False, True), ("dead", 5, False, True),
    ("pending", 1, False, True),  # tried once, waiting to retry
    ("pending", 0, False, False),  # not sent yet (quiet hours): nobody has read it
    ("cancelled", 1, False, False), ("delivered", 1, True, False),
])
def test_which_notifications_a_reply_answers(status, attempts, acked, expected):
    assert answerable(status, attempts, acked) is expected


def test_the_same_message_has_the_same_fingerprint_whatever_the_spelling():
    one = parse_inbound(json.dumps({"from": "+86 139-0000-0008", "text": "收到", "received_at": RECEIVED}).encode())
    two = parse_inbound(json.dumps({"from": "13900000008", "text": "收到",
                                    "received_at": "2026-06-01T02:05:00Z"}).encode())
    assert one.fingerprint == two.fingerprint
    assert one.received_at == datetime(2026, 6, 1, 2, 5, tzinfo=UTC)
    assert reply_fingerprint("13900000008", "收到", one.received_at) != reply_fingerprint("13900000008", "1",
                                                                                          one.received_at)
    # A gateway giving local time without a zone means Beijing time.
    naive = parse_inbound(b'{"from": "13900000008", "text": "1", "received_at": "2026-06-01 10:05:00"}')
    assert naive.received_at == one.received_at


MALFORMED = [
    (b"not json", ""), (b"\xff\xfe\x00", ""), (b"[1, 2]", ""), (b'"1"', ""), (b"[" * 10_000, ""),
    (b'{"text": "1", "received_at": "2026-06-01T10:05:00+08:00"}', "from"),
    (b'{"from": 13900000008, "text": "1", "received_at": "2026-06-01T10:05:00+08:00"}', "from"),
    (b'{"from": "  ", "text": "1", "received_at": "2026-06-01T10:05:00+08:00"}', "from"),
    (b'{"from": "139-abc", "text": "1", "received_at": "2026-06-01T10:05:00+08:00"}', "from"),
    (json.dumps({"from": "1" * 40, "text": "1", "received_at": RECEIVED}).encode(), "from"),
    (b'{"from": "13900000008", "received_at": "2026-06-01T10:05:00+08:00"}', "text"),
    (b'{"from": "13900000008", "text": ["1"], "received_at": "2026-06-01T10:05:00+08:00"}', "text"),
    (b'{"from": "13900000008", "text": " ", "received_at": "2026-06-01T10:05:00+08:00"}', "text"),
    (b'{"from": "13900000008", "text": "1\\u0000", "received_at": "2026-06-01T10:05:00+08:00"}', "text"),
    (b'{"from": "13900000008", "text": "\\ud800", "received_at": "2026-06-01T10:05:00+08:00"}', "text"),
    (json.dumps({"from": "13900000008", "text": "转" * 1001, "received_at": RECEIVED}).encode(), "text"),
    (b'{"from": "13900000008", "text": "1"}', "received_at"),
    (b'{"from": "13900000008", "text": "1", "received_at": 1780000000}', "received_at"),
    (b'{"from": "13900000008", "text": "1", "received_at": "yesterday"}', "received_at"),
    (b'{"from": "13900000008", "text": "1", "received_at": "0001-01-01T00:00:00+08:00"}', "received_at"),
    (b'{"from": "13900000008", "text": "1", "received_at": "9999-12-31T23:59:59-08:00"}', "received_at"),
]


@pytest.mark.parametrize(("body", "field"), MALFORMED)
def test_a_malformed_message_is_refused_naming_the_field(body, field):
    with pytest.raises(BadInput) as refused:
        parse_inbound(body)
    assert refused.value.extra["field"] == field
    assert refused.value.detail.startswith(f"{field}：" if field else "请求体")


MESSAGE = OutgoingMessage(recipient_name="东村支书", address="13900000008", title="【紧急】暴雨红色预警",
                          text="东村支书：预计未来3小时降雨量将达100毫米以上，请立即组织低洼地带人员转移。" * 3,
                          ack_url="http://fx.zzfx.gov.cn:8080/ack/AbCdEfGhIjKlMnOp", idempotency_key="fx-1-person")


@pytest.mark.parametrize("max_chars", [70, 80, 100, 120, 160, 300, 1000])
def test_sms_text_ends_with_the_reply_hint_and_fits(max_chars):
    text = sms_text(MESSAGE, "【郑州防汛】", max_chars, replies=True)
    assert text.endswith(REPLY_HINT) and len(text) <= max_chars
    assert text.startswith("【郑州防汛】【紧急】暴雨红色预警")
    # The link is kept when it fits beside the whole title; otherwise the reply alone acknowledges.
    link = f"收到请点击确认：{MESSAGE.ack_url} 或{REPLY_HINT}"
    assert (link in text) is (max_chars >= 100)
    if max_chars >= 1000:
        assert MESSAGE.text in text and "…" not in text


def test_sms_text_with_a_title_too_long_for_anything_else_keeps_the_hint_whole():
    message = replace(MESSAGE, title="暴雨红色预警" * 20, text="")
    text = sms_text(message, "【郑州防汛】", 70, replies=True)
    assert len(text) == 70 and text.endswith(f"… {REPLY_HINT}") and MESSAGE.ack_url not in text


def test_a_message_that_asks_for_no_ack_asks_for_no_reply():
    # An all-clear (解除) is sent without an ack link: nobody is asked to answer it, by link or by reply.
    lifted = replace(MESSAGE, title="【解除】郑州市气象台解除暴雨红色预警信号", text="东村支书：郑州市气象台解除暴雨红色预警信号。",
                     ack_url="")
    assert sms_text(lifted, "【郑州防汛】", 300, replies=True) == (
        "【郑州防汛】【解除】郑州市气象台解除暴雨红色预警信号：东村支书：郑州市气象台解除暴雨红色预警信号。")


def test_a_channel_without_a_callback_asks_for_no_reply():
    text = sms_text(MESSAGE, "【郑州防汛】", 300)
    assert REPLY_HINT not in text and text.endswith(MESSAGE.ack_url)


async def test_a_named_callback_secret_must_be_set_before_sending():
    config = SmsConfig(kind="sms", url="https://sms.example/send", token_env=TOKEN_ENV, callback_secret_env=CALLBACK_ENV)
    assert SmsConfig(kind="sms", url="https://sms.example/send", token_env=TOKEN_ENV).callback_secret_env is None
    async with new_http_session({"sms": config}) as http:
        with pytest.raises(ConfigError, match=CALLBACK_ENV):
            build_channels({"sms": config}, http, environ={TOKEN_ENV: "token"})
        assert build_channels({"sms": config}, http, environ={TOKEN_ENV: "token", CALLBACK_ENV: "s"})["sms"]


# --- over HTTP, on both databases -------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def channel_secrets(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "sms-token-123456")
    monkeypatch.setenv(CALLBACK_ENV, SECRET)


def sms_settings(base, sink):
    """Persons by SMS (the channel `sms` takes replies), departments by webhook; `sms-out` takes no replies."""
    return warning_settings(base, sink.url_for("/hook"), extra_channels={
        "sms": {"kind": "sms", "url": sink.url_for("/sms"), "token_env": TOKEN_ENV, "callback_secret_env": CALLBACK_ENV},
        "sms-out": {"kind": "sms", "url": sink.url_for("/sms-out"), "token_env": TOKEN_ENV},
    }, default_route={"departments": ["emergency"], "person_levels": [], "department_channel": "",
                      "person_channels": ["sms"], "template": "default"})


@pytest.fixture
def config(settings, sink):
    return sms_settings(settings, sink)


@pytest.fixture
async def dispatch(sessions, config, clock):
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "w1",
                                rng=random.Random(5), ack_base_url="http://fx.test")
        yield dispatcher.run_until_idle


async def start(sessions, config, dispatch) -> int:
    """The registry and a red rainstorm warning over the city, delivered; the warning's id."""
    async with sessions() as session, session.begin():
        await add_registry(session)
    result = await ingest(sessions, make_warning(), config, NOON)
    await dispatch()
    return result.warning.id


def signed(document: object, secret: str = SECRET) -> tuple[bytes, dict]:
    body = json.dumps(document, ensure_ascii=False).encode()
    return body, {"Content-Type": "application/json", "X-Fangxun-Signature": body_signature(secret, body)}


async def sms_reply(client, sender: str, text: str, received_at: str = RECEIVED, channel: str = "sms"):
    body, headers = signed({"from": sender, "text": text, "received_at": received_at})
    return await client.post(f"/api/callbacks/sms/{channel}", data=body, headers=headers)


async def rows(sessions, warning_id: int | None = None, **where) -> list[Notification]:
    async with sessions() as session:
        query = select(Notification).order_by(Notification.id)
        if warning_id is not None:
            query = query.where(Notification.warning_id == warning_id)
        for column, value in where.items():
            query = query.where(getattr(Notification, column) == value)
        return list((await session.execute(query)).scalars())


async def kept(sessions) -> list[SmsReply]:
    async with sessions() as session:
        return list((await session.execute(select(SmsReply).order_by(SmsReply.id))).scalars())


async def test_each_reply_form_acknowledges_only_the_senders_open_notifications_of_warnings_in_force(
        client, sessions, config, dispatch, sink, tokens):
    async with sessions() as session, session.begin():
        await add_registry(session)
    # An earlier warning (another thread) told the same people; it has ended, unanswered.
    old = await ingest(sessions, make_warning("old", colour="orange", sent=NOON - timedelta(hours=3),
                                              expires=NOON - timedelta(hours=1)), config, NOON - timedelta(hours=3))
    await dispatch()
    async with sessions() as session, session.begin():
        assert await close_expired(session, NOON) == [old.warning.id]
    current = (await ingest(sessions, make_warning(), config, NOON)).warning.id
    await dispatch()

    # Every SMS asked for the reply (and kept its link).
    texts = [r.json["text"] for r in sink.requests if r.path == "/sms"]
    assert len(texts) == 2 * len(PHONES)
    assert all(t.endswith("或回复1确认收到") and "http://fx.test/ack/" in t and len(t) <= 300 for t in texts), texts

    forms = [("甲区区长", "+86 139-0000-0001", "1"), ("甲区副区长", "8613900000002", "１"),
             ("一号街道主任", "139 0000 0005", " 1"), ("二号镇镇长", "0086 13900000006", "收到"),
             ("东村支书", "13900000008", "确认"), ("东村主任", "+86(139)0000-0009", "收到！")]
    for name, sender, text in forms:
        response = await sms_reply(client, sender, text)
        answer = await response.json()
        assert response.status == 200, answer
        assert (answer["kind"], answer["acknowledged"], answer["known"], answer["duplicate"]) == ("ack", 1, True, False)
    report = await (await sms_reply(client, "13900000003", "收到，已转移30人")).json()
    assert (report["kind"], report["acknowledged"], report["known"]) == ("report", 0, True)

    acked = {name for name, *_ in forms}
    for row in await rows(sessions, current):
        if row.recipient_name in acked:
            assert (row.acked_at, row.acked_via) == (NOON, "sms"), row.recipient_name
        else:  # 乙区区长 sent a report; the departments and the unreachable were not asked
            assert row.acked_at is None, row.recipient_name
    # The ended warning's notifications stay unanswered, also for those who replied 收到.
    assert all(row.acked_at is None for row in await rows(sessions, old.warning.id))
    # Every reply is kept once, tied to what its number was sent (of both warnings: the old one ended just now).
    replies = await kept(sessions)
    assert [(r.sender_name, r.is_ack, r.acked_count, r.known) for r in replies] == \
        [(name, True, 1, True) for name, *_ in forms] + [("乙区区长", False, 0, True)]
    async with sessions() as session:
        links = (await session.execute(select(func.count()).select_from(SmsReplyNotice))).scalar_one()
    assert links == 2 * len(replies)

    # The board shows the report beside 乙区区长, and the answers by SMS; never a phone number.
    head = await client.get("/api/board/threads", headers=bearer(tokens["viewer"]))
    board = await head.json()
    assert current in [t["thread_id"] for t in board["threads"]]
    response = await client.get(f"/api/board/threads/{current}/recipients", params={"per_page": "200"},
                                headers=bearer(tokens["viewer"]))
    by_name = {r["recipient_name"]: r for r in (await response.json())["items"]}
    assert [s["text"] for s in by_name["乙区区长"]["sms_replies"]] == ["收到，已转移30人"]
    assert by_name["乙区区长"]["state"] == "delivered"
    assert by_name["东村支书"]["state"] == "acknowledged" and by_name["东村支书"]["acked_via"] == "sms"
    assert by_name["东村支书"]["sms_replies"] == []  # a 收到 is shown as the state, not as a report
    assert board["sms_replies_unmatched"] == []
    text = await response.text() + await head.text()
    assert all(phone not in text for phone in PHONES.values())


async def test_a_reply_answers_the_reminders_and_escalations_sent_to_that_number(client, sessions, config, dispatch,
                                                                                 clock):
    warning_id = await start(sessions, config, dispatch)
    clock.advance(minutes=15)  # the red deadline: one reminder each
    async with sessions() as session, session.begin():
        await escalate_due(session, clock.now(), config)
    await dispatch()
    village_head = await rows(sessions, warning_id, address=PHONES["东村主任"])
    assert [r.purpose for r in village_head] == ["notice", "reminder"]
    answer = await (await sms_reply(client, PHONES["东村主任"], "收到")).json()
    assert answer["acknowledged"] == 1  # the notice, and with it the reminder that repeats it
    assert [(r.acked_at, r.acked_via) for r in await rows(sessions, warning_id, address=PHONES["东村主任"])] == \
        [(clock.now(), "sms")] * 2

    clock.advance(minutes=15)  # the reminders are unanswered too: up to the township
    async with sessions() as session, session.begin():
        await escalate_due(session, clock.now(), config)
    await dispatch()
    township = await rows(sessions, warning_id, address=PHONES["二号镇镇长"])
    escalations = [r for r in township if r.purpose == "escalation"]
    assert escalations and {r.unit_code for r in escalations} == {TOWN_2}
    answer = await (await sms_reply(client, "+86 139 0000 0006", "1", received_at="2026-06-01T10:31:00+08:00")).json()
    assert answer["acknowledged"] == len([r for r in township if r.purpose != "reminder"])
    assert all((r.acked_at, r.acked_via) == (clock.now(), "sms") for r in
               await rows(sessions, warning_id, address=PHONES["二号镇镇长"]))
    # Nobody else's: 东村支书 is still unanswered.
    assert all(r.acked_at is None for r in await rows(sessions, warning_id, address=PHONES["东村支书"]))


async def test_signatures_channels_and_malformed_messages_are_refused_and_nothing_is_kept(client, sessions, config,
                                                                                          dispatch, monkeypatch):
    warning_id = await start(sessions, config, dispatch)
    body, headers = signed({"from": PHONES["东村支书"], "text": "1", "received_at": RECEIVED})
    for wrong in ({}, {"X-Fangxun-Signature": ""}, {"X-Fangxun-Signature": "sha256="},
                  {"X-Fangxun-Signature": body_signature("another-secret", body)},
                  {"X-Fangxun-Signature": body_signature(SECRET, body + b" ")},
                  {"X-Fangxun-Signature": body_signature(SECRET, body).removeprefix("sha256=")},
                  {"X-Fangxun-Signature": "sha256=" + "é" * 64}):
        response = await client.post(CALLBACK, data=body, headers={"Content-Type": "application/json", **wrong})
        assert response.status == 401, wrong
        assert (await response.json())["error"] == "unauthorized"
    # Tampered after signing.
    response = await client.post(CALLBACK, data=body.replace(b'"1"', b'"2"'), headers=headers)
    assert response.status == 401

    for channel in ("nope", "hook", "sms-out", "sms%2F..", "x" * 300):
        response = await client.post(f"/api/callbacks/sms/{channel}", data=body, headers=headers)
        assert response.status == 404, channel
    for malformed, field in MALFORMED:
        signed_headers = {"X-Fangxun-Signature": body_signature(SECRET, malformed)}
        response = await client.post(CALLBACK, data=malformed, headers=signed_headers)
        answer = await response.json()
        assert (response.status, answer["field"]) == (400, field), (malformed[:80], answer)
    huge = json.dumps({"from": PHONES["东村支书"], "text": "1", "received_at": RECEIVED, "pad": "x" * 20_000}).encode()
    response = await client.post(CALLBACK, data=huge, headers={"X-Fangxun-Signature": body_signature(SECRET, huge)})
    assert response.status == 413

    monkeypatch.delenv(CALLBACK_ENV)
    response = await client.post(CALLBACK, data=body, headers=headers)
    assert response.status == 503 and CALLBACK_ENV not in await response.text()
    assert await kept(sessions) == []
    assert all(r.acked_at is None for r in await rows(sessions, warning_id))


async def test_the_same_message_twice_is_kept_once(client, sessions, config, dispatch, tokens):
    warning_id = await start(sessions, config, dispatch)
    first = await (await sms_reply(client, PHONES["东村支书"], "收到")).json()
    again = await sms_reply(client, "+86 139-0000-0008", "收到", received_at="2026-06-01T02:05:00Z")
    assert again.status == 200
    assert (await again.json()) == {**first, "recorded": False, "duplicate": True}
    # The same report posted five times at once: kept once.
    posts = await asyncio.gather(*(sms_reply(client, PHONES["东村主任"], "已转移30人") for _ in range(5)))
    answers = [await p.json() for p in posts]
    assert [p.status for p in posts] == [200] * 5
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 4
    assert len({a["reply_id"] for a in answers}) == 1
    # A different moment is another message.
    later = await (await sms_reply(client, PHONES["东村主任"], "已转移30人", "2026-06-01T10:45:00+08:00")).json()
    assert later["duplicate"] is False
    assert [(r.sender_name, r.text) for r in await kept(sessions)] == [
        ("东村支书", "收到"), ("东村主任", "已转移30人"), ("东村主任", "已转移30人")]
    assert [r.acked_via for r in await rows(sessions, warning_id, address=PHONES["东村支书"])] == ["sms"]
    page = await (await client.get(f"/api/board/threads/{warning_id}/recipients", params={"per_page": "200"},
                                   headers=bearer(tokens["viewer"]))).json()
    by_name = {r["recipient_name"]: r for r in page["items"]}
    assert [s["text"] for s in by_name["东村主任"]["sms_replies"]] == ["已转移30人", "已转移30人"]


async def test_replies_from_unknown_numbers_are_kept_and_flagged(client, sessions, config, dispatch, tokens):
    await start(sessions, config, dispatch)
    unknown = await (await sms_reply(client, "13812345678", "1")).json()
    assert (unknown["kind"], unknown["acknowledged"], unknown["known"]) == ("ack", 0, False)
    # In the registry (a withdrawn plan's deputy), but sent nothing: known, tied to no warning.
    contact = await (await sms_reply(client, "13900000004", "我已不负责该村")).json()
    assert (contact["kind"], contact["known"]) == ("report", True)
    board = await (await client.get("/api/board/threads", headers=bearer(tokens["viewer"]))).json()
    assert [(r["sender_name"], r["known"], r["phone_masked"], r["text"], r["is_ack"])
            for r in board["sms_replies_unmatched"]] == [
        ("乙区前副区长", True, "139****0004", "我已不负责该村", False), ("", False, "138****5678", "1", True)]


async def test_a_report_is_offered_to_the_event_journal_and_made_an_entry_once(client, sessions, config, dispatch,
                                                                               tokens, user):
    async with sessions() as session, session.begin():
        await add_registry(session)
    intake = await ingest(sessions, make_warning(), config, NOON)
    await dispatch()
    event_id = intake.event_id
    assert event_id is not None
    await sms_reply(client, PHONES["东村支书"], "已转移30人，安置在村委会")
    await sms_reply(client, PHONES["东村主任"], "1")  # a 收到 is no report
    await sms_reply(client, PHONES["乙区区长"], "道路积水，已封闭两处", "2026-06-01T10:20:00+08:00")
    await sms_reply(client, "13812345678", "我村已转移")  # unknown: tied to no event

    listed = await (await client.get(f"/api/events/{event_id}/sms-replies", headers=bearer(tokens["viewer"]))).json()
    assert [(r["sender_name"], r["text"], r["unit_code"], r["unit_name"], r["state"], r["state_label"])
            for r in listed["items"]] == [
        ("东村支书", "已转移30人，安置在村委会", EAST_VILLAGE, "甲区 · 二号镇 · 东村", "unverified", "待核实"),
        ("乙区区长", "道路积水，已封闭两处", "410103000000", "乙区", "unverified", "待核实")]
    village_report, district_report = (r["id"] for r in listed["items"])

    # The event page offers them, with the button for a duty officer.
    await sign_in(client, user, PASSWORD)
    page = await (await client.get(f"/events/{event_id}")).text()
    assert "待核实的短信回复" in page and "已转移30人，安置在村委会" in page and "139****0008" in page
    assert f'action="/events/{event_id}/sms-replies/{village_report}/journal"' in page

    url = f"/api/events/{event_id}/sms-replies/{village_report}/journal"
    assert (await client.post(url, headers=bearer(tokens["viewer"]))).status == 403
    response = await client.post(url, json={"figures": {"evacuated": 30}}, headers=bearer(tokens["editor"]))
    entry = await response.json()
    assert response.status == 201, entry
    assert response.headers["Location"] == f"/api/events/{event_id}/journal/{entry['id']}"
    assert (entry["unit_code"], entry["department"], entry["figures"]) == (EAST_VILLAGE, None, {"evacuated": 30})
    assert entry["text"] == "短信回复（东村支书，139****0008，2026-06-01 10:05）：已转移30人，安置在村委会"
    again = await client.post(url, headers=bearer(tokens["editor"]))
    assert again.status == 409 and (await again.json())["journal_entry_id"] == entry["id"]
    for wrong in (f"/api/events/{event_id}/sms-replies/999999/journal", f"/api/events/999999/sms-replies/1/journal"):
        assert (await client.post(wrong, headers=bearer(tokens["editor"]))).status == 404
    bad = await client.post(f"/api/events/{event_id}/sms-replies/{district_report}/journal",
                            json={"text": "改写"}, headers=bearer(tokens["editor"]))
    assert bad.status == 400 and (await bad.json())["field"] == "text"

    journal = await (await client.get(f"/api/events/{event_id}/journal", headers=bearer(tokens["viewer"]))).json()
    assert [e["id"] for e in journal["entries"]] == [entry["id"]] and journal["totals"]["evacuated"] == 30
    listed = await (await client.get(f"/api/events/{event_id}/sms-replies", headers=bearer(tokens["viewer"]))).json()
    assert [(r["state"], r["journal_entry_id"]) for r in listed["items"]] == [("journal", entry["id"]),
                                                                            ("unverified", None)]

    # One action on the page: the district report becomes an entry and the timeline shows it.
    response = await client.post(f"/events/{event_id}/sms-replies/{district_report}/journal", allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith(f"/events/{event_id}#entry-")
    page = await (await client.get(f"/events/{event_id}")).text()
    assert "待核实的短信回复" not in page and "道路积水，已封闭两处" in page
    async with sessions() as session:
        entries = list((await session.execute(select(JournalEntry).order_by(JournalEntry.id))).scalars())
    assert [(e.unit_code, e.author) for e in entries] == [(EAST_VILLAGE, entries[0].author), ("410103000000", "user:duty01")]
    assert f"#entry-{entries[1].id}" in location


# --- the board and the event page in headless Chromium (SQLite) ------------------------------------------

BROWSER_USER = "duty05"


class _Nowhere:
    """Channel URLs for a service that sends nothing (no dispatcher runs in it)."""

    @staticmethod
    def url_for(path: str) -> str:
        return f"http://127.0.0.1:9{path}"


async def _browser_database(url: str) -> int:
    """The registry, an editor, a red warning delivered by SMS; the event's id."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await add_registry(session)
            await create_user(session, BROWSER_USER, PASSWORD, "editor")
        async with Sink() as sink:
            settings = sms_settings(load_settings(), sink)
            intake = await ingest(sessions, make_warning(), settings, NOON)
            async with new_http_session(settings.warnings.channels) as http:
                await Dispatcher(sessions, build_channels(settings.warnings.channels, http), settings,
                                 Clock(fixed=NOON), "browser", rng=random.Random(1)).run_until_idle()
        return intake.event_id
    finally:
        await engine.dispose()


def _post_reply(base: str, sender: str, text: str) -> dict:
    body, headers = signed({"from": sender, "text": text, "received_at": RECEIVED})
    request = urllib.request.Request(f"{base}{CALLBACK}", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_board_and_the_event_page_show_the_replies_in_a_browser(tmp_path):
    url = f"sqlite:///{tmp_path}/sms.db"
    event_id = asyncio.run(_browser_database(url))
    settings = sms_settings(load_settings(), _Nowhere)
    watch = Watch()
    with served(url, settings, Clock(zone=settings.registry.timezone, fixed=NOON)) as base, chromium() as browser:
        assert _post_reply(base, PHONES["东村支书"], "已转移30人")["kind"] == "report"
        assert _post_reply(base, PHONES["东村主任"], "收到！")["acknowledged"] == 1
        assert _post_reply(base, "13812345678", "我是新任村支书")["known"] is False
        page = browser.new_page(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
        watch(page)
        browser_sign_in(page, base, "/board", BROWSER_USER, "#board[data-board-ready='true']")
        page.fill("#filters input[name='q']", "东村")
        page.wait_for_selector("#search-results:not([hidden]) tr[data-recipient-id]")
        secretary = page.locator("tr", has_text="东村支书")
        assert secretary.locator("small.sms-reply").inner_text() == "短信回复：已转移30人"
        head = page.locator("tr", has_text="东村主任")
        assert head.get_attribute("data-state") == "acknowledged"
        assert head.locator(".pill-sms").inner_text() == "短信回复确认"
        unmatched = page.locator("#sms-unmatched").inner_text()
        assert "未知号码" in unmatched and "138****5678" in unmatched and "我是新任村支书" in unmatched
        assert "13900000008" not in page.content()
        page.screenshot(path=str(ARTIFACTS / "duty_board_sms_replies.png"), full_page=True)
        page.wait_for_load_state("networkidle")  # between two refreshes: leaving aborts none

        # On the event page the report waits to be verified; one click makes it a journal entry.
        page.goto(f"{base}/events/{event_id}")
        report = page.locator("#sms-reports li.sms-report")
        assert report.count() == 1 and "已转移30人" in report.inner_text() and "东村" in report.inner_text()
        page.screenshot(path=str(ARTIFACTS / "event_sms_reports.png"), full_page=True)
        report.locator("button").click()
        page.wait_for_url(f"{base}/events/{event_id}#entry-*")
        assert page.locator("#sms-reports").count() == 0
        entry = page.locator("li.item-journal")
        assert entry.count() == 1 and "短信回复（东村支书，139****0008" in entry.inner_text()
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
