"""The base of the settings: the strict section model, reading and merging the TOML files, errors
that name the file and key. No domain here: each package owns its section (the infrastructure's are in
service_settings), the top-level settings module assembles them."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from fangxun.core.errors import ConfigError

DEFAULT_FILE = "config/default.toml"

Key = tuple[str | int, ...]
# A table path; "*" stands for any key.
Pattern = tuple[str, ...]
M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """A settings section: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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

    @property
    def packaged_only(self) -> bool:
        """True when no user file was read: the data are the packaged defaults."""
        return len(self.layers) == 1

    def validate(self, model: type[M], **extra: object) -> M:
        """The merged data as `model`; the first error raised as a ConfigError naming its file and key."""
        return self._validated(model, self.data, (), extra)

    def validate_section(self, name: str, model: type[M]) -> M:
        """The merged section `name` alone as `model`, errors named as by validate."""
        return self._validated(model, self.data.get(name, {}), (name,), {})

    def _validated(self, model: type[M], data: dict, prefix: Key, extra: dict) -> M:
        try:
            return model(**data, **extra)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise self.error(prefix + tuple(first["loc"]), _message(first)) from exc

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
