"""CAP test documents: the four CAP 1.2 spec examples, a Zhengzhou GB/T 35965.1-style builder, hostile XML."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "cap_examples"
SPEC_EXAMPLES = ("A1", "A2", "A3", "A4")

ZZ_SENDER = "41010041600000"  # GB/T 35965.1 sender code: 410100 郑州市 + organisation code + 000 + 00
ZZ_SENT = "2021-07-20T06:02:00+08:00"
ZZ_IDENTIFIER = "41010041600000_20210720060200_0"
# A box over 金水区/二七区/中原区 in CAP order "lat,lon".
ZZ_POLYGON = "34.80,113.60 34.80,113.75 34.70,113.75 34.70,113.60 34.80,113.60"
ZZ_POLYGON_LONLAT = ((113.60, 34.80), (113.75, 34.80), (113.75, 34.70), (113.60, 34.70), (113.60, 34.80))
ZZ_GEOCODES = ("410105", "410103000000", "410102000000")

_COLOURS = {"red": ("红色", "Extreme", "Red"), "orange": ("橙色", "Severe", "Orange"),
            "yellow": ("黄色", "Moderate", "Yellow"), "blue": ("蓝色", "Minor", "Blue")}
_VERBS = {"Alert": ("发布", "issues"), "Update": ("更新", "updates"), "Cancel": ("解除", "lifts")}


def spec_example(name: str) -> bytes:
    """One of the CAP 1.2 specification's Appendix A examples (A1 … A4), as bytes."""
    return (EXAMPLES / f"cap12_appendix_{name}.xml").read_bytes()


def zhengzhou_rainstorm(colour: str = "red", msg_type: str = "Alert", identifier: str = ZZ_IDENTIFIER,
                        sent: str = ZZ_SENT, references: tuple[tuple[str, str, str], ...] = (),
                        expires: str | None = "2021-07-21T06:02:00+08:00", *, polygon: str | None = ZZ_POLYGON,
                        geocodes: tuple[str, ...] = ZZ_GEOCODES) -> bytes:
    """A GB/T 35965.1-style rainstorm signal of 郑州市气象台: zh-CN and en-US <info>, geocodes, a polygon.

    `references` are (sender, identifier, sent) triples for an Update or Cancel; `expires` None leaves
    <expires> out; `polygon` and `geocodes` are those of the zh-CN area (polygon None: no <polygon>).
    """
    zh_colour, severity, en_colour = _COLOURS[colour]
    zh_verb, en_verb = _VERBS[msg_type]
    refs = ""
    if references:
        refs = "<references>" + " ".join(",".join(r) for r in references) + "</references>"
    geocodes = "\n".join(
        f"<geocode><valueName>{'ADCODE' if len(code) == 6 else '行政区划代码'}</valueName>"
        f"<value>{code}</value></geocode>" for code in geocodes)
    zh_polygon = "" if polygon is None else f"<polygon>{polygon}</polygon>"
    expiry = "" if expires is None else f"<expires>{expires}</expires>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{ZZ_SENDER}</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨{zh_colour}预警信号</event>
    <responseType>Prepare</responseType>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    <onset>{sent}</onset>
    {expiry}
    <senderName>郑州市气象台</senderName>
    <headline>郑州市气象台{zh_verb}暴雨{zh_colour}预警信号</headline>
    <description>郑州市气象台{zh_verb}暴雨{zh_colour}预警信号：受低涡切变影响，市区已出现强降水，
预计未来3小时金水区、二七区、中原区累计降雨量可达100毫米以上，请注意防范。</description>
    <instruction>各级防汛责任人立即到岗；暂停户外作业和集会；转移低洼地带、地下空间人员。</instruction>
    <parameter><valueName>预警级别</valueName><value>{zh_colour}</value></parameter>
    <area>
      <areaDesc>郑州市金水区、二七区、中原区</areaDesc>
      {zh_polygon}
      {geocodes}
    </area>
  </info>
  <info>
    <language>en-US</language>
    <category>Met</category>
    <event>Rainstorm</event>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    <onset>{sent}</onset>
    {expiry}
    <senderName>Zhengzhou Meteorological Observatory</senderName>
    <headline>Zhengzhou Meteorological Observatory {en_verb} {en_colour} Rainstorm Warning</headline>
    <area>
      <areaDesc>Jinshui, Erqi and Zhongyuan districts of Zhengzhou</areaDesc>
      <polygon>34.0,113.0 34.0,114.0 35.0,114.0 34.0,113.0</polygon>
      <geocode><valueName>ADCODE</valueName><value>410100</value></geocode>
    </area>
  </info>
</alert>
""".encode()


def alert(body: str, namespace: str = "urn:oasis:names:tc:emergency:cap:1.2") -> bytes:
    """A minimal alert around `body` (elements after <scope>), for hand-made variations."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{namespace}">
  <identifier>T-1</identifier>
  <sender>test@fangxun</sender>
  <sent>2026-07-20T06:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  {body}
</alert>""".encode()


BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE alert [\n<!ENTITY lol "lol">\n'
                  + b"".join(b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&lol9;</alert>')
QUADRATIC_BLOWUP = (b'<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY a "' + b"x" * 50_000 + b'">]>\n'
                    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">' + b"&a;" * 10_000 + b"</alert>")


def xxe(url: str) -> bytes:
    """An external-entity document that would read `url` if entities were resolved."""
    return (f'<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY xxe SYSTEM "{url}">]>\n'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>').encode()


def external_dtd(url: str) -> bytes:
    """A document whose DTD lives at `url`."""
    return (f'<?xml version="1.0"?>\n<!DOCTYPE alert SYSTEM "{url}">\n'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>').encode()


def parameter_entity(url: str) -> bytes:
    """A parameter entity pulling a DTD from `url` (the out-of-band XXE form)."""
    return (f'<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY % remote SYSTEM "{url}"> %remote;]>\n'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>').encode()


PLAIN_DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE alert [<!ELEMENT alert ANY>]>\n'
             b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>')
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Weather</title><link>http://example.invalid/</link>
<description>feed</description><item><title>暴雨红色预警</title></item></channel></rss>""".encode()
