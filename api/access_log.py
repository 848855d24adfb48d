"""The access log: one line per request through the `fangxun.access` logger, with the request id, and the path
as core/redact.py leaves it (a 叫应 link's token, a report URL's token, secrets in the query: masked)."""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from fangxun.api.request_ids import request_id
from fangxun.core.redact import redact

ACCESS_LOGGER = "fangxun.access"


class AccessLogger(AbstractAccessLogger):
    """`127.0.0.1 "GET /ack/*** HTTP/1.1" 200 1834 12.3ms`, the request id and fields beside it."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        path = redact(request.raw_path)
        remote = request.remote or "-"
        size = response.body_length
        self.logger.info('%s "%s %s HTTP/%d.%d" %d %d %.1fms', remote, request.method, path, *request.version,
                         response.status, size, time * 1000,
                         extra={"request_id": request_id(request), "remote": remote, "method": request.method,
                                "path": path, "status": response.status, "bytes": size,
                                "duration_ms": round(time * 1000, 1)})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def access_log_options() -> dict:
    """The keyword arguments of web.run_app / AppRunner that turn this access log on."""
    return {"access_log": logging.getLogger(ACCESS_LOGGER), "access_log_class": AccessLogger}
