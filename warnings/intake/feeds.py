"""Polling CAP sources: an Atom or RSS listing of CAP documents, or a directory of *.xml files.

Every document goes through parse_cap and ingest; a refused one is logged with its reason and the
others go on. New documents are ingested oldest `sent` first, so an Update follows its Alert.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

import aiohttp
import defusedxml.ElementTree as safe_et
from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.core.clock import Clock
from fangxun.settings import Settings
from fangxun.warnings.config import Feed
from fangxun.warnings.delivery.outbox import Handoff
from fangxun.warnings.intake.cap_intake import ingest_cap, read_cap
from fangxun.warnings.intake.cap_parse import CAP_NS, CapRejected
from fangxun.warnings.intake.normalised import NormalisedWarning

log = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
CAP_TYPES = ("application/cap+xml", "application/common-alerting-protocol+xml")
DONE_DIR, REFUSED_DIR = "done", "refused"
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10)
FETCH_CONCURRENCY = 4
# New documents taken per poll at most; the rest wait for the next one.
MAX_PER_POLL = 200
REMEMBERED = 20_000
# A listing may embed every document it lists.
LISTING_FACTOR = 8


class FeedError(Exception):
    """A listing or document could not be fetched or read (tried again at the next poll)."""


class TooLarge(FeedError):
    """A document is over the size limit (refused for good, not tried again)."""


@dataclass(frozen=True)
class Item:
    """One document a listing names: a URL to fetch, or the document embedded in the entry."""

    origin: str
    url: str | None = None
    inline: bytes | None = None


@dataclass
class FeedReport:
    """What one poll did."""

    feed: str
    ingested: list[str] = field(default_factory=list)  # identifiers of new messages
    repeated: int = 0  # documents already held (nothing written)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (document, reason)
    errors: list[str] = field(default_factory=list)  # fetch or read failures, retried next time
    failed: bool = False  # the listing (or the directory) itself could not be read


@dataclass
class _Parsed:
    origin: str
    data: bytes
    warning: NormalisedWarning
    path: Path | None = None


class FeedPoller:
    """Polls the configured feeds; remembers in memory which documents were handled."""

    def __init__(self, sessions: async_sessionmaker, settings: Settings, clock: Clock,
                 http: aiohttp.ClientSession | None, *, settle_seconds: float = 1.0,
                 handoff: Handoff | None = None):
        self.sessions = sessions
        self.handoff = handoff
        self.settings = settings
        self.clock = clock
        self.http = http
        # A file younger than this may still be being written.
        self.settle_seconds = settle_seconds
        self._done: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def poll(self, feed: Feed) -> FeedReport:
        """Poll one feed; never raises for a bad listing or document (it is logged and reported)."""
        report = FeedReport(feed.name)
        try:
            if feed.url is not None:
                await self._poll_url(feed, report)
            else:
                await self._poll_directory(feed, report)
        except FeedError as exc:
            report.errors.append(str(exc))
            report.failed = True
            log.warning("feed %s: %s", feed.name, exc)
        return report

    # --- memory ---------------------------------------------------------------------------------

    def _seen(self, feed: Feed, key: str) -> bool:
        return (feed.name, key) in self._done

    def _remember(self, feed: Feed, key: str) -> None:
        self._done[(feed.name, key)] = None
        while len(self._done) > REMEMBERED:
            self._done.popitem(last=False)

    # --- Atom / RSS -----------------------------------------------------------------------------

    async def _poll_url(self, feed: Feed, report: FeedReport) -> None:
        if self.http is None:
            raise FeedError("没有可用的 HTTP 客户端")
        limit = self.settings.warnings.max_cap_bytes
        listing = await fetch(self.http, feed.url, limit * LISTING_FACTOR)
        items = [item for item in listing_items(listing, feed.url) if not self._seen(feed, item.origin)]
        semaphore = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def document(item: Item) -> bytes | None:
            if item.inline is not None:
                return item.inline
            async with semaphore:
                try:
                    return await fetch(self.http, item.url, limit)
                except TooLarge as exc:
                    report.refused.append((item.origin, str(exc)))
                    log.warning("feed %s: refused %s: %s", feed.name, item.url, exc)
                    self._remember(feed, item.origin)
                except FeedError as exc:
                    report.errors.append(f"{item.url}: {exc}")
                    log.warning("feed %s: %s: %s", feed.name, item.url, exc)
                return None

        items = items[:MAX_PER_POLL]
        parsed = []
        for item, data in zip(items, await asyncio.gather(*(document(item) for item in items))):
            if data is None:
                continue
            warning, _ = self._parse(feed, item.origin, data, report)
            self._remember(feed, item.origin)  # refused ones too: the reason is logged once
            if warning is not None:
                parsed.append(_Parsed(item.origin, data, warning))
        await self._ingest_in_order(feed, parsed, report)

    # --- directory ------------------------------------------------------------------------------

    async def _poll_directory(self, feed: Feed, report: FeedReport) -> None:
        folder = Path(feed.directory)
        if not folder.is_dir():
            raise FeedError(f"目录 {folder} 不存在")
        parsed = []
        for path, data, refusal in self._new_files(feed, folder, report):
            warning, reason = (None, refusal) if refusal else self._parse(feed, path.name, data, report)
            if warning is None:
                self._file_away(feed, path, data, REFUSED_DIR, reason=reason)
            else:
                parsed.append(_Parsed(path.name, data, warning, path))
        await self._ingest_in_order(feed, parsed, report)

    def _new_files(self, feed: Feed, folder: Path, report: FeedReport):
        """(path, bytes, refusal) of each settled *.xml file not handled yet; oversize files are not read."""
        limit = self.settings.warnings.max_cap_bytes
        taken = 0
        for path in sorted(folder.glob("*.xml")):
            if taken >= MAX_PER_POLL:
                return
            try:
                if not path.is_file() or time.time() - path.stat().st_mtime < self.settle_seconds:
                    continue
                with path.open("rb") as handle:
                    size = os.fstat(handle.fileno()).st_size
                    # A growing file reports a wrong size: never read more than the limit allows.
                    data = handle.read(limit + 1) if size <= limit else b""
            except OSError as exc:
                report.errors.append(f"{path.name}: {exc.strerror or exc}")
                continue
            refusal = None
            if size > limit or len(data) > limit:
                refusal = f"文件有 {max(size, len(data))} 字节，超过上限 {limit} 字节，未解析"
                data = f"{path.name}:{size}:{path.stat().st_mtime_ns}".encode()  # remembered by this
            if self._seen(feed, _digest(data)):
                continue
            if refusal:
                report.refused.append((path.name, refusal))
                log.warning("feed %s: refused %s: %s", feed.name, path.name, refusal)
            taken += 1
            yield path, data, refusal

    def _file_away(self, feed: Feed, path: Path, data: bytes, folder: str, reason: str | None = None) -> None:
        """Move a handled file to done/ or refused/ (with the reason beside it); else remember its hash."""
        target_dir = path.parent / folder
        target = target_dir / path.name
        try:
            target_dir.mkdir(exist_ok=True)
            if target.exists():
                target = target_dir / f"{path.stem}-{_digest(data)[:12]}{path.suffix}"
            path.replace(target)
            if reason is not None:
                target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
        except OSError as exc:
            log.warning("feed %s: cannot move %s to %s/ (%s); remembered by content instead",
                        feed.name, path.name, folder, exc.strerror or exc)
            self._remember(feed, _digest(data))

    # --- both -----------------------------------------------------------------------------------

    def _parse(self, feed: Feed, origin: str, data: bytes,
               report: FeedReport) -> tuple[NormalisedWarning | None, str | None]:
        """(warning, None), or (None, reason) for a refused document (logged and reported)."""
        try:
            return read_cap(data, self.settings), None
        except CapRejected as exc:
            report.refused.append((origin, exc.detail))
            log.warning("feed %s: refused %s: %s", feed.name, origin, exc.detail)
            return None, exc.detail

    async def _ingest_in_order(self, feed: Feed, parsed: list[_Parsed], report: FeedReport) -> None:
        for item in sorted(parsed, key=lambda p: (p.warning.sent, p.origin)):
            try:
                result = await ingest_cap(self.sessions, item.warning, item.data, self.settings, self.clock.now(),
                                          source="feed", entered_by=f"feed:{feed.name}", handoff=self.handoff)
            except Exception as exc:  # a database failure: leave the document for the next poll
                log.exception("feed %s: ingesting %s failed", feed.name, item.origin)
                report.errors.append(f"{item.origin}: {type(exc).__name__}")
                self._done.pop((feed.name, item.origin), None)
                continue
            if result.created:
                report.ingested.append(item.warning.identifier)
                log.info("feed %s: accepted %s (%s), %d notifications", feed.name, item.warning.identifier,
                         item.origin, result.notifications)
                for note in item.warning.notes:
                    log.info("feed %s: %s: %s", feed.name, item.origin, note)
            else:
                report.repeated += 1
            if item.path is not None:
                self._file_away(feed, item.path, item.data, DONE_DIR)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def fetch(http: aiohttp.ClientSession, url: str, limit: int) -> bytes:
    """GET `url` (http or https only) and return at most `limit` bytes; FeedError otherwise."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FeedError(f"只能读取 http(s) 地址：{url}")
    try:
        async with http.get(url, timeout=FETCH_TIMEOUT, max_redirects=3) as response:
            if response.status != 200:
                raise FeedError(f"HTTP {response.status}")
            if response.content_length is not None and response.content_length > limit:
                raise TooLarge(f"有 {response.content_length} 字节，超过上限 {limit} 字节，未读取")
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise TooLarge(f"超过上限 {limit} 字节，未读取")
            return bytes(body)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FeedError(f"无法读取：{type(exc).__name__} {exc}".strip()) from None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _cap_link(entry: Element, base: str) -> str | None:
    """The CAP document an Atom entry points at: a CAP-typed link, else an enclosure, else the alternate."""
    links = entry.findall(f"{ATOM}link")
    ranked = sorted(links, key=lambda link: (link.get("type", "").lower() not in CAP_TYPES,
                                             link.get("rel", "alternate") not in ("enclosure", "alternate")))
    for link in ranked:
        href = (link.get("href") or "").strip()
        if href:
            return urljoin(base, href)
    return None


