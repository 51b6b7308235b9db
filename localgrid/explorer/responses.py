"""Response writing as the Go explorer does it: one JSON value + newline, Pages header, errors."""

import json
import logging
import math

from starlette.exceptions import HTTPException
from starlette.responses import Response

from localgrid.explorer.errors import ApiError, Unauthorized
from localgrid.explorer.gojson import DecodeError
from localgrid.explorer.gostr import parse_int_ignoring_error

log = logging.getLogger(__name__)


# Leaves that go_floats returns as they are: most of a response, so they skip a call each.
_KEPT = frozenset((str, int, bool, type(None)))


def go_floats(value):
    """Go writes a float64 with no fraction without a decimal point (16, not 16.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list):
        return [item if type(item) in _KEPT else go_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: item if type(item) in _KEPT else go_floats(item) for key, item in value.items()}
    return value


def json_response(value, status=200, headers=None):
    body = json.dumps(go_floats(value), separators=(",", ":"), ensure_ascii=False) + "\n"
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def error_response(status, message):
    return json_response({"error": message}, status)


def unauthorized_response(cause):
    # Go's http.Error: text/plain content type (sniffed), body ends with a newline.
    body = json.dumps({"error": "unauthorized access: " + cause}, separators=(",", ":")) + "\n"
    return Response(
        body,
        status_code=401,
        media_type="text/plain; charset=utf-8",
        headers={"WWW-Authenticate": 'Signature headers="(created) date threebot-id"'},
    )


def handled(handler):
    """Wrap a route handler so domain errors become the explorer's error responses."""

    async def endpoint(request):
        try:
            return await handler(request)
        except Unauthorized as err:
            return unauthorized_response(err.cause)
        except DecodeError as err:
            return error_response(400, str(err))
        except ApiError as err:
            return error_response(err.status, err.message)
        except HTTPException:
            raise  # router-style 404/405, answered by the app's handlers
        except Exception as err:  # the explorer answers any other failure with 500 and the error text
            log.exception("%s %s failed", request.method, request.url.path)
            return error_response(500, str(err))

    endpoint.__name__ = handler.__name__
    return endpoint


def paging(query):
    """(page, size) as models.PageFromRequest reads them: 1-based page, size default 100 capped at 1000.

    Go ignores the parse error: bad syntax reads as 0, a value beyond int64 as the int64 bound.
    """
    page = max(parse_int_ignoring_error(query["page"]), 1) if query.get("page") else 1
    size = parse_int_ignoring_error(query["size"]) if query.get("size") else 100
    return page, min(size, 1000)


def pages_header(total, size):
    """The `Pages` header for `total` matching items in pages of `size`."""
    if size <= 0:
        # Mongo applies no limit and Go's ceil(total/0) overflows to the minimum int64.
        return {"Pages": str(-(2**63))}
    return {"Pages": str(math.ceil(total / size))}


def paginate(items, query):
    """Slice an `_id`-ordered list and return (page_items, {"Pages": n})."""
    page, size = paging(query)
    if size <= 0:
        return items, pages_header(len(items), size)
    start = (page - 1) * size
    return items[start : start + size], pages_header(len(items), size)
