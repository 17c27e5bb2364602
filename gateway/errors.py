"""One error hierarchy; the HTTP layer maps it to problem+json in one place."""
from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    status = 500
    title = "Internal error"
    type = "about:blank"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class ConfigError(GatewayError):
    """The configuration cannot be used; the gateway refuses to start."""

    title = "Configuration error"


class Unauthorized(GatewayError):
    status = 401
    title = "Unauthorized"
    type = "/problems/unauthorized"


class Forbidden(GatewayError):
    status = 403
    title = "Forbidden"
    type = "/problems/forbidden"


class NotFound(GatewayError):
    status = 404
    title = "Not found"
    type = "/problems/not-found"


class Conflict(GatewayError):
    status = 409
    title = "Conflict"
    type = "/problems/conflict"


class RequestTimeout(GatewayError):
    status = 408
    title = "Request timeout"
    type = "/problems/request-timeout"


class PayloadTooLarge(GatewayError):
    status = 413
    title = "Payload too large"
    type = "/problems/payload-too-large"


class UnsupportedMediaType(GatewayError):
    status = 415
    title = "Unsupported media type"
    type = "/problems/unsupported-media-type"


class ValidationFailed(GatewayError):
    status = 422
    title = "Validation failed"
    type = "/problems/validation"


class TransientError(GatewayError):
    """Worth retrying: the outside world may be better in a minute."""

    status = 503
    title = "Temporarily unavailable"


class PermanentError(GatewayError):
    """Retrying will not help; record it and alert."""


class CommandCenterRefused(PermanentError):
    """The command center refused a request (a 4xx other than 408/429): retrying will not help."""

    def __init__(self, what: str, status: int, detail: str) -> None:
        super().__init__(f"the command center refused the {what} with {status}: {detail}")
        self.status_code = status


class CommandCenterUnavailable(TransientError):
    """The command center did not answer usefully (no connection, a timeout, 5xx, 408, 429, a cut-off page)."""

    def __init__(self, detail: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status_code = status
        self.retry_after = retry_after
