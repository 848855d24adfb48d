"""Load config/default.toml, merge an optional user file over it and validate the result."""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fangxun.core.errors import ConfigError
from fangxun.warnings.config import WarningSettings, reference_problems
from fangxun.warnings.events.config import EventSettings, ResponseSettings, response_reference_problems

PLAN_KINDS = ("flood_plan", "flood_scheme", "evacuation", "other")
UNIT_LEVELS = ("city", "district", "township", "village")
# reporter: reads, and writes journal entries (for its own department when the token names one).
ROLES = ("viewer", "reporter", "editor", "admin")


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
    # The address people reach the service at (ack links, the CAP feed); empty: http://host:port.
    public_url: str = ""

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (not value.startswith(("http://", "https://")) or len(value.split("/", 3)[2]) == 0):
            raise ValueError("public_url must be an http(s) URL such as https://fangxun.example.gov.cn, or empty")
        return value

    @property
    def base_url(self) -> str:
        """public_url, or the URL derived from host and port."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


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
    warnings: WarningSettings = WarningSettings()
    events: EventSettings = EventSettings()
    response: ResponseSettings = ResponseSettings()
    source: tuple[str, ...] = ()

    def required_kinds_for(self, level: str) -> list[str]:
        """The plan kinds a unit of `level` must have."""
        return list(self.registry.required_kinds.get(level, []))


# Tables a user file replaces whole instead of merging into: a channel whose kind changes, or a
# contact reached another way, must not keep fields of the default one.
_REPLACED_WHOLE = (("warnings", "channels", "*"), ("warnings", "departments", "*", "desk"),
                   ("warnings", "departments", "*", "leader"), ("warnings", "escalation", "city_duty_desk"))


def _replaced_whole(path: tuple[str, ...]) -> bool:
    return any(len(path) == len(pattern) and all(p in ("*", k) for p, k in zip(pattern, path))
               for pattern in _REPLACED_WHOLE)


def _deep_merge(base: dict, override: dict, path: tuple[str, ...] = ()) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if (isinstance(value, dict) and isinstance(merged.get(key), dict)
                and not _replaced_whole(path + (key,))):
            merged[key] = _deep_merge(merged[key], value, path + (key,))
        else:
            merged[key] = value
    return merged


def _read_toml(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}：不是有效的 TOML：{exc}") from exc


def _key_text(loc: tuple) -> str:
    """("warnings", "routes", 2, "departments") -> warnings.routes[2].departments"""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _depth_in(data: object, loc: tuple) -> int:
    """How many leading parts of `loc` exist in the raw TOML `data`."""
    depth = 0
    for part in loc:
        if isinstance(part, int) and isinstance(data, list) and part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict) and part in data:
            data = data[part]
        else:
            break
        depth += 1
    return depth


def _origin(loc: tuple, layers: list[tuple[str, dict]]) -> str:
    """The file that wrote the key at `loc` (the later file when both reach as deep)."""
    depths = [_depth_in(data, loc) for _, data in layers]
    deepest = max(depths)
    return next(name for (name, _), depth in reversed(list(zip(layers, depths))) if depth == deepest)


_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的配置项（拼写错误？）",
    "literal_error": "取值应为 {expected}",
    "union_tag_invalid": '未知类型 "{tag}"（可选 {expected_tags}）',
    "union_tag_not_found": "缺少 {discriminator}",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为字符串",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "dict_type": "应为表（table）",
    "model_type": "应为表（table）",
    "string_too_short": "不能为空",
}


def _message(error: dict) -> str:
    """Pydantic's message in Chinese for the common cases; our own validators already speak Chinese."""
    if error["type"] == "value_error":
        return error["msg"].removeprefix("Value error, ")
    template = _MESSAGES.get(error["type"])
    try:
        return template.format(**error.get("ctx", {})) if template else error["msg"]
    except KeyError:
        return error["msg"]


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Packaged defaults, merged with `path` (or $FANGXUN_CONFIG) when given, validated."""
    default_text = resources.files("fangxun.config").joinpath("default.toml").read_text("utf-8")
    data = _read_toml(default_text, "config/default.toml")
    layers = [("config/default.toml", data)]
    path = path or os.environ.get("FANGXUN_CONFIG")
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"{file}：配置文件不存在")
        user = _read_toml(file.read_text("utf-8"), str(file))
        data = _deep_merge(data, user)
        layers.append((str(file), user))
    sources = tuple(name for name, _ in layers)
    try:
        settings = Settings(**data, source=sources)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        raise ConfigError(f"{_origin(loc, layers)}: {_key_text(loc)}: {_message(first)}") from exc
    # Names that point nowhere (departments, channels, templates) are refused like Alertmanager's
    # undefined receivers: at start-up, with the key that names them.
    problems = [(("warnings",) + loc, message) for loc, message in reference_problems(settings.warnings)]
    problems += [(("response",) + loc, message) for loc, message in
                 response_reference_problems(settings.response, set(settings.warnings.departments))]
    if problems:
        loc, message = problems[0]
        more = f"（另有 {len(problems) - 1} 处）" if len(problems) > 1 else ""
        raise ConfigError(f"{_origin(loc, layers)}: {_key_text(loc)}: {message}{more}")
    return settings
