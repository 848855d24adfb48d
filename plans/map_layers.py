"""Each level's boundaries in memory for the paged map, one copy per process, reloaded when that level's units
change; loading streams rows in chunks and builds indexes off the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.level_layer import LevelLayer, geometries_of_wkb
from fangxun.plans.models import AdminUnit

CHUNK_ROWS = 2000


@dataclass
class LevelEntry:
    """A level's layer with the unit facts that do not depend on plans, and the version it was built from."""

    version: tuple
    layer: LevelLayer
    facts: dict[str, tuple[str, str | None, bool]]   # code -> (name, parent_code, synthetic)


# Keyed by (database URL, level): one process may serve, or test, more than one database.
_cache: dict[tuple[str, str], LevelEntry] = {}
_building: dict[tuple[str, str], asyncio.Lock] = {}


async def level_version(session: AsyncSession, level: str) -> tuple:
    """What changes whenever a unit of `level` is added, removed or edited: (count, latest updated_at)."""
    count, latest = (await session.execute(
        select(func.count(), func.max(AdminUnit.updated_at)).where(AdminUnit.level == level))).one()
    return int(count), latest.isoformat() if latest else None


async def _load(session: AsyncSession, level: str, version: tuple) -> LevelEntry:
    codes: list[str] = []
    blobs: list[bytes | None] = []
    facts: dict[str, tuple[str, str | None, bool]] = {}
    result = await session.stream(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.parent_code, AdminUnit.geometry, AdminUnit.geometry_synthetic)
        .where(AdminUnit.level == level).execution_options(yield_per=CHUNK_ROWS))
    async for rows in result.partitions(CHUNK_ROWS):
        for code, name, parent_code, geometry, synthetic in rows:
            codes.append(code)
            blobs.append(geometry)
            facts[code] = (name, parent_code, bool(synthetic))
        await asyncio.sleep(0)

    def build() -> LevelLayer:
        return LevelLayer(codes, geometries_of_wkb(blobs))
    return LevelEntry(version, await asyncio.to_thread(build), facts)


async def level_entry(session: AsyncSession, level: str) -> LevelEntry:
    """The current layer of `level` (built on first use and after its units changed)."""
    key = (str(session.bind.url), level)
    version = await level_version(session, level)
    entry = _cache.get(key)
    if entry is not None and entry.version == version:
        return entry
    async with _building.setdefault(key, asyncio.Lock()):
        entry = _cache.get(key)
        if entry is None or entry.version != version:
            entry = _cache[key] = await _load(session, level, version)
    return entry


def forget_layers() -> None:
    """Drop every cached layer (tests use it between databases)."""
    _cache.clear()
