"""The `[map]` section: the basemap of the duty map."""

from __future__ import annotations

from pydantic import field_validator

from fangxun.core.settings import Strict


class MapSettings(Strict):
    # Empty: boundaries on a plain background (the intranet has no internet access).
    tile_url: str = ""
    tile_attribution: str = ""

    @field_validator("tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        value = value.strip()
        if value and (not value.startswith(("http://", "https://", "/"))
                      or not all(part in value for part in ("{z}", "{x}", "{y}"))):
            raise ValueError("tile_url must be an http(s) URL or a path with {z}, {x} and {y}, or empty")
        return value
