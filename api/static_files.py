"""Static directories whose file names no file system can hold (too long, say) answer 404 like any missing file."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web


class StaticFiles(web.StaticResource):
    """aiohttp's static directory, with the file system's refusals of a name (ENAMETOOLONG and the like) as 404."""

    def _resolve_path_to_response(self, unresolved_path: Path) -> web.StreamResponse:
        try:
            return super()._resolve_path_to_response(unresolved_path)
        except OSError:
            raise web.HTTPNotFound() from None


def add_static(app: web.Application, prefix: str, directory: Path) -> None:
    """Serve `directory` under `prefix` (no trailing slash), as app.router.add_static would."""
    app.router.register_resource(StaticFiles(prefix, directory))
