# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The one error family of the grid layer.

Everything below ``_base.py`` raises a GridError; ``ZosModule.run`` (and the inventory plugin) turn it
into a failure: ``msg``, the structured ``failure`` dict when there is one, and ``returns`` (what is
known of the resource, e.g. the reservation as far as it got). Messages name options, never secrets.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


def body_excerpt(text: str) -> str:
    """The start of an answer body that is not what was expected, on one line (an HTML page can be long)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= 120 else flat[:120] + "..."


class GridError(Exception):
    """A grid operation that failed. ``failure`` is a secret-free detail dict (or None)."""

    def __init__(self, msg: str, failure: Optional[Dict[str, Any]] = None) -> None:
        super(GridError, self).__init__(msg)
        self.msg = msg
        self.failure = failure
        self.returns: Dict[str, Any] = {}  # result keys the module returns alongside the failure

    def __str__(self) -> str:
        return self.msg

    def to_failure(self) -> Optional[Dict[str, Any]]:
        return self.failure

    @classmethod
    def during(cls, what: str, error: "GridError") -> "GridError":
        """``<what>: <cause>`` keeping the cause's structured failure."""
        return cls("%s: %s" % (what, error.msg), failure=error.to_failure())


class CodedError(GridError):
    """A GridError with a short machine-readable ``code`` that leads its ``failure`` dict."""

    default_code = "grid_error"

    def __init__(self, msg: str, code: Optional[str] = None, failure: Optional[Dict[str, Any]] = None) -> None:
        super(CodedError, self).__init__(msg, failure or {})
        self.code = code or self.default_code

    def to_failure(self) -> Dict[str, Any]:
        failure = {"code": self.code}
        failure.update(self.failure or {})
        return failure


class MissingLibraryError(GridError):
    """A Python library needed for this step is not installed (reported with missing_required_lib)."""

    def __init__(self, library: str, import_error: Optional[str]) -> None:
        super(MissingLibraryError, self).__init__("the %s Python library is required" % library)
        self.library = library
        self.import_error = import_error


class SpecError(GridError, ValueError):
    """A user error in the options; the message names the option and the (non-secret) value."""


class NetworkSpecError(SpecError):
    """A network option that cannot be turned into a valid network."""


class IdentityError(GridError, ValueError):
    """An identity that cannot be built or is not the one registered. Names the option, never the secret."""


class ExplorerError(GridError):
    """A failed explorer call: HTTP status (None for transport errors), method, path and message.

    ``message`` is the explorer's ``error`` text, the plain body of router errors, or the transport error.
    """

    def __init__(self, message: str, status: Optional[int] = None, method: str = "", path: str = "") -> None:
        super(ExplorerError, self).__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = "%s %s" % (self.method, self.path) if self.method else self.path
        if self.status is None:
            return "%s: %s" % (where, self.message) if where else self.message
        return "%s returned HTTP %s: %s" % (where, self.status, self.message)

    def to_failure(self) -> Dict[str, Any]:
        return {"status": self.status, "method": self.method, "path": self.path, "message": self.message}


class ExplorerNotFound(ExplorerError):
    """The explorer answered 404: the thing asked for does not exist."""


class StellarError(CodedError):
    """A Stellar operation that failed; ``code`` is a short reason."""

    default_code = "stellar_error"


class PaymentError(CodedError):
    """A payment that could not be made. ``code`` is a short machine-readable reason."""

    default_code = "payment_failed"


class LifecycleError(GridError):
    """A reservation lifecycle step that failed; ``reservation`` is its view as far as it got."""

    def __init__(self, msg: str, reservation: Optional[Dict[str, Any]] = None,
                 failure: Optional[Dict[str, Any]] = None) -> None:
        super(LifecycleError, self).__init__(msg, failure)
        self.reservation = reservation
        self.payment: Optional[Dict[str, Any]] = None  # a payment made before the failure: nobody pays twice
