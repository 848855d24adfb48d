"""CAP out: the document of one stored message, and the Atom feed of the messages held."""

from __future__ import annotations

import logging
from datetime import datetime

from lxml import etree

from fangxun.warnings.intake.cap_parse import schema_error
from fangxun.warnings.intake.cap_write import CapInvalid, atom_feed, cap_document, cap_element
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.tables import Warning

log = logging.getLogger(__name__)

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _valid_original(row: Warning) -> bytes | None:
    """The document the message came in as, when it is CAP and validates against the schema."""
    if row.source == "manual" or not row.raw:
        return None
    data = row.raw.encode("utf-8")
    if not data.lstrip().startswith(b"<?xml"):
        data = _DECLARATION + data
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        document = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return data if schema_error(document) is None else None


def stored_document(row: Warning) -> bytes:
    """The CAP document of a stored message: the original when it validates (it was accepted leniently
    otherwise), else one written from the normalised warning (always for hand-entered ones)."""
    return _valid_original(row) or cap_document(NormalisedWarning.from_json(row.document))


def feed_document(rows: list[Warning], base_url: str, now: datetime) -> bytes:
    """The Atom feed of `rows`, each entry linking to /cap/{id}.xml and embedding its CAP <alert>."""
    base = base_url.rstrip("/")
    entries = []
    for row in rows:
        warning = NormalisedWarning.from_json(row.document)
        try:
            cap_element(warning)
        except CapInvalid as exc:  # stored data that cannot be written out: leave it out, say so
            log.error("CAP feed: warning %s left out: %s", row.id, exc.detail)
            continue
        entries.append((warning, f"{base}/cap/{row.id}.xml"))
    stamps = [stamp for row in rows for stamp in (row.received_at, row.closed_at) if stamp is not None]
    return atom_feed(entries, f"{base}/cap/feed.xml", max(stamps, default=now))
