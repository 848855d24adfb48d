"""Gates: concurrency, rate with an injected clock, and one slow channel never delaying another."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from support.sinks import make_sink_fixture  # noqa: F401 (fixture)

from fangxun.core.errors import ConfigError
from fangxun.warnings.delivery.channels.base import OutgoingMessage
from fangxun.warnings.delivery.channels.config import WebhookConfig
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.channels.gate import Gate


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def message(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        f"收件人{n}", "", "暴雨蓝色预警", "正文", f"https://fangxun.example/ack/{n}", f"key-{n}", {}
    )


async def test_concurrency_is_capped():
    gate = Gate(concurrency=2)
    running, peak, release = 0, 0, asyncio.Event()

    async def work():
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    tasks = [asyncio.create_task(gate.run(work)) for _ in range(6)]
    await asyncio.sleep(0.01)
    assert (running, gate.active) == (2, 2)
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2 and gate.active == 0


async def test_rate_spaces_starts_by_the_injected_clock():
    time = FakeTime()
    gate = Gate(concurrency=10, rate_per_second=2, clock=time.clock, sleep=time.sleep)
    starts: list[float] = []

    async def work():
        starts.append(time.now)

    await asyncio.gather(*(gate.run(work) for _ in range(5)))
    assert starts == pytest.approx([100.0, 100.5, 101.0, 101.5, 102.0])


async def test_rate_refills_while_idle_up_to_the_burst():
    time = FakeTime()
    gate = Gate(concurrency=10, rate_per_second=0.5, burst=3, clock=time.clock, sleep=time.sleep)
    starts: list[float] = []

    async def work():
        starts.append(time.now)

    await asyncio.gather(*(gate.run(work) for _ in range(4)))
    assert starts == pytest.approx([100.0, 100.0, 100.0, 102.0])
    time.now += 60  # idle for a minute: the bucket holds at most the burst again
    starts.clear()
    await asyncio.gather(*(gate.run(work) for _ in range(4)))
    assert starts == pytest.approx([162.0, 162.0, 162.0, 164.0])


async def test_wecom_default_rate_keeps_under_20_a_minute():
    time = FakeTime()
    gate = Gate(concurrency=1, rate_per_second=0.3, clock=time.clock, sleep=time.sleep)
    starts: list[float] = []

    async def work():
        starts.append(time.now)

    await asyncio.gather(*(gate.run(work) for _ in range(40)))
    first_minute = [t for t in starts if t < starts[0] + 60]
    assert len(first_minute) <= 20


async def test_a_failing_call_releases_its_slot():
    gate = Gate(concurrency=1)

    async def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await gate.run(boom)
    assert await asyncio.wait_for(gate.run(lambda: asyncio.sleep(0, "free")), 1) == "free"


async def test_a_slow_channel_does_not_delay_another(make_sink):
    slow_sink, fast_sink = await make_sink(), await make_sink()
    slow_sink.script("slow", delay=2.0, times=10)
    configs = {
        "slow": WebhookConfig(kind="webhook", url=slow_sink.url_for("/a"), concurrency=2, timeout_seconds=5),
        "fast": WebhookConfig(kind="webhook", url=fast_sink.url_for("/b"), concurrency=2),
    }
    # A pool just big enough for both channels: the gate keeps A from taking B's connections.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4)) as http:
        channels = build_channels(configs, http, environ={})
        loop = asyncio.get_running_loop()
        began = loop.time()
        slow_tasks = [asyncio.create_task(channels["slow"].send(message(n))) for n in range(10)]
        await asyncio.sleep(0.05)
        fast_results = await asyncio.gather(*(channels["fast"].send(message(n)) for n in range(30)))
        fast_done = loop.time() - began
        assert all(result.ok for result in fast_results)
        assert fast_done < 1.0, fast_done
        assert not any(task.done() for task in slow_tasks)
        assert slow_sink.max_in_flight <= 2
        for task in slow_tasks:
            task.cancel()
        await asyncio.gather(*slow_tasks, return_exceptions=True)


async def test_a_pool_smaller_than_the_channels_need_is_refused():
    configs = {
        name: WebhookConfig(kind="webhook", url=f"http://127.0.0.1:9/{name}", concurrency=20)
        for name in "abcdef"
    }
    async with aiohttp.ClientSession() as http:  # aiohttp's default pool: 100 connections
        with pytest.raises(ConfigError, match="120"):
            build_channels(configs, http, environ={})
    async with new_http_session(configs) as http:
        assert set(build_channels(configs, http, environ={})) == set("abcdef")


async def test_without_gates_the_same_slow_receiver_would_hold_up_the_other(make_sink):
    """The control of the test above: ungated, A's requests fill the pool and B waits."""
    slow_sink, fast_sink = await make_sink(), await make_sink()
    slow_sink.script("slow", delay=2.0, times=10)
    configs = {
        "slow": WebhookConfig(kind="webhook", url=slow_sink.url_for("/a"), concurrency=2, timeout_seconds=5),
        "fast": WebhookConfig(kind="webhook", url=fast_sink.url_for("/b"), concurrency=2),
    }
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4)) as http:
        channels = build_channels(configs, http, environ={})
        slow_tasks = [asyncio.create_task(channels["slow"].inner.send(message(n))) for n in range(10)]
        await asyncio.sleep(0.05)
        fast = asyncio.gather(*(channels["fast"].inner.send(message(n)) for n in range(5)))
        done, _ = await asyncio.wait([fast], timeout=0.5)
        assert not done
        for task in [*slow_tasks, fast]:
            task.cancel()
        await asyncio.gather(*slow_tasks, fast, return_exceptions=True)
