"""责任人 list benchmark on the demo registry, on SQLite and PostgreSQL.

The whole city's list (one row per person of each unit: ~3,500 units, ~10,000 persons) as an XLSX file, with every
10th phone changed and every 20th person left out; prints the time of a dry run and of the import itself (each
changed contact updated or deleted with its audit row; target < 10 s), with the figures of the import.
Run: .venv/bin/python tests/bench/bench_contact_import.py [sqlite|postgresql]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from sqlalchemy import select  # noqa: E402
from support.databases import migrated_engine  # noqa: E402

from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.plans.contact_import import import_contact_file  # noqa: E402
from fangxun.plans.contact_rules import PERSON_ROLES  # noqa: E402
from fangxun.plans.models import Contact  # noqa: E402
from fangxun.plans.plan_fields import ROLE_LABELS  # noqa: E402
from fangxun.plans.tabular import write_table  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402

HEADERS = ["区划代码", "姓名", "职务", "角色", "手机", "固话"]


async def _list_rows(sessions) -> list[list]:
    """One row per distinct person of each unit; every 10th phone changed, every 20th person left out."""
    async with sessions() as session:
        contacts = (await session.execute(
            select(Contact.unit_code, Contact.name, Contact.position, Contact.role, Contact.phone)
            .where(Contact.role.in_(PERSON_ROLES), Contact.phone.is_not(None)).order_by(Contact.id))).all()
    rows, seen = [], set()
    for unit_code, name, position, role, phone in contacts:
        if (unit_code, name) in seen:
            continue
        seen.add((unit_code, name))
        number = len(seen)
        if number % 20 == 0:
            continue
        mobile = f"139{number:08d}" if number % 10 == 5 else phone
        rows.append([unit_code, name, position, ROLE_LABELS[role], mobile, ""])
    return rows


async def bench(backend: str) -> None:
    settings, today = load_settings(), Clock().today()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "责任人.xlsx"
        async with migrated_engine(backend, workdir) as engine:
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                await load_demo(session, settings, today)
            rows = await _list_rows(sessions)
            write_table(path, HEADERS, rows)
            start = time.perf_counter()
            async with sessions() as session, session.begin():
                preview = await import_contact_file(session, path, actor="bench", dry_run=True)
            dry_seconds = time.perf_counter() - start
            start = time.perf_counter()
            async with sessions() as session, session.begin():
                result = await import_contact_file(session, path, actor="bench")
            import_seconds = time.perf_counter() - start
    assert preview.counts() == result.counts()
    print(f"[{backend}] {len(rows)} rows: dry run {dry_seconds:.2f} s, import {import_seconds:.2f} s "
          f"(target < 10 s): {result}; {len(result.changes)} contacts changed, each audited")


def main() -> None:
    for backend in sys.argv[1:] or ["sqlite", "postgresql"]:
        asyncio.run(bench(backend))


if __name__ == "__main__":
    main()
