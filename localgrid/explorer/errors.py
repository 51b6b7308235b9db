"""Errors the explorer domain raises; routes turn them into `{"error": msg}` with the status."""


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message):
    return ApiError(400, message)


def not_found(message="mongo: no documents in result"):
    return ApiError(404, message)


class Unauthorized(Exception):
    """HTTP-signature failure: 401 written by the auth middleware, not the JSON error helper."""

    def __init__(self, cause):
        super().__init__(cause)
        self.cause = cause
