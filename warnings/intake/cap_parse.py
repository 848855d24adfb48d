"""Read CAP 1.2 / GB/T 35965.1 documents safely into NormalisedWarning (strict or lenient)."""

from __future__ import annotations

import functools
import os
import re
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from lxml import etree

from fangxun.core.errors import BadInput
from fangxun.core.os_errors import reason
from fangxun.warnings.intake.cap_shapes import read_circle, read_polygon
from fangxun.warnings.intake.normalised import (CERTAINTIES, COLOUR_SEVERITY, RESPONSE_TYPES, SCOPES, SEVERITIES,
                                                SEVERITY_COLOUR, STATUSES, URGENCIES, NormalisedWarning, Reference,
                                                WarningArea, chinese_event, colour_from_text, utc)
from fangxun.warnings.vocabulary import COLOURS, MSG_TYPES

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
MAX_CAP_BYTES = 1_000_000
COLOUR_PARAMETERS = ("color", "colour", "alertcolor", "alertcolour", "颜色", "预警颜色", "预警级别", "预警等级")

_NS = "{" + CAP_NS + "}"
_GEOCODE = re.compile(r"\d{6}|\d{9}|\d{12}")
# The lexical form of a CAP time (the schema's pattern): such a time is never refused, at worst noted.
_CAP_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")
_ROMAN_COLOURS = {"Ⅰ": "red", "I": "red", "1": "red", "Ⅱ": "orange", "II": "orange", "2": "orange",
                  "Ⅲ": "yellow", "III": "yellow", "3": "yellow", "Ⅳ": "blue", "IV": "blue", "4": "blue"}
_ZH_COLOURS = {"红": "red", "橙": "orange", "黄": "yellow", "蓝": "blue"}


class CapRejected(BadInput):
    """A CAP document was refused; `detail` says why, in Chinese."""

    code = "cap_rejected"


@functools.cache
def cap_schema() -> etree.XMLSchema:
    """The packaged OASIS CAP 1.2 schema (loaded once, without network access)."""
    source = resources.files("fangxun.warnings").joinpath("data/CAP-v1.2.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(source, _lxml_parser()))


def schema_error(document: etree._Element) -> tuple[int, str] | None:
    """The first CAP schema error of a parsed document as (line, message), or None when it validates."""
    try:
        cap_schema().assertValid(document)
    except etree.DocumentInvalid as exc:
        error = exc.error_log[0] if len(exc.error_log) else None
        message = error.message if error is not None else str(exc)
        return (error.line if error is not None else 0), message.replace(_NS, "cap:")
    return None


def parse_cap(data: bytes, lenient: bool = False, max_bytes: int = MAX_CAP_BYTES) -> NormalisedWarning:
    """Parse one CAP 1.2 document; refuse hostile, oversize, non-CAP or (strict) schema-invalid input."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CapRejected("CAP 文档必须以字节形式提供")
    if len(data) > max_bytes:
        raise CapRejected(f"CAP 文档有 {len(data)} 字节，超过上限 {max_bytes} 字节，未解析",
                          extra={"size": len(data), "max_bytes": max_bytes})
    data = bytes(data)
    try:
        root = _parse_safely(data)
        _check_root(root)
        if not lenient:
            _validate(data)
        return _Reader(lenient).warning(root)
    except CapRejected:
        raise
    except Exception as exc:  # hostile input must never surface as a raw exception
        raise CapRejected(f"CAP 文档无法读取（{type(exc).__name__}）") from exc


def read_cap_file(path, lenient: bool = False, max_bytes: int = MAX_CAP_BYTES) -> NormalisedWarning:
    """Parse a CAP file; one larger than max_bytes is refused before it is read."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise CapRejected(f"文件 {path.name} 有 {size} 字节，超过上限 {max_bytes} 字节，未解析",
                                  extra={"path": str(path), "size": size, "max_bytes": max_bytes})
            # A pipe or a growing file reports a wrong size: never read more than the limit allows.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise CapRejected(f"无法读取文件 {path}：{reason(exc)}", extra={"path": str(path)}) from None
    try:
        return parse_cap(data, lenient=lenient, max_bytes=max_bytes)
    except CapRejected as exc:
        exc.extra.setdefault("path", str(path))
        raise


def _lxml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse_safely(data: bytes) -> Element:
    try:
        return safe_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise CapRejected(_dtd_reason(data, exc)) from None
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise CapRejected(_entity_reason(exc)) from None
    except ParseError as exc:
        line, column = exc.position
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise CapRejected(f"不是格式正确的 XML（第 {line} 行第 {column} 列）：{reason}",
                          extra={"line": line}) from None
    except (LookupError, ValueError) as exc:
        raise CapRejected(f"不是可读的 XML：{exc}") from None


