"""One POST through the shared aiohttp session; transport failures become ChannelResults."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

import aiohttp
from yarl import URL

from fangxun.warnings.delivery.channels.base import ChannelResult
from fangxun.warnings.delivery.channels.classify import classify_status, url_secrets

# Enough for any error body worth reading; a receiver cannot make us buffer more.
MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "fangxun-notify/1"


class Reply(NamedTuple):
    """A 2xx answer: status and (the first MAX_BODY_BYTES of) the body."""

    status: int
    body: bytes


async def post(
    http: aiohttp.ClientSession,
    url: str,
    data: bytes,
    headers: dict[str, str],
    timeout_seconds: float,
    secrets: Iterable[str],
    *,
    encoded: bool = False,
) -> Reply | ChannelResult:
    """POST `data`; a 2xx answer comes back as a Reply, anything else as a failed ChannelResult."""
    headers = {"User-Agent": USER_AGENT, **headers}
    try:
        async with http.post(
            # encoded=True sends the URL exactly as built (DingTalk's sign is encoded already).
            URL(url, encoded=True) if encoded else _parsed_url(url),
            data=data,
            headers=headers,
            timeout=_timeout(timeout_seconds),
            allow_redirects=False,
            raise_for_status=False,
        ) as response:
            body = await _read_capped(response)
            if 200 <= response.status < 300:
                return Reply(response.status, body)
            return classify_status(
                response.status,
                body,
                secrets=secrets,
                retry_after=response.headers.get("Retry-After"),
            )
    except TimeoutError:
        return ChannelResult(ok=False, retry=True, detail=f"timeout after {timeout_seconds:g} s")
    except aiohttp.InvalidURL:
        return ChannelResult(ok=False, retry=False, detail="invalid URL in the channel configuration")
    except aiohttp.ClientConnectionError as exc:
        return ChannelResult(ok=False, retry=True, detail=f"connection failed ({type(exc).__name__})")
    except (aiohttp.ClientError, OSError) as exc:
        return ChannelResult(ok=False, retry=True, detail=f"transport error ({type(exc).__name__})")


@lru_cache(maxsize=64)
def _parsed_url(url: str) -> URL:
    """A channel's fixed URL, parsed once (URL objects are immutable)."""
    return URL(url)


@lru_cache(maxsize=16)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """The total-time limit of one POST (ClientTimeout is immutable, so it is shared)."""
    return aiohttp.ClientTimeout(total=seconds)


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    if response.content_length is not None and response.content_length <= MAX_BODY_BYTES:
        return await response.read()  # a small announced body: one read, no chunk loop
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(16 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    return b"".join(chunks)[:MAX_BODY_BYTES]


def accepted(reply: Reply) -> ChannelResult:
    """Success for a 2xx answer whose body carries no verdict."""
    return _success(reply.status)


@lru_cache(maxsize=16)
def _success(status: int) -> ChannelResult:
    """One shared (immutable) success result per 2xx status."""
    return ChannelResult(ok=True, retry=False, detail=f"HTTP {status}", status=status)


def finish(outcome: Reply | ChannelResult, judge: Callable[[Reply], ChannelResult]) -> ChannelResult:
    """A failed outcome as it is, or a 2xx Reply judged by the channel's body rule."""
    return outcome if isinstance(outcome, ChannelResult) else judge(outcome)


class SignedHttpChannel:
    """A channel posting to one URL, signed with an optional secret at the time of `clock`."""

    def __init__(
        self,
        name: str,
        http: aiohttp.ClientSession,
        url: str,
        *,
        secret: str | None = None,
        timeout_seconds: float = 10,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self._http = http
        self._url = url
        self._secret = secret
        self._timeout = timeout_seconds
        self._clock = clock
        self._secrets = url_secrets(url) + ([secret] if secret else [])
