"""GeoJSON text of boundaries, made in a worker process (core.cpu_pool) and handed over packed: one bytes blob and
its offsets cross between processes as two objects, not one per unit, so receiving them costs the server a copy."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from fangxun.geo.geojson import rfc7946_geometries
from fangxun.geo.simplify import simplify_coverage, snap_to_grid

NULL = b"null"


@dataclass(frozen=True)
class Packed:
    """A sequence of byte strings stored end to end; an empty item stands for none (a unit without a boundary)."""

    blob: bytes
    offsets: np.ndarray   # len(items) + 1 positions into blob

    @classmethod
    def of(cls, items: Iterable[bytes | None]) -> Packed:
        parts = [item or b"" for item in items]
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(part) for part in parts], out=offsets[1:])
        return cls(b"".join(parts), offsets)

    @classmethod
    def joined(cls, parts: Sequence[Packed]) -> Packed:
        """The items of `parts`, one after the other."""
        starts = np.cumsum([0] + [len(part.blob) for part in parts[:-1]])
        offsets = [np.zeros(1, dtype=np.int64)] + [part.offsets[1:] + start for part, start in zip(parts, starts)]
        return cls(b"".join(part.blob for part in parts), np.concatenate(offsets))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        return self.blob[self.offsets[index]:self.offsets[index + 1]]

    def items(self, indices: Sequence[int] | None = None) -> list[bytes | None]:
        """The items at `indices` (all by default), None for an empty one."""
        chosen = range(len(self)) if indices is None else indices
        return [self[int(index)] or None for index in chosen]

    def take(self, indices: Sequence[int]) -> Packed:
        """The items at `indices`, packed."""
        return Packed.of(self.items(indices))


def _texts(geometries: np.ndarray) -> list[bytes]:
    return [json.dumps(shapely.geometry.mapping(geometry), separators=(",", ":")).encode("ascii")
            if geometry is not None and not geometry.is_empty else NULL for geometry in geometries]


def geometry_json(wkb: Packed, decimals: int | None = None) -> Packed:
    """The RFC 7946 GeoJSON geometry of each WKB item ("null" for none), optionally rounded."""
    return Packed.of(_texts(rfc7946_geometries(shapely.from_wkb(wkb.items()), decimals)))


def simplified_geometry_json(wkb: Packed, tolerance: float, decimals: int) -> Packed:
    """The WKB items, a coverage of one level, simplified together by `tolerance` (no gaps between neighbours), put
    on the grid and written as GeoJSON geometries rounded to `decimals`."""
    simplified = snap_to_grid(simplify_coverage(shapely.from_wkb(wkb.items()), tolerance))
    return Packed.of(_texts(rfc7946_geometries(simplified, decimals)))
