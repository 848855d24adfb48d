"""Feeds: Atom and RSS listings served by a local aiohttp server, and a directory of files; a bad document
never stops the others."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import aiohttp
import pytest
import shapely
from aiohttp import web
from sqlalchemy import func, select, update
from support.cap_samples import BILLION_LAUGHS, ZZ_POLYGON, ZZ_SENDER
from support.warning_api import zz
from support.warning_factories import CITY, NOON, make_warning, warning_settings

from fangxun.plans.models import AdminUnit
from fangxun.warnings.config import Feed
from fangxun.warnings.intake.cap_write import atom_feed, cap_document
from fangxun.warnings.intake.feeds import FeedPoller
from fangxun.warnings.tables import Warning, WarningUnit

HOOK = "http://127.0.0.1:9/hook"
ALERT_ID, UPDATE_ID = f"{ZZ_SENDER}_20260601095500_0", f"{ZZ_SENDER}_20260601095800_0"
ALERT_SENT, UPDATE_SENT = "2026-06-01T09:55:00+08:00", "2026-06-01T09:58:00+08:00"
ALERT = zz("orange", identifier=ALERT_ID, sent=ALERT_SENT)
UPDATE = zz("red", "Update", identifier=UPDATE_ID, sent=UPDATE_SENT, references=((ZZ_SENDER, ALERT_ID, ALERT_SENT),))


class FeedServer:
    """Serves documents by path and counts the requests for each."""

    def __init__(self):
        self.documents: dict[str, tuple[int, bytes, str]] = {}
        self.hits: dict[str, int] = {}

    def put(self, path: str, body: bytes, status: int = 200, content_type: str = "application/cap+xml") -> None:
        self.documents[path] = (status, body, content_type)

    async def handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        status, body, content_type = self.documents.get(request.path, (404, b"", "text/plain"))
        return web.Response(status=status, body=body, content_type=content_type)


@pytest.fixture
async def served(aiohttp_server):
    feeds = FeedServer()
    app = web.Application()
    app.router.add_get("/{tail:.*}", feeds.handle)
    server = await aiohttp_server(app)
    return feeds, str(server.make_url("")).rstrip("/")


@pytest.fixture
def config(settings):
    small = warning_settings(settings, HOOK)
    return small.model_copy(update={"warnings": small.warnings.model_copy(update={"max_cap_bytes": 20_000})})


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def poller(sessions, config, clock, http) -> FeedPoller:
    return FeedPoller(sessions, config, clock, http, settle_seconds=0)


def atom_listing(links: list[str]) -> bytes:
    entries = "".join(f"<entry><id>urn:x:{i}</id><title>预警 {i}</title><updated>2026-06-01T02:00:00Z</updated>"
                      f'<link rel="alternate" type="application/cap+xml" href="{href}"/></entry>'
                      for i, href in enumerate(links))
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id>'
            f"<title>郑州气象</title><updated>2026-06-01T02:00:00Z</updated>{entries}</feed>").encode()


async def held(sessions) -> dict[str, Warning]:
    async with sessions() as session:
        return {row.identifier: row for row in (await session.execute(select(Warning))).scalars()}


async def test_an_atom_listing_is_ingested_in_order_and_a_bad_document_stops_nothing(sessions, config, clock, http,
                                                                                    served, registry):
    feeds, base = served
    # Newest first, as feeds list them; the hostile one sits between; relative links resolve.
    feeds.put("/feed.xml", atom_listing(["docs/update.xml", f"{base}/docs/bomb.xml", "/docs/alert.xml",
                                         "docs/missing.xml"]), content_type="application/atom+xml")
    feeds.put("/docs/update.xml", UPDATE)
    feeds.put("/docs/bomb.xml", BILLION_LAUGHS)
    feeds.put("/docs/alert.xml", ALERT)
    feed = Feed(name="met", url=f"{base}/feed.xml", interval_seconds=60)
    polling = poller(sessions, config, clock, http)

    report = await polling.poll(feed)
    assert report.ingested == [ALERT_ID, UPDATE_ID]   # oldest sent first, so the Update follows its Alert
    assert [origin for origin, _ in report.refused] == [f"{base}/docs/bomb.xml"]
    assert "实体" in report.refused[0][1]
    assert len(report.errors) == 1 and "missing.xml" in report.errors[0] and "404" in report.errors[0]
    stored = await held(sessions)
    assert set(stored) == {ALERT_ID, UPDATE_ID}
    assert stored[ALERT_ID].status == "superseded" and stored[UPDATE_ID].thread_id == stored[ALERT_ID].id
    assert stored[UPDATE_ID].source == "feed" and stored[UPDATE_ID].entered_by == "feed:met"
    assert stored[UPDATE_ID].raw.encode() == UPDATE

    # The next poll fetches only the listing and what failed before.
    feeds.put("/docs/missing.xml", b"<not-cap/>")
    again = await polling.poll(feed)
    assert again.ingested == [] and again.repeated == 0 and again.errors == []
    assert [origin for origin, _ in again.refused] == [f"{base}/docs/missing.xml"]
    assert feeds.hits == {"/feed.xml": 2, "/docs/update.xml": 1, "/docs/bomb.xml": 1, "/docs/alert.xml": 1,
                          "/docs/missing.xml": 2}
    # After a restart (nothing remembered) the documents held are recognised and nothing is written twice.
    fresh = await poller(sessions, config, clock, http).poll(feed)
    assert fresh.ingested == [] and fresh.repeated == 2
    assert len(await held(sessions)) == 2


async def test_an_rss_listing_and_an_atom_feed_with_embedded_documents(sessions, config, clock, http, served,
                                                                      registry):
    feeds, base = served
    feeds.put("/rss.xml", f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>橙色</title><link>{base}/a.xml</link></item>
        <item><title>更新</title><enclosure url="/u.xml" type="application/cap+xml" length="1"/></item>
        </channel></rss>""".encode(), content_type="application/rss+xml")
    feeds.put("/a.xml", ALERT)
    feeds.put("/u.xml", UPDATE)
    report = await poller(sessions, config, clock, http).poll(Feed(name="rss", url=f"{base}/rss.xml"))
    assert report.ingested == [ALERT_ID, UPDATE_ID] and report.refused == [] and report.errors == []

    # Another fangxun's own feed: each entry embeds its <alert>, the links need a token we do not have.
    warning = make_warning("embedded-1", sent=NOON)
    feeds.put("/cap/feed.xml", atom_feed([(warning, f"{base}/cap/7.xml")], f"{base}/cap/feed.xml", NOON),
              content_type="application/atom+xml")
    report = await poller(sessions, config, clock, http).poll(Feed(name="peer", url=f"{base}/cap/feed.xml"))
    assert report.ingested == ["embedded-1"] and "/cap/7.xml" not in feeds.hits


