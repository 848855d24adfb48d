"""The OpenAPI document of the API and its page, open to all: they describe the interface and hold no data."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages
from fangxun.api.csp import inline_hashes
from fangxun.api.jsonio import reply
from fangxun.api.openapi import openapi_document
from fangxun.api.openapi_page import docs_page

routes = web.RouteTableDef()


def docs_policy(html: str) -> str:
    """No script at all; the page's own inline style by its hash; the icon from here."""
    return (f"default-src 'none'; style-src {' '.join(inline_hashes(html, 'style'))}; img-src 'self'; "
            "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of every /api route."""
    return reply(openapi_document(request.app))


@routes.get("/api/docs")
async def api_docs(request: web.Request) -> web.Response:
    """The document as an HTML page of tables, served by this service alone."""
    html = docs_page(openapi_document(request.app))
    return pages.html_response(html, headers={"Content-Security-Policy": docs_policy(html),
                                              "Cache-Control": "no-cache"})
