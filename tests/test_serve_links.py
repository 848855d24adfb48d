"""叫应 links as a user meets them: `fangxun serve` in its own process on a port of its own, a warning posted,
the link taken out of the delivered message, opened and answered; on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin

import aiohttp
import lxml.html
import pytest
from lxml import etree
from support.cap_samples import ZZ_SENDER, zhengzhou_rainstorm
from support.command_line import Running, free_port, registry_database, run
from support.waiting import wait_until

BEIJING = timezone(timedelta(hours=8))
LINK = re.compile(r"https?://\S+?/ack/[A-Za-z0-9_-]{16}")
ATOM = "{http://www.w3.org/2005/Atom}"
STARTED = "fangxun 已启动"
LOCAL_ONLY = "只能在本机打开"
PUBLIC_URL = "https://fangxun.zzfx.example"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A migrated database with the small registry and its 责任人."""
    async with registry_database(request.param, tmp_path) as url:
        yield url


def rainstorm() -> bytes:
    """A red rainstorm signal over the registry's districts, sent a few minutes ago (serve runs on the real clock)."""
    sent = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=5)
    return zhengzhou_rainstorm("red", identifier=f"{ZZ_SENDER}_{sent:%Y%m%d%H%M%S}_links", sent=sent.isoformat(),
                               expires=(sent + timedelta(days=1)).isoformat())


def write_config(folder: Path, outbox: Path, public_url: str = "") -> Path:
    """A configuration file: the record channel writes to `outbox`; [server] public_url when given."""
    config = folder / "fangxun.toml"
    server = f'[server]\npublic_url = "{public_url}"\n\n' if public_url else ""
    config.write_text(f'{server}[warnings.channels.record]\nkind = "record"\npath = "{outbox}"\n', encoding="utf-8")
    return config


def editor_token(env: dict[str, str]) -> str:
    """An editor's API token, made with `fangxun token create` (printed on its last line)."""
    code, out, err = run("token", "create", "--role", "editor", "--label", "值班", env=env)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def started_at(lines: list[str]) -> str:
    """The address the start line names, e.g. http://127.0.0.1:19101."""
    line = next(line for line in lines if STARTED in line)
    return re.search(r"http://\S+?(?=/)", line).group(0)