@pytest.mark.parametrize("listing, words", [(b"<html><body>maintenance</body></html>", "既不是 Atom 也不是 RSS"),
                                            (b"not xml", "不是有效的 XML"), (None, "HTTP 503")])
async def test_a_broken_listing_is_reported_not_raised(sessions, config, clock, http, served, listing, words):
    feeds, base = served
    feeds.put("/feed.xml", listing or b"", status=200 if listing else 503, content_type="text/html")
    report = await poller(sessions, config, clock, http).poll(Feed(name="met", url=f"{base}/feed.xml"))
    assert report.ingested == [] and len(report.errors) == 1 and words in report.errors[0]


async def test_an_oversized_document_is_refused_without_reading_it_whole(sessions, config, clock, http, served,
                                                                        registry):
    feeds, base = served
    feeds.put("/feed.xml", atom_listing(["/big.xml", "/alert.xml"]), content_type="application/atom+xml")
    feeds.put("/big.xml", ALERT.replace(b"</alert>", b"<!--" + b"x" * 30_000 + b"--></alert>"))
    feeds.put("/alert.xml", ALERT)
    report = await poller(sessions, config, clock, http).poll(Feed(name="met", url=f"{base}/feed.xml"))
    assert report.ingested == [ALERT_ID]
    assert report.refused and "超过上限 20000 字节" in report.refused[0][1]


async def test_a_directory_feed_takes_new_files_and_files_them_away(sessions, config, clock, tmp_path, registry):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "b-update.xml").write_bytes(UPDATE)
    (inbox / "a-alert.xml").write_bytes(ALERT)
    (inbox / "c-bomb.xml").write_bytes(BILLION_LAUGHS)
    (inbox / "d-huge.xml").write_bytes(b"<" * 30_000)
    (inbox / "e-manual.xml").write_bytes(cap_document(make_warning("manual-1", sent=NOON)))
    (inbox / "notes.txt").write_text("不是 CAP")
    feed = Feed(name="drop", directory=str(inbox), interval_seconds=30)
    polling = FeedPoller(sessions, config, clock, None, settle_seconds=0)

    report = await polling.poll(feed)
    assert report.ingested == [ALERT_ID, UPDATE_ID, "manual-1"] and report.errors == []
    assert sorted(name for name, _ in report.refused) == ["c-bomb.xml", "d-huge.xml"]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a-alert.xml", "b-update.xml", "e-manual.xml"]
    refused = sorted(p.name for p in (inbox / "refused").iterdir())
    assert refused == ["c-bomb.xml", "c-bomb.xml.reason.txt", "d-huge.xml", "d-huge.xml.reason.txt"]
    assert "超过上限" in (inbox / "refused" / "d-huge.xml.reason.txt").read_text(encoding="utf-8")
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["notes.txt"]
    assert (await polling.poll(feed)).ingested == []

    # The same document dropped again is recognised (200-style no-op) and filed away too.
    (inbox / "again.xml").write_bytes(ALERT)
    report = await polling.poll(feed)
    assert report.repeated == 1 and (inbox / "done" / "again.xml").exists()
    assert len(await held(sessions)) == 3


