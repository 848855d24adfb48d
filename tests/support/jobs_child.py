"""The scheduled jobs in a process of their own, for the two-process scheduler test.

python tests/support/jobs_child.py DATABASE_URL SEARCH_PATH HOOK_URL AT JOB...
Prints "ready", waits for a line on stdin (so that two children run together), runs each JOB (a WarningJobs method
name: escalate, close_expired, close_quiet_events, remind_plans) once with the clock standing at AT (ISO), in order, and prints
what they returned as one JSON list (SEARCH_PATH "-": SQLite).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.warning_factories import warning_settings  # noqa: E402

from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import create_engine, session_factory  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.scheduler import WarningJobs  # noqa: E402


async def main(url: str, search_path: str, hook: str, at: str, names: list[str]) -> None:
    options = {} if search_path == "-" else {"connect_args": {"server_settings": {"search_path": search_path}}}
    engine = create_engine(url, **options)
    jobs = WarningJobs(session_factory(engine), warning_settings(load_settings(), hook), Clock(
        fixed=datetime.fromisoformat(at)))
    async with engine.connect():  # connected before the start signal, so both children start their jobs together
        pass
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    results = [await getattr(jobs, name)() for name in names]
    print(json.dumps(results), flush=True)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5], sys.argv[5:]))
