"""Each level's boundaries in memory for the paged map, one copy per process, reloaded when that level's units
change. Rows are streamed in small batches; the geometry work (indexes, labels, simplifying a zoom band, writing it
as GeoJSON) runs in a worker process, so that none of it holds this process's event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.cpu_pool import in_worker
from fangxun.geo.geometry_json import Packed, simplified_geometry_json
from fangxun.geo.level_layer import LevelLayer, pixel_degrees, zoom_band
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_queries import units_version

BATCH_ROWS = 500
# Simplified boundaries are on the PRECISION grid already: rounding gives the short decimal form.
BAND_DECIMALS = 5


@dataclass
class LevelEntry:
    """A level's layer with the unit facts that do not depend on plans, the version it was built from, and its
    boundaries as GeoJSON text per zoom band (in the layer's code order, made on first use)."""

    version: tuple
    layer: LevelLayer
    facts: dict[str, tuple[str, str | None, bool]]   # code -> (name, parent_code, synthetic)
    bands: dict[int, Packed] = field(default_factory=dict)
    band_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


# Keyed by (database URL, level): one process may serve, or test, more than one database.
_cache: dict[tuple[str, str], LevelEntry] = {}
_building: dict[tuple[str, str], asyncio.Lock] = {}


async def _load(session: AsyncSession, level: str, version: tuple) -> LevelEntry:
    codes: list[np.ndarray] = []
    boundaries: list[Packed] = []
    facts: dict[str, tuple[str, str | None, bool]] = {}
    connection = await session.connection()
    result = await connection.stream(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.parent_code, AdminUnit.geometry, AdminUnit.geometry_synthetic)
        .where(AdminUnit.level == level).execution_options(yield_per=BATCH_ROWS))
    async for rows in result.partitions(BATCH_ROWS):
        for code, name, parent_code, _, synthetic in rows:
            facts[code] = (name, parent_code, bool(synthetic))
        # Codes and boundaries cross to the worker as a few arrays, not as an object per unit (pickling those holds
        # the GIL for tens of milliseconds); they are put together a batch at a time.
        codes.append(np.array([row[0] for row in rows], dtype=str))
        boundaries.append(Packed.of(row[3] for row in rows))
        await asyncio.sleep(0)
    all_codes = np.concatenate(codes) if codes else np.array([], dtype=str)
    return LevelEntry(version, await in_worker(LevelLayer, all_codes, Packed.joined(boundaries)), facts)


async def level_entry(session: AsyncSession, level: str) -> LevelEntry:
    """The current layer of `level` (built on first use and after its units changed)."""
    key = (str(session.bind.url), level)
    version = await units_version(session, AdminUnit.level == level)
    entry = _cache.get(key)
    if entry is not None and entry.version == version:
        return entry
    async with _building.setdefault(key, asyncio.Lock()):
        entry = _cache.get(key)
        if entry is None or entry.version != version:
            entry = _cache[key] = await _load(session, level, version)
    return entry


async def band_geometry(entry: LevelEntry, zoom: int) -> Packed:
    """The level's boundaries simplified together to about a pixel at `zoom`'s band, as GeoJSON geometries in the
    layer's order (made once per band, in a worker process)."""
    band = zoom_band(zoom)
    async with entry.band_lock:
        if band not in entry.bands:
            entry.bands[band] = await in_worker(simplified_geometry_json, entry.layer.wkb, pixel_degrees(band),
                                                BAND_DECIMALS)
    return entry.bands[band]


def forget_layers() -> None:
    """Drop every cached layer (tests use it between databases)."""
    _cache.clear()
