"""The expansions of one process: those its intake leaves to finish in the background, and those whose writer's
lease lapsed (it stopped or died), picked up at start and every few seconds (`fangxun serve` and `dispatch`)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.core.clock import Clock
from fangxun.settings import Settings
from fangxun.warnings.delivery.outbox import Handoff
from fangxun.warnings.intake.expansion import Expansion
from fangxun.warnings.intake.expansion_store import lapsed, release_lease, take_over

log = logging.getLogger(__name__)

# How often unfinished expansions whose lease lapsed are looked for.
PICK_UP_SECONDS = 5.0


class ExpansionRunner:
    """Writes expansions leased to `holder` in background tasks, handing their rows to `handoff`."""

    def __init__(self, sessions: async_sessionmaker, settings: Settings, clock: Clock, holder: str, *,
                 handoff: Handoff | None = None, every: float = PICK_UP_SECONDS):
        self.sessions, self.settings, self.clock, self.holder = sessions, settings, clock, holder
        self.handoff = handoff
        self.every = every
        self._tasks: dict[int, asyncio.Task] = {}
        self._loop: asyncio.Task | None = None

    def carry_on(self, warning_id: int, expansion: Expansion | None = None, after: float = 0.0) -> None:
        """Finish writing the expansion of `warning_id` (leased to us) in the background: `expansion`, the intake's
        (it goes on from what it read), else a new one; `after` seconds from now."""
        if warning_id in self._tasks:
            return
        task = asyncio.create_task(self._expand(warning_id, expansion, after), name=f"fangxun-expansion-{warning_id}")
        self._tasks[warning_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(warning_id, None))

    async def _expand(self, warning_id: int, expansion: Expansion | None = None, after: float = 0.0) -> None:
        try:
            if after:
                await asyncio.sleep(after)
            if expansion is None:
                expansion = Expansion(warning_id, self.settings, self.holder, self.clock.now, handoff=self.handoff)
            progress = await expansion.run(self.sessions)
            log.info("expansion of warning %s %s: %d notifications", warning_id, progress.state, progress.written,
                     extra={"warning_id": warning_id})
        except Exception:  # its lease lapses and the next pick-up (here or elsewhere) resumes it
            log.exception("expanding warning %s failed", warning_id, extra={"warning_id": warning_id})

    async def pick_up(self) -> list[int]:
        """Take over the unfinished expansions whose lease lapsed and start them; the warnings taken."""
        now = self.clock.now()
        taken = []
        async with self.sessions() as session:
            candidates = [key for key in await lapsed(session, now) if key not in self._tasks]
        for warning_id in candidates:
            async with self.sessions() as session, session.begin():
                won = await take_over(session, warning_id, self.holder, now)
            if won:
                log.info("resuming the expansion of warning %s (its writer's lease lapsed)", warning_id,
                         extra={"warning_id": warning_id})
                taken.append(warning_id)
                self.carry_on(warning_id)
        return taken

    def start(self) -> None:
        """Pick up lapsed expansions now and every `every` seconds."""
        self._loop = asyncio.create_task(self._run(), name="fangxun-expansions")

    async def _run(self) -> None:
        while True:
            try:
                await self.pick_up()
            except Exception:
                log.exception("looking for unfinished expansions failed")
            await asyncio.sleep(self.every)

    async def wait_idle(self) -> None:
        """Until the expansions running now are written (tests and the CLI)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Stop looking and writing; what is unfinished is given up at once to whoever picks it up next."""
        tasks = [task for task in [self._loop, *self._tasks.values()] if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        try:
            async with self.sessions() as session, session.begin():
                await release_lease(session, self.holder, self.clock.now())
        except Exception:
            log.exception("giving up the expansions of %s failed", self.holder)
