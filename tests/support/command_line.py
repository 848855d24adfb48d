"""The `fangxun` command as a user runs it: a database to point it at, one-shot commands, and long-running ones
(`serve`, `dispatch`) in a subprocess whose printed lines are read from a file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from support.databases import empty_database_url
from support.waiting import wait_until
from support.warning_factories import add_registry

from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade

COMMAND = (sys.executable, "-m", "fangxun.cli")


@asynccontextmanager
async def registry_database(dialect: str, folder: Path):
    """The URL of a migrated database holding the small registry with 责任人: a SQLite file in `folder` or a
    new PostgreSQL database (a whole database: a subprocess is given only a URL), dropped afterwards."""
    async with empty_database_url(dialect, folder, f"cmd_{uuid.uuid4().hex[:10]}") as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            async with session_factory(engine)() as session, session.begin():
                await add_registry(session)
        finally:
            await engine.dispose()
        yield url


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the moment of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """One command to its end: (exit status, stdout, stderr)."""
    done = subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})
    return done.returncode, done.stdout, done.stderr


class Running:
    """A long-running command (`serve`, `dispatch`): its output goes to files that the test reads."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None):
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.out_path = folder / f"{args[0]}-{uuid.uuid4().hex[:6]}.out"
        self.err_path = self.out_path.with_suffix(".err")
        self.process: asyncio.subprocess.Process | None = None

    def output(self) -> str:
        """What it printed so far."""
        return self.out_path.read_text(encoding="utf-8") if self.out_path.exists() else ""

    def errors(self) -> str:
        """What it wrote to stderr so far."""
        return self.err_path.read_text(encoding="utf-8") if self.err_path.exists() else ""

    async def start(self, ready: str) -> list[str]:
        """Start it and wait until it prints a line containing `ready`; its lines so far."""
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(*COMMAND, *self.args, stdout=out, stderr=err,
                                                                env=self.env)

        async def printed() -> bool:
            assert self.process.returncode is None, f"exited {self.process.returncode}: {self.errors()}"
            return ready in self.output()

        await wait_until(printed, timeout=120)
        return self.output().splitlines()

    async def stop(self) -> int:
        """SIGTERM, then its exit status (killed when it does not stop)."""
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()

    async def __aenter__(self) -> Running:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
