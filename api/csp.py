"""Content-Security-Policy of the pages with scripts: our own origin, plus the hashes of the page's inline blocks."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

_INLINE = {"script": re.compile(r"<script>(.*?)</script>", re.S), "style": re.compile(r"<style>(.*?)</style>", re.S)}


def inline_hashes(html: str, tag: str) -> list[str]:
    """CSP sources ('sha256-…') of every attribute-less <script> or <style> block of `html`."""
    found = []
    for body in _INLINE[tag].findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        source = f"'sha256-{digest}'"
        if source not in found:
            found.append(source)
    return found


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source of a configured tile server ({s}. subdomains become *.), or None."""
    if not tile_url or tile_url.startswith("/"):
        return None
    parts = urlsplit(tile_url.replace("{s}.", "__sub__."))
    return f"{parts.scheme}://{parts.netloc.replace('__sub__.', '*.')}"


def map_policy(html: str, tile_url: str | None = None, connect: bool = False) -> str:
    """Scripts, styles and images from this service only (and the configured tiles); no inline code but ours;
    `connect`: the page's scripts may fetch from this service (the paged map's units)."""
    images = " ".join(filter(None, ["'self'", tile_source(tile_url)]))
    return ("default-src 'none'; "
            f"script-src 'self' {' '.join(inline_hashes(html, 'script'))}; "
            f"style-src 'self' {' '.join(inline_hashes(html, 'style'))}; "
            + ("connect-src 'self'; " if connect else "")
            + f"img-src {images}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def form_page_policy(html: str, tile_url: str | None = None) -> str:
    """A form page with our own scripts that read our JSON (the unit picker, the entry map): this service only
    (and the configured tiles), the frame's inline style by its hash; forms post back here."""
    images = " ".join(filter(None, ["'self'", tile_source(tile_url)]))
    return ("default-src 'none'; script-src 'self'; "
            f"style-src 'self' {' '.join(inline_hashes(html, 'style'))}; connect-src 'self'; img-src {images}; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
