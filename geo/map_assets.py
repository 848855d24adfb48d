"""The scripts and styles the duty map loads: Leaflet from its wheel, ours from fangxun/api/static."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

STATIC_URL = "/static/"
ICON_FILE = "favicon.svg"
LEAFLET_URL = "/static/vendor/leaflet/"
# (kind, base URL, file) in load order: Leaflet before the scripts that use it.
MAP_FILES = (
    ("style", LEAFLET_URL, "leaflet.css"),
    ("style", STATIC_URL, "map/coverage-map.css"),
    ("script", LEAFLET_URL, "leaflet.js"),
    ("script", STATIC_URL, "map/units.js"),
    ("script", STATIC_URL, "map/warnings.js"),
    ("script", STATIC_URL, "map/labels.js"),
    ("script", STATIC_URL, "map/shelters.js"),
    ("script", STATIC_URL, "map/search.js"),
    ("script", STATIC_URL, "map/start.js"),
)
# The served map's script that fetches units by viewport (an exported file holds its units instead).
PAGED_FILE = ("script", STATIC_URL, "map/paged.js")
_CSS_URL = re.compile(r"url\((['\"]?)(images/[\w.-]+\.png)\1\)")
_SOURCE_MAP = re.compile(r"\n?//# sourceMappingURL=\S+\s*$")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


@dataclass(frozen=True)
class Asset:
    """A script or stylesheet: where the service serves it, or its text to inline."""

    kind: str
    url: str
    text: str | None = None


def leaflet_dir() -> Traversable:
    """Leaflet 1.9.4 as shipped by the django-js-lib-leaflet wheel (plain files; Django is not imported)."""
    return resources.files("js_lib_leaflet").joinpath("static", "js_lib_leaflet")


def static_dir() -> Traversable:
    """fangxun's own static files (package data of fangxun.api; read as files, no api code imported)."""
    return resources.files("fangxun").joinpath("api", "static")


def _folder(base_url: str) -> Traversable:
    return leaflet_dir() if base_url == LEAFLET_URL else static_dir()


def _inline_images(css: str, folder: Traversable) -> str:
    def data_uri(match: re.Match) -> str:
        data = base64.b64encode(folder.joinpath(match.group(2)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"
    return _CSS_URL.sub(data_uri, css)


def _read(kind: str, base_url: str, name: str) -> str:
    file = _folder(base_url).joinpath(name)
    text = file.read_text("utf-8")
    if kind == "style":
        css_folder = _folder(base_url).joinpath(*name.split("/")[:-1]) if "/" in name else _folder(base_url)
        return _inline_images(_CSS_COMMENT.sub("", text), css_folder)
    return _SOURCE_MAP.sub("\n", text)


def map_assets(inline: bool = False, paged: bool = False) -> list[Asset]:
    """The map's assets as URLs under /static/, or (inline) with their text and images as data: URIs;
    `paged`: with the script of the served map that loads units by viewport."""
    files = (*MAP_FILES[:-1], PAGED_FILE, MAP_FILES[-1]) if paged else MAP_FILES
    return [Asset(kind, base_url + name, _read(kind, base_url, name) if inline else None)
            for kind, base_url, name in files]


def map_icon(inline: bool = False) -> str:
    """The page icon: its URL under /static/, or (inline) the SVG itself as a data: URI."""
    if not inline:
        return STATIC_URL + ICON_FILE
    data = base64.b64encode(static_dir().joinpath(ICON_FILE).read_bytes()).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"