async def test_schema_valid_documents_whose_shapes_cannot_all_be_read_are_kept_with_notes(sessions, config, clock,
                                                                                         tmp_path, registry):
    """Feeds parse strictly: a stray bracket, an empty <polygon> or a ring across ±180 once lost the document."""
    ids = {name: f"{ZZ_SENDER}_2026060109{minute}00_0" for name, minute in (("stray", "50"), ("empty", "51"),
                                                                          ("pacific", "52"))}
    sent = {name: f"2026-06-01T09:{ids[name][-6:-4]}:00+08:00" for name in ids}
    async with sessions() as session, session.begin():  # the test city gets its box: shapes can meet it
        await session.execute(update(AdminUnit).where(AdminUnit.code == CITY)
                              .values(geometry=shapely.to_wkb(shapely.box(113.0, 34.0, 114.0, 35.0))))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "stray.xml").write_bytes(zz("orange", identifier=ids["stray"], sent=sent["stray"],
                                         polygon=ZZ_POLYGON.replace("113.75 ", "113.75) ", 1)))
    (inbox / "empty.xml").write_bytes(zz("orange", identifier=ids["empty"], sent=sent["empty"], polygon=""))
    # Over the Pacific at Zhengzhou's latitude, no geocode and no <expires>: read as a band round the
    # whole globe (-179.5 … 179.5), it would have warned the test city.
    (inbox / "pacific.xml").write_bytes(zz("orange", identifier=ids["pacific"], sent=sent["pacific"], expires=None,
                                           geocodes=(), polygon="30,179.5 30,-179.5 40,-179.5 40,179.5 30,179.5"))
    report = await FeedPoller(sessions, config, clock, None, settle_seconds=0).poll(
        Feed(name="drop", directory=str(inbox)))
    assert report.refused == [] and report.errors == []
    assert report.ingested == [ids["stray"], ids["empty"], ids["pacific"]]
    assert not (inbox / "refused").exists()

    stored = await held(sessions)
    area = "区域“郑州市金水区、二七区、中原区”的多边形"
    assert stored[ids["stray"]].notes == [f"{area}坐标中有多余字符“)”，已去除"]
    assert stored[ids["stray"]].areas[0]["polygons"][0][1] == [113.75, 34.8]
    assert stored[ids["empty"]].notes == [f"{area}为空，已略去该多边形"]
    pacific = stored[ids["pacific"]]
    assert pacific.notes == ["未注明失效时间，按 24 小时计"] and pacific.expires_assumed is True
    assert pacific.expires == datetime(2026, 6, 2, 1, 52, tzinfo=timezone.utc)
    async with sessions() as session:
        units = dict((await session.execute(select(WarningUnit.warning_id, func.count())
                                            .group_by(WarningUnit.warning_id))).all())
    # The empty polygon's geocodes still count (both districts and everything below them); the cleaned
    # polygon meets the city too; the Pacific ring meets no unit.
    assert units[stored[ids["empty"]].id] == 7 and units[stored[ids["stray"]].id] == 8
    assert pacific.id not in units


async def test_a_file_still_being_written_waits(sessions, config, clock, tmp_path, registry):
    (tmp_path / "alert.xml").write_bytes(ALERT)
    polling = FeedPoller(sessions, config, clock, None, settle_seconds=60)
    feed = Feed(name="drop", directory=str(tmp_path))
    assert (await polling.poll(feed)).ingested == []
    old = (tmp_path / "alert.xml").stat().st_mtime - 120
    os.utime(tmp_path / "alert.xml", (old, old))
    assert (await polling.poll(feed)).ingested == [ALERT_ID]


async def test_a_missing_directory_is_reported(sessions, config, clock, tmp_path):
    report = await FeedPoller(sessions, config, clock, None).poll(Feed(name="gone", directory=str(tmp_path / "x")))
    assert report.errors and "不存在" in report.errors[0]
