"""CAP out: a CAP 1.2 document per warning and an Atom feed embedding them, each checked against the schema."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from fangxun.core.errors import FangxunError
from fangxun.core.times import BEIJING
from fangxun.warnings.drills.rules import marked_title
from fangxun.warnings.intake.cap_parse import CAP_NS, schema_error
from fangxun.warnings.intake.normalised import NormalisedWarning, WarningArea

ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
DEFAULT_SENDER_NAME = "郑州市防汛抗旱指挥部办公室"
FEED_TITLE = "郑州市防汛预警信息"


class CapInvalid(FangxunError):
    """A warning could not be written as a schema-valid CAP document (a bug or corrupt stored data)."""

    code = "cap_invalid"


def cap_document(warning: NormalisedWarning, sender_name: str = DEFAULT_SENDER_NAME) -> bytes:
    """The warning as a UTF-8 CAP 1.2 document that validates against the packaged schema.

    senderName is the warning's own sender_name when it has one, else `sender_name`.
    """
    alert = cap_element(warning, sender_name)
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def cap_element(warning: NormalisedWarning, sender_name: str = DEFAULT_SENDER_NAME) -> etree._Element:
    """The <alert> element of cap_document, already validated."""
    try:
        alert = _alert(warning, sender_name)
    except ValueError as exc:  # lxml refuses text that XML cannot carry (control characters)
        raise CapInvalid(f"预警 {warning.identifier} 无法写成 CAP 文档：{exc}") from None
    error = schema_error(alert)
    if error is not None:
        raise CapInvalid(f"预警 {warning.identifier} 写成的 CAP 文档不符合模式：{error[1]}")
    return alert


def atom_feed(entries: list[tuple[NormalisedWarning, str]], feed_url: str, updated: datetime,
              title: str = FEED_TITLE, author: str = DEFAULT_SENDER_NAME) -> bytes:
    """An Atom 1.0 feed: one entry per (warning, CAP document URL), the CAP <alert> embedded as content."""
    feed = etree.Element(_atom("feed"), nsmap={None: ATOM_NS})
    _child(feed, _atom("id"), feed_url)
    _child(feed, _atom("title"), title)
    _child(feed, _atom("updated"), _time(updated))
    etree.SubElement(feed, _atom("link"), rel="self", href=feed_url, type="application/atom+xml")
    _child(etree.SubElement(feed, _atom("author")), _atom("name"), author)
    for warning, url in entries:
        entry = etree.SubElement(feed, _atom("entry"))
        _child(entry, _atom("id"), url)
        title = warning.headline or warning.event or warning.identifier
        # An exercise says so in its title too (its <alert> says <status>Exercise</status>): no reader takes it as real.
        _child(entry, _atom("title"), marked_title(title) if warning.status == "Exercise" else title)
        _child(entry, _atom("updated"), _time(warning.sent))
        etree.SubElement(entry, _atom("link"), rel="alternate", type=CAP_MIME, href=url)
        if warning.event:
            etree.SubElement(entry, _atom("category"), term=warning.event)
        if warning.description:
            _child(entry, _atom("summary"), warning.description)
        # RFC 4287 4.1.3.3: content of an XML media type is its single child element.
        content = etree.SubElement(entry, _atom("content"), type=CAP_MIME)
        content.append(cap_element(warning))
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _atom(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def _cap(name: str) -> str:
    return f"{{{CAP_NS}}}{name}"


def _child(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _time(moment: datetime) -> str:
    """CAP/RFC 3339 form in Beijing time: 2021-07-20T06:02:00+08:00 (whole seconds)."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _number(value: float) -> str:
    """Shortest text that reads back to the same float, never in exponent form."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(float(value), ".10f").rstrip("0").rstrip(".")
    return text


def _alert(warning: NormalisedWarning, sender_name: str) -> etree._Element:
    alert = etree.Element(_cap("alert"), nsmap={None: CAP_NS})
    _child(alert, _cap("identifier"), warning.identifier)
    _child(alert, _cap("sender"), warning.sender)
    _child(alert, _cap("sent"), _time(warning.sent))
    _child(alert, _cap("status"), warning.status)
    _child(alert, _cap("msgType"), warning.msg_type)
    _child(alert, _cap("scope"), warning.scope)
    if warning.references:
        _child(alert, _cap("references"),
               " ".join(f"{r.sender},{r.identifier},{_time(r.sent)}" for r in warning.references))
    # A Cancel read from a document without <info> stays without one.
    if warning.language or warning.event:
        _info(alert, warning, warning.sender_name or sender_name)
    return alert


def _info(alert: etree._Element, warning: NormalisedWarning, sender_name: str) -> None:
    info = etree.SubElement(alert, _cap("info"))
    _child(info, _cap("language"), warning.language or "zh-CN")
    _child(info, _cap("category"), "Met")
    _child(info, _cap("event"), warning.event)
    for response_type in warning.response_types:
        _child(info, _cap("responseType"), response_type)
    _child(info, _cap("urgency"), warning.urgency)
    _child(info, _cap("severity"), warning.severity)
    _child(info, _cap("certainty"), warning.certainty)
    if warning.effective is not None:
        _child(info, _cap("effective"), _time(warning.effective))
    if warning.onset is not None:
        _child(info, _cap("onset"), _time(warning.onset))
    # An expiry the service assumed is not the issuer's word: it is not written out as theirs.
    if warning.expires is not None and not warning.expires_assumed:
        _child(info, _cap("expires"), _time(warning.expires))
    _child(info, _cap("senderName"), sender_name)
    for name in ("headline", "description", "instruction"):
        if getattr(warning, name):
            _child(info, _cap(name), getattr(warning, name))
    if warning.colour:
        parameter = etree.SubElement(info, _cap("parameter"))
        _child(parameter, _cap("valueName"), "COLOR")
        _child(parameter, _cap("value"), warning.colour)
    for area in warning.areas:
        _area(info, area)


def _area(info: etree._Element, area: WarningArea) -> None:
    element = etree.SubElement(info, _cap("area"))
    _child(element, _cap("areaDesc"), area.description)
    for ring in area.polygons:
        points = list(ring)
        if points and points[0] != points[-1]:
            points.append(points[0])
        _child(element, _cap("polygon"), " ".join(f"{_number(lat)},{_number(lon)}" for lon, lat in points))
    for lon, lat, radius in area.circles:
        _child(element, _cap("circle"), f"{_number(lat)},{_number(lon)} {_number(radius)}")
    for code in area.geocodes:
        geocode = etree.SubElement(element, _cap("geocode"))
        _child(geocode, _cap("valueName"), "ADCODE")
        _child(geocode, _cap("value"), code)
