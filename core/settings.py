"""The base of the settings: the strict section model, reading and merging the TOML files, errors
that name the file and key; and the sections of the infrastructure (auth, server). No domain here:
each package owns its section, the top-level settings module assembles them."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fangxun.core.errors import ConfigError

# reporter: reads, and writes journal entries (for its own department when the token names one).
ROLES = ("viewer", "reporter", "editor", "admin")
DEFAULT_FILE = "config/default.toml"

Key = tuple[str | int, ...]
# A table path; "*" stands for any key.
Pattern = tuple[str, ...]
M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """A settings section: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSettings(Strict):
    session_hours: float = Field(12, gt=0, le=24 * 30)
    # Sign-in throttle (api/login_limit.py): only failures count; per user name and client address, then per
    # client address (looser), each failure beyond the free ones makes the next attempt wait twice as long.
    login_free_failures: int = Field(5, ge=1)
    login_first_delay_seconds: float = Field(5, gt=0)
    login_max_delay_seconds: float = Field(300, gt=0)
    address_free_failures: int = Field(30, ge=1)
    address_max_delay_seconds: float = Field(900, gt=0)


def ip_networks(value: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or networks as written (trimmed); a ValueError names the first that is neither."""
    for entry in value:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} 不是 IP 地址或网段（如 127.0.0.1、10.0.0.0/8）") from None
    return tuple(entry.strip() for entry in value)


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # The address people reach the service at (ack links, the CAP feed); empty: the address `serve` listens on
    # (core/public_base.py decides).
    public_url: str = ""
    # Proxies whose X-Forwarded-For (or Forwarded) names the client: addresses or networks; none by default, so
    # a header sent by anyone else is ignored (api/client_address.py).
    trusted_proxies: tuple[str, ...] = ()
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return ip_networks(value)

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (not value.startswith(("http://", "https://")) or len(value.split("/", 3)[2]) == 0):
            raise ValueError("应为 http:// 或 https:// 开头的地址，如 https://fangxun.example.gov.cn，或留空")
        return value


class MonitoringSettings(Strict):
    """`[monitoring]`: who may read /metrics without credentials, and when /api/ready calls a part stale."""

    # Addresses or networks that may read /metrics without a token (the socket's peer: a proxy's clients are not
    # told apart, so never list a reverse proxy's address here). Everyone else needs credentials (any role).
    metrics_allow: tuple[str, ...] = ()
    # A dispatcher heartbeat older than this: /api/ready answers 503.
    heartbeat_stale_seconds: float = Field(30, ge=2, le=3600)
    # A feed not read successfully for this many of its intervals (and at least 2 minutes) is stale.
    feed_stale_intervals: int = Field(3, ge=1, le=1000)

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return ip_networks(value)


def _replaced_whole(path: tuple[str, ...], patterns: Iterable[Pattern]) -> bool:
    return any(len(path) == len(pattern) and all(p in ("*", k) for p, k in zip(pattern, path))
               for pattern in patterns)


def _deep_merge(base: dict, override: dict, patterns: tuple[Pattern, ...], path: tuple[str, ...] = ()) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if (isinstance(value, dict) and isinstance(merged.get(key), dict)
                and not _replaced_whole(path + (key,), patterns)):
            merged[key] = _deep_merge(merged[key], value, patterns, path + (key,))
        else:
            merged[key] = value
    return merged


# tomllib's commonest complaints in Chinese; the others are kept as written, after the position.
_TOML_MESSAGES = {
    "Expected '=' after a key in a key/value pair": "键后面缺少“=”",
    "Invalid value": "值无效（字符串要加引号）",
    "Invalid statement": "无法识别的语句",
    "Expected newline or end of document after a statement": "一行只能写一个键值（值有误，或缺少换行）",
    "Invalid initial character for a key part": "键名的开头字符无效",
    "Unterminated string": "字符串缺少结束引号",
    "Unclosed array": "数组缺少“]”",
    "Unclosed inline table": "内联表缺少“}”",
    "Cannot overwrite a value": "同一个键写了两次",
    "Expected ']' at the end of a table declaration": "表名后缺少“]”",
}
_TOML_POSITION = re.compile(r"^(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$")


def _toml_error_text(exc: tomllib.TOMLDecodeError) -> str:
    """"Invalid value (at line 3, column 9)" as "第 3 行第 9 列：值无效（字符串要加引号）"."""
    match = _TOML_POSITION.match(str(exc))
    if match is None:
        return str(exc)
    where = f"第 {match['line']} 行第 {match['column']} 列" if match["line"] else "文件末尾"
    message = match["message"]
    known = _TOML_MESSAGES.get(message) or next(
        (text for english, text in _TOML_MESSAGES.items() if message.startswith(english)), None)
    return f"{where}：{known or message}"


def _read_toml(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}：不是有效的 TOML：{_toml_error_text(exc)}") from exc


class Layers:
    """The packaged defaults and the user file merged over them, each remembered for error messages."""

    def __init__(self, path: str | os.PathLike | None = None, replaced_whole: Iterable[Pattern] = ()) -> None:
        """Packaged defaults, merged with `path` (or $FANGXUN_CONFIG) when given. A table at one of the
        `replaced_whole` paths in the user file replaces the default's whole instead of merging into it."""
        default_text = resources.files("fangxun.config").joinpath("default.toml").read_text("utf-8")
        self.data = _read_toml(default_text, DEFAULT_FILE)
        self.layers = [(DEFAULT_FILE, self.data)]
        path = path or os.environ.get("FANGXUN_CONFIG")
        if path:
            file = Path(path)
            if not file.is_file():
                raise ConfigError(f"{file}：配置文件不存在")
            user = _read_toml(file.read_text("utf-8"), str(file))
            self.data = _deep_merge(self.data, user, tuple(replaced_whole))
            self.layers.append((str(file), user))

    @property
    def sources(self) -> tuple[str, ...]:
        """The files read, defaults first."""
        return tuple(name for name, _ in self.layers)

    def validate(self, model: type[M], **extra: object) -> M:
        """The merged data as `model`; the first error raised as a ConfigError naming its file and key."""
        try:
            return model(**self.data, **extra)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise self.error(tuple(first["loc"]), _message(first)) from exc

    def error(self, loc: Key, message: str) -> ConfigError:
        """`message` about the key at `loc`, naming the file that wrote it."""
        return ConfigError(f"{_origin(loc, self.layers)}: {_key_text(loc)}: {message}")


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