def _embedded(entry: Element) -> bytes | None:
    content = entry.find(f"{ATOM}content")
    if content is None:
        return None
    alert = next((child for child in content if child.tag == f"{{{CAP_NS}}}alert"), None)
    if alert is None:
        return None
    try:
        return ElementTree.tostring(alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)
    except ValueError:  # an element of another namespace (a signature): keep generated prefixes
        return ElementTree.tostring(alert, encoding="utf-8", xml_declaration=True)


def listing_items(data: bytes, base: str) -> list[Item]:
    """The CAP documents an Atom or RSS 2.0 listing names (relative links resolved against `base`)."""
    try:
        root = safe_et.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # defusedxml and expat raise several kinds; all mean "not a listing"
        raise FeedError(f"订阅源不是有效的 XML（{type(exc).__name__}）") from None
    items: list[Item] = []
    if root.tag == f"{ATOM}feed":
        for entry in root.findall(f"{ATOM}entry"):
            # A document embedded in the entry saves a request (and needs no access to the link).
            url, inline = _cap_link(entry, base), _embedded(entry)
            origin = url or (entry.findtext(f"{ATOM}id") or "").strip()
            if origin and (url or inline):
                items.append(Item(origin, None if inline else url, inline))
        return items
    if _local(root.tag) == "rss":
        for entry in root.iter("item"):
            enclosure = entry.find("enclosure")
            href = enclosure.get("url") if enclosure is not None else None
            href = (href or entry.findtext("link") or "").strip()
            if href:
                url = urljoin(base, href)
                items.append(Item(url, url))
        return items
    raise FeedError(f"订阅源既不是 Atom 也不是 RSS（根元素 {_local(root.tag) or root.tag}）")