async def post_warning(http: aiohttp.ClientSession, base: str, token: str) -> int:
    async with http.post(f"{base}/api/warnings", data=rainstorm(), headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/cap+xml"}) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["warning_id"]


async def delivered_to(outbox: Path, recipient: str) -> dict:
    """The record channel's line of the message to `recipient`, once it is there."""
    found: list[dict] = []

    async def there() -> bool:
        lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
        found[:] = [line for line in map(json.loads, lines) if line["recipient"] == recipient]
        return bool(found)

    await wait_until(there)
    return found[0]


def link_in(message: dict) -> str:
    """The one 叫应 link in the message text, as the person reads it."""
    links = LINK.findall(message["text"])
    assert len(set(links)) == 1, message["text"]
    return links[0]


async def answer(http: aiohttp.ClientSession, link: str) -> str:
    """Open the link, then press 收到 as the page's form does; the page shown afterwards."""
    async with http.get(link) as response:
        assert response.status == 200
        page = lxml.html.fromstring(await response.text())
    (form,) = page.forms
    assert form.xpath(".//button")[0].text_content() == "收到"
    action = urljoin(link, form.action)
    origin = re.match(r"https?://[^/]+", link).group(0)
    async with http.request(form.method, action, data=dict(form.form_values()), headers={"Origin": origin}) as response:
        assert response.status == 200
        return await response.text()


async def acknowledged(http: aiohttp.ClientSession, base: str, token: str, warning_id: int, recipient: str) -> dict:
    async with http.get(f"{base}/api/warnings/{warning_id}/notifications",
                        headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
        items = (await response.json())["items"]
    return next(item for item in items if item["recipient_name"] == recipient)


async def test_a_link_from_a_delivered_message_acknowledges_on_the_port_serve_listens_on(database_url, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    env = {"FANGXUN_DATABASE_URL": database_url, "FANGXUN_CONFIG": str(write_config(tmp_path, outbox))}
    token = editor_token(env)
    port = free_port()
    async with Running(tmp_path, "serve", "--port", str(port), env=env) as serve:
        lines = await serve.start(STARTED)
        base = f"http://127.0.0.1:{port}"
        assert started_at(lines) == base
        # Nobody else can open such a link: the service says so, in Chinese, at start.
        assert (f"注意：消息中的叫应链接为 {base}/ack/…，只能在本机打开；"
                "请在配置文件 [server] public_url 中填写他人可访问的地址") in lines
        async with aiohttp.ClientSession() as http:
            warning_id = await post_warning(http, base, token)
            message = await delivered_to(outbox, "甲区区长")
            link = link_in(message)
            assert link.startswith(f"{base}/ack/") and link == message["ack_url"]
            page = await answer(http, link)
            assert "已确认收到" in page and "甲区区长" in page
            state = await acknowledged(http, base, token, warning_id, "甲区区长")
            assert state["state"] == "acknowledged" and state["acked_via"] == "page" and state["acked_at"]
            # Somebody else's message is still waiting: the link answered for its own recipient only.
            assert (await acknowledged(http, base, token, warning_id, "乙区区长"))["acked_at"] is None
    assert serve.process.returncode == 0, serve.errors()


async def test_public_url_wins_for_messages_and_the_feed_and_silences_the_warning(database_url, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    config = write_config(tmp_path, outbox, public_url=PUBLIC_URL + "/")
    env = {"FANGXUN_DATABASE_URL": database_url}
    token = editor_token(env)
    async with Running(tmp_path, "--config", str(config), "serve", "--port", "0", env=env) as serve:
        lines = await serve.start(STARTED)
        base = started_at(lines)  # the port the OS chose
        assert not base.endswith(":0")
        assert not any(LOCAL_ONLY in line for line in lines)
        assert f"叫应链接：{PUBLIC_URL}/ack/…（取自配置 [server] public_url）" in lines
        async with aiohttp.ClientSession() as http:
            warning_id = await post_warning(http, base, token)
            link = link_in(await delivered_to(outbox, "甲区区长"))
            assert link.startswith(f"{PUBLIC_URL}/ack/")
            async with http.get(f"{base}/cap/feed.xml", headers={"Authorization": f"Bearer {token}"}) as response:
                feed = etree.fromstring(await response.read())
            assert feed.findtext(f"{ATOM}id") == f"{PUBLIC_URL}/cap/feed.xml"
            assert [entry.get("href") for entry in feed.findall(f"{ATOM}entry/{ATOM}link")] == [
                f"{PUBLIC_URL}/cap/{warning_id}.xml"]
            # Behind the public address it is this service: the same link, reached directly, answers.
            page = await answer(http, link.replace(PUBLIC_URL, base))
            assert "已确认收到" in page
    assert serve.process.returncode == 0, serve.errors()


async def test_on_every_interface_the_links_name_an_address_that_opens(database_url, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    env = {"FANGXUN_DATABASE_URL": database_url, "FANGXUN_CONFIG": str(write_config(tmp_path, outbox))}
    token = editor_token(env)
    async with Running(tmp_path, "serve", "--host", "0.0.0.0", "--port", "0", env=env) as serve:
        lines = await serve.start(STARTED)
        port = started_at(lines).rsplit(":", 1)[1]
        notice = next(line for line in lines if line.startswith("注意："))
        # This machine's own address (or, on a machine without one, 127.0.0.1 and the loopback warning).
        assert ("按本机地址生成" in notice and f"0.0.0.0:{port}" in notice) or LOCAL_ONLY in notice
        announced = re.search(r"(http://\S+?)/ack/…", notice).group(1)
        assert "0.0.0.0" not in announced and announced.endswith(f":{port}")
        async with aiohttp.ClientSession() as http:
            await post_warning(http, f"http://127.0.0.1:{port}", token)
            link = link_in(await delivered_to(outbox, "甲区区长"))
            assert link.startswith(f"{announced}/ack/")
            assert "已确认收到" in await answer(http, link)
    assert serve.process.returncode == 0, serve.errors()


async def test_dispatch_on_its_own_says_where_its_links_point(database_url, tmp_path):
    config = tmp_path / "fangxun.toml"
    config.write_text(f'[server]\nport = 19101\n\n[warnings.channels.record]\nkind = "record"\n'
                      f'path = "{tmp_path / "outbox.jsonl"}"\n', encoding="utf-8")
    async with Running(tmp_path, "--database-url", database_url, "--config", str(config), "dispatch") as dispatch:
        lines = await dispatch.start(LOCAL_ONLY)
    assert "叫应链接为 http://127.0.0.1:19101/ack/…，只能在本机打开" in lines[1]
    assert dispatch.process.returncode == 0, dispatch.errors()
    config.write_text(config.read_text(encoding="utf-8").replace("port = 19101", f'public_url = "{PUBLIC_URL}"'),
                      encoding="utf-8")
    async with Running(tmp_path, "--database-url", database_url, "--config", str(config), "dispatch") as dispatch:
        lines = await dispatch.start("叫应链接")
    assert lines[1] == f"叫应链接：{PUBLIC_URL}/ack/…（取自配置 [server] public_url）"
    assert dispatch.process.returncode == 0, dispatch.errors()