def _dtd_reason(data: bytes, exc: DTDForbidden) -> str:
    """Say what the refused DTD was for; the second look still expands and fetches nothing."""
    try:
        safe_et.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (EntitiesForbidden, ExternalReferenceForbidden) as inner:
        return _entity_reason(inner)
    except (ParseError, LookupError, ValueError):
        pass  # a broken internal subset: the generic DTD reason below says enough
    if exc.sysid or exc.pubid:
        return (f"文档引用外部 DTD（{exc.sysid or exc.pubid}）：CAP 文档不用 DTD，外部引用一律拒绝，"
                "未访问该地址")
    return f"文档含 DTD（<!DOCTYPE {exc.name}>）：CAP 文档不用 DTD，为防实体炸弹和外部实体一律拒绝"


def _entity_reason(exc: EntitiesForbidden | ExternalReferenceForbidden) -> str:
    target = getattr(exc, "sysid", None) or getattr(exc, "pubid", None)
    if isinstance(exc, ExternalReferenceForbidden) or target:
        return (f"文档声明了外部实体 {getattr(exc, 'name', '') or ''}（{target}）：外部实体（XXE）一律拒绝，"
                "未读取该文件或地址")
    return (f"文档声明了实体 {exc.name}：实体可构成实体炸弹（billion laughs、二次膨胀），"
            "CAP 文档不用实体，一律拒绝")


def _split_tag(tag) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", str(tag)
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _check_root(root: Element) -> None:
    namespace, local = _split_tag(root.tag)
    if namespace == CAP_NS and local == "alert":
        return
    if local == "alert" and namespace:
        older = "（CAP 1.1 不受支持）" if namespace.endswith(":1.1") else ""
        raise CapRejected(f"根元素 <alert> 的命名空间是 {namespace}{older}，只接受 CAP 1.2（{CAP_NS}）",
                          extra={"namespace": namespace})
    if local == "alert":
        raise CapRejected(f"根元素 <alert> 没有命名空间，CAP 1.2 要求 {CAP_NS}")
    hint = "（这是订阅源，不是单个 CAP 文档）" if local in ("rss", "feed", "RDF") else ""
    where = f"（命名空间 {namespace}）" if namespace else ""
    raise CapRejected(f"不是 CAP 文档：根元素是 <{local}>{where}{hint}，应为 CAP 1.2 的 <alert>",
                      extra={"root": local, "namespace": namespace})


def _validate(data: bytes) -> None:
    try:
        document = etree.fromstring(data, _lxml_parser())
    except etree.XMLSyntaxError as exc:
        raise CapRejected(f"XML 无法解析（第 {exc.lineno} 行）：{exc.msg}", extra={"line": exc.lineno}) from None
    error = schema_error(document)
    if error is not None:
        line, message = error
        raise CapRejected(f"CAP 文档不符合 CAP 1.2 模式（第 {line} 行）：{message}",
                          extra={"line": line, "schema_error": message})


def _text(parent: Element | None, name: str) -> str | None:
    if parent is None:
        return None
    child = parent.find(_NS + name)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _texts(parent: Element | None, name: str) -> tuple[str, ...]:
    """The stripped, non-empty texts of every `name` child, in order, without repeats."""
    if parent is None:
        return ()
    return tuple(dict.fromkeys(text for child in parent.findall(_NS + name) if (text := (child.text or "").strip())))


