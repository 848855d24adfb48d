"""Load config/default.toml, merge an optional user file over it and validate the result."""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fangxun.errors import ConfigError

PLAN_KINDS = ("flood_plan", "flood_scheme", "evacuation", "other")
UNIT_LEVELS = ("city", "district", "township", "village")
ROLES = ("viewer", "editor", "admin")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegistrySettings(_Strict):
    timezone: str = "Asia/Shanghai"
    due_soon_days: int = Field(60, ge=0, le=3650)
    review_cycle_months: dict[str, int]
    required_kinds: dict[str, list[str]]

    @field_validator("review_cycle_months")
    @classmethod
    def _known_kinds_with_cycles(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(PLAN_KINDS)
        if unknown:
            raise ValueError(f"unknown plan kind(s) {sorted(unknown)}; known: {list(PLAN_KINDS)}")
        missing = set(PLAN_KINDS) - set(value)
        if missing:
            raise ValueError(f"missing review cycle for {sorted(missing)}")
        bad = {k: v for k, v in value.items() if not 1 <= v <= 240}
        if bad:
            raise ValueError(f"review cycles must be 1..240 months: {bad}")
        return value

    @field_validator("required_kinds")
    @classmethod
    def _known_levels_and_kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown_levels = set(value) - set(UNIT_LEVELS)
        if unknown_levels:
            raise ValueError(f"unknown level(s) {sorted(unknown_levels)}; known: {list(UNIT_LEVELS)}")
        for level, kinds in value.items():
            unknown = set(kinds) - set(PLAN_KINDS)
            if unknown:
                raise ValueError(f"level {level}: unknown plan kind(s) {sorted(unknown)}")
        return value


class AuthSettings(_Strict):
    session_hours: float = Field(12, gt=0, le=24 * 30)
    login_attempts: int = Field(5, ge=1)
    login_window_seconds: int = Field(300, ge=1)


class ServerSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class MapSettings(_Strict):
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


class Settings(_Strict):
    registry: RegistrySettings
    auth: AuthSettings = AuthSettings()
    server: ServerSettings = ServerSettings()
    map: MapSettings = MapSettings()
    source: tuple[str, ...] = ()

    def required_kinds_for(self, level: str) -> list[str]:
        """The plan kinds a unit of `level` must have."""
        return list(self.registry.required_kinds.get(level, []))


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}：不是有效的 TOML：{exc}") from exc


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Packaged defaults, merged with `path` (or $FANGXUN_CONFIG) when given, validated."""
    default_text = resources.files("fangxun.config").joinpath("default.toml").read_text("utf-8")
    data = _read_toml(default_text, "config/default.toml")
    sources = ["config/default.toml"]
    path = path or os.environ.get("FANGXUN_CONFIG")
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"{file}：配置文件不存在")
        data = _deep_merge(data, _read_toml(file.read_text("utf-8"), str(file)))
        sources.append(str(file))
    try:
        return Settings(**data, source=tuple(sources))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{sources[-1]}: {key}: {first['msg']}") from exc
