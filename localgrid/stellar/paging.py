"""Horizon's list paging read from a request: cursor (exclusive paging token), order, limit, and absolute _links.

queries.py applies a Page to the history; this module only parses it and writes the links.
"""

import urllib.parse

from .amounts import MAX_INT64
from .problems import bad_request

DEFAULT_LIMIT = 10
MAX_LIMIT = 200


class Page:
    def __init__(self, request, composite_cursor=False):
        params = request.query_params
        self.order = params.get("order") or "asc"
        if self.order not in ("asc", "desc"):
            raise bad_request("order", "order: invalid value; expected 'asc' or 'desc'")
        try:
            self.limit = int(params.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            raise bad_request("limit", "unparseable value") from None
        if not 1 <= self.limit <= MAX_LIMIT:
            raise bad_request("limit", "limit must be between 1 and %d" % MAX_LIMIT)
        self.raw_cursor = params.get("cursor") or ""
        self.cursor = self._parse_cursor(self.raw_cursor, composite_cursor)
        self.include_failed = params.get("include_failed", "false").lower() == "true"
        self.join = params.get("join") or ""
        if self.join not in ("", "transactions"):
            raise bad_request("join", "accepted values: transactions")
        # Links keep the scheme, host and port of the request so a client's .next() comes back here.
        self.url = "%s://%s%s" % (request.url.scheme, request.url.netloc, request.url.path)

    def _parse_cursor(self, raw, composite):
        """A tuple comparable with the key columns; None = from the start (asc) or the end (desc)."""
        if raw == "":
            return None
        if raw == "now":
            return (MAX_INT64, MAX_INT64) if composite else (MAX_INT64,)
        try:
            parts = tuple(int(part) for part in raw.split("-"))
        except ValueError:
            raise bad_request("cursor", "invalid cursor %r" % raw) from None
        if any(part > MAX_INT64 for part in parts):  # paging tokens are int64 ids, as in Horizon
            raise bad_request("cursor", "invalid cursor %r" % raw)
        if composite:
            if len(parts) == 1:
                parts = (parts[0], 0)
            if len(parts) != 2:
                raise bad_request("cursor", "invalid cursor %r" % raw)
        elif len(parts) != 1 or parts[0] < 0:
            raise bad_request("cursor", "invalid cursor %r" % raw)
        return parts

    def _link(self, cursor, order):
        query = {"cursor": cursor, "limit": str(self.limit), "order": order}
        if self.include_failed:
            query["include_failed"] = "true"
        if self.join:
            query["join"] = self.join
        return {"href": self.url + "?" + urllib.parse.urlencode(query)}

    def envelope(self, records):
        """Horizon's list body; next continues after the last record, prev goes back before the first."""
        first = records[0]["paging_token"] if records else self.raw_cursor
        last = records[-1]["paging_token"] if records else self.raw_cursor
        reverse = "desc" if self.order == "asc" else "asc"
        return {
            "_links": {
                "self": self._link(self.raw_cursor, self.order),
                "next": self._link(last, self.order),
                "prev": self._link(first, reverse),
            },
            "_embedded": {"records": records},
        }
