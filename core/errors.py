"""Error hierarchy: every error the service reports carries an HTTP status and a code."""

from __future__ import annotations


class FangxunError(Exception):
    """Root of all errors fangxun reports to a user."""

    status = 500
    code = "internal_error"

    def __init__(self, detail: str, *, extra: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class BadInput(FangxunError):
    """The request or file is malformed or breaks a rule."""

    status = 400
    code = "bad_input"


class ImportRejected(BadInput):
    """A file import was refused whole; `problems` lists each bad row."""

    code = "import_rejected"

    def __init__(self, detail: str, problems: list):
        super().__init__(detail, extra={"problems": [p.as_dict() for p in problems]})
        self.problems = problems


class NotFound(FangxunError):
    """The named object does not exist."""

    status = 404
    code = "not_found"


class Conflict(FangxunError):
    """The object exists already or its state forbids the change."""

    status = 409
    code = "conflict"


class Unauthorized(FangxunError):
    """No valid credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(FangxunError):
    """Valid credentials without the needed role."""

    status = 403
    code = "forbidden"


class PayloadTooLarge(FangxunError):
    """The request body is over the configured size limit."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(FangxunError):
    """The request body is in a format the route does not take."""

    status = 415
    code = "unsupported_media_type"


class TooManyRequests(FangxunError):
    """Rate limit hit."""

    status = 429
    code = "too_many_requests"


class ServiceUnavailable(FangxunError):
    """The service cannot take the request now (a missing secret, a resource down); try again later."""

    status = 503
    code = "service_unavailable"


class ConfigError(FangxunError):
    """The configuration is invalid; names the file and key."""

    code = "config_error"