def _snippet(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _colour_word(value: str) -> str | None:
    """blue/yellow/orange/red from a colour value: red, 红色, 红, Ⅰ级 …"""
    value = value.strip()
    if value.lower() in COLOURS:
        return value.lower()
    if value[:1] in _ZH_COLOURS:
        return _ZH_COLOURS[value[:1]]
    level = re.match(r"(Ⅰ|Ⅱ|Ⅲ|Ⅳ|IV|III|II|I|[1-4])(?:级|$|\W)", value)
    return _ROMAN_COLOURS[level.group(1)] if level else None


def _moment(text: str) -> datetime | None:
    """A CAP time in UTC, or None; 24:00:00 (valid in the schema) is midnight at the end of that day."""
    day_end = re.fullmatch(r"(\d{4}-\d\d-\d\d)T24:00:00([-+]\d\d:\d\d)", text)
    try:
        if day_end:
            return utc(datetime.fromisoformat(f"{day_end[1]}T00:00:00{day_end[2]}") + timedelta(days=1))
        return utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


class _Reader:
    """Turns a parsed <alert> into a NormalisedWarning, collecting what lenient mode drops and what is noted."""

    def __init__(self, lenient: bool):
        self.lenient = lenient
        self.skipped: list[str] = []
        self.notes: list[str] = []

    def problem(self, message: str) -> None:
        """Something the schema does not allow. Strict: refuse (the schema check ran first, so this is a
        safety net); lenient: say what was dropped and go on."""
        if not self.lenient:
            raise CapRejected(message)
        self.skipped.append(message)

    def note(self, message: str) -> None:
        """Something the schema allows but the service cannot use: dropped, and noted on the warning."""
        self.notes.append(message)

    def required(self, root: Element, name: str) -> str:
        value = _text(root, name)
        if not value:
            raise CapRejected(f"缺少 <{name}> 或其为空，无法接收")
        return value

    def time(self, text: str | None, label: str, required: bool = False) -> datetime | None:
        if text is None:
            if required:
                raise CapRejected(f"缺少 <{label}>，无法接收")
            return None
        moment = _moment(text)
        if moment is None:
            message = f"<{label}> 的时间 '{_snippet(text)}' 无法读取（需带时区，如 2021-07-20T06:02:00+08:00）"
            if required:
                raise CapRejected(message)
            if _CAP_TIME.fullmatch(text):
                self.note(f"<{label}> 的时间 '{_snippet(text)}' 超出可处理的范围，已略去")
            else:
                self.problem(message + "，已略去")
            return None
        if moment.microsecond:
            self.skipped.append(f"<{label}> 的小数秒已舍去")
            moment = moment.replace(microsecond=0)
        return moment

    def choice(self, value: str | None, allowed: tuple[str, ...], label: str, default: str | None) -> str | None:
        """An enumerated value; lenient mode accepts other letter case, else falls back to default."""
        if value in allowed:
            return value
        folded = {a.lower(): a for a in allowed}.get((value or "").lower())
        if folded is not None:
            self.problem(f"<{label}> '{value}' 按 '{folded}' 读取")
            return folded
        if default is None:
            return None
        self.problem(f"<{label}> '{_snippet(value or '')}' 无法识别，按 '{default}' 处理")
        return default

    def warning(self, root: Element) -> NormalisedWarning:
        identifier = self.required(root, "identifier")
        sender = self.required(root, "sender")
        sent = self.time(_text(root, "sent"), "sent", required=True)
        status = self.choice(_text(root, "status"), STATUSES, "status", None)
        if status is None:
            # Guessing Actual for an unreadable status could fan out a drill as a real warning.
            raise CapRejected(f"<status> '{_snippet(_text(root, 'status') or '')}' 无法识别，"
                              "不能判断是否为真实预警，不予接收")
        raw_type = _text(root, "msgType")
        msg_type = self.choice(raw_type, MSG_TYPES, "msgType", None)
        if msg_type is None:
            if raw_type in ("Ack", "Error"):
                raise CapRejected(f"msgType 为 {raw_type}，不是预警消息（只接收 Alert、Update、Cancel）")
            raise CapRejected(f"<msgType> '{_snippet(raw_type or '')}' 无法识别（应为 Alert、Update 或 Cancel）")
        scope = self.choice(_text(root, "scope"), SCOPES, "scope", "Public")
        references = self.references(_text(root, "references"))

        infos = root.findall(_NS + "info")
        if not infos and msg_type != "Cancel":
            raise CapRejected(f"{msg_type} 消息没有 <info>：缺少事件、级别和区域，无法分发")
        return self.from_info(identifier, sender, sent, status, msg_type, scope, references, infos)

    def references(self, text: str | None) -> tuple[Reference, ...]:
        found = []
        for item in (text or "").split():
            parts = item.split(",")
            sent = _moment(parts[2]) if len(parts) == 3 and parts[0] and parts[1] else None
            if sent is None:
                self.note(f"<references> 中的 '{_snippet(item)}' 无法读取（应为 sender,identifier,sent），已略去")
                continue
            found.append(Reference(parts[0], parts[1], sent.replace(microsecond=0)))
        return tuple(found)

    def from_info(self, identifier, sender, sent, status, msg_type, scope, references, infos) -> NormalisedWarning:
        def language(info: Element) -> str:
            return _text(info, "language") or "en-US"

        chosen = next((i for i in infos if language(i).lower().startswith("zh")), infos[0] if infos else None)
        lang = language(chosen) if chosen is not None else ""
        # Areas come from every block in the chosen language: zh areas when zh and en both exist.
        area_blocks = [i for i in infos if language(i) == lang]

        raw_event = _text(chosen, "event") or ""
        if chosen is not None and chosen.find(_NS + "event") is None:
            self.problem("缺少 <event>")
        elif chosen is not None and not raw_event:
            self.note("<event> 为空，预警种类不明")
        headline = _text(chosen, "headline") or ""
        severity, severity_colour = self.severity(_text(chosen, "severity"), chosen is not None)
        colour = (colour_from_text(raw_event) or colour_from_text(headline)
                  or self.parameter_colour(chosen) or severity_colour or SEVERITY_COLOUR.get(severity))
        default = "Unknown" if chosen is not None else None
        urgency = self.choice(_text(chosen, "urgency"), URGENCIES, "urgency", default) or "Unknown"
        certainty = self.choice(_text(chosen, "certainty"), CERTAINTIES, "certainty", default) or "Unknown"
        effective = self.time(_text(chosen, "effective"), "effective")
        onset = self.time(_text(chosen, "onset"), "onset")
        expires = self.time(_text(chosen, "expires"), "expires")
        response_types = self.response_types(chosen)
        areas = tuple(self.area(a) for info in area_blocks for a in info.findall(_NS + "area"))
        return NormalisedWarning(
            identifier=identifier,
            sender=sender,
            sent=sent,
            status=status,
            msg_type=msg_type,
            scope=scope,
            references=references,
            event=chinese_event(raw_event),
            colour=colour,
            severity=severity,
            urgency=urgency,
            certainty=certainty,
            onset=onset,
            expires=expires,
            effective=effective,
            response_types=response_types,
            headline=headline,
            description=_text(chosen, "description") or "",
            instruction=_text(chosen, "instruction") or "",
            sender_name=_text(chosen, "senderName") or "",
            language=lang,
            areas=areas,
            skipped=tuple(self.skipped),
            notes=tuple(self.notes),
        )

    def response_types(self, info: Element | None) -> tuple[str, ...]:
        """Every <responseType> of the block (AllClear marks an all-clear); lenient drops unknown ones."""
        found = []
        for value in _texts(info, "responseType"):
            kept = self.choice(value, RESPONSE_TYPES, "responseType", None)
            if kept is None:
                self.problem(f"<responseType> '{_snippet(value)}' 无法识别，已略去")
            else:
                found.append(kept)
        return tuple(dict.fromkeys(found))

    def severity(self, value: str | None, has_info: bool) -> tuple[str, str | None]:
        """The CAP severity, and a colour when the document gives a colour in its place."""
        if not has_info:
            return "Unknown", None
        colour = _colour_word(value or "") if value not in SEVERITIES else None
        if colour is not None:
            # Some national-profile documents put the signal colour where CAP has its severity.
            self.problem(f"<severity> '{value}' 按颜色 {colour} 读作 '{COLOUR_SEVERITY[colour]}'")
            return COLOUR_SEVERITY[colour], colour
        return self.choice(value, SEVERITIES, "severity", "Unknown"), None

    def parameter_colour(self, info: Element | None) -> str | None:
        if info is None:
            return None
        for parameter in info.findall(_NS + "parameter"):
            name = (_text(parameter, "valueName") or "").replace(" ", "").lower()
            if name in COLOUR_PARAMETERS:
                colour = _colour_word(_text(parameter, "value") or "")
                if colour is not None:
                    return colour
        return None

    def area(self, area: Element) -> WarningArea:
        """One <area>: a polygon or circle that cannot be used is dropped with a note; its geocodes still count."""
        description = _text(area, "areaDesc") or ""
        polygons = tuple(ring for element in area.findall(_NS + "polygon")
                         if (ring := self.shape(read_polygon, element, description, "多边形")) is not None)
        circles = tuple(circle for element in area.findall(_NS + "circle")
                        if (circle := self.shape(read_circle, element, description, "圆")) is not None)
        geocodes = []
        for element in area.findall(_NS + "geocode"):
            name, value = _text(element, "valueName") or "", _text(element, "value") or ""
            if _GEOCODE.fullmatch(value):
                geocodes.append(value)
            else:
                # Other coding systems (UGC, FIPS names …) are legitimate CAP: noted, never refused.
                self.skipped.append(f"区域“{_snippet(description, 30)}”的 geocode {name}={_snippet(value, 30)} "
                                    "不是 6、9 或 12 位行政区划代码，已忽略")
        return WarningArea(description, polygons, circles, tuple(dict.fromkeys(geocodes)))

    def shape(self, read, element: Element, description: str, kind: str):
        """A polygon or circle read by `read`, or None; every remark becomes a note naming area and shape."""
        shape, remarks = read(element.text or "")
        where = f"区域“{_snippet(description, 30)}”的{kind}"
        if shape is None:
            self.note(f"{where}{'；'.join(remarks)}，已略去该{kind}")
        for remark in remarks if shape is not None else ():
            self.note(f"{where}{remark}")
        return shape
