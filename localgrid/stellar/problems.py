"""Horizon's RFC 7807 error bodies (the shapes stellar-sdk turns into NotFoundError/BadRequestError)."""

from starlette.responses import JSONResponse

_TYPE = "https://stellar.org/horizon-errors/"


class Problem(Exception):
    def __init__(self, status, kind, title, detail, extras=None):
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail, self.extras = status, kind, title, detail, extras

    def response(self):
        body = {"type": _TYPE + self.kind, "title": self.title, "status": self.status, "detail": self.detail}
        if self.extras is not None:
            body["extras"] = self.extras
        return JSONResponse(body, status_code=self.status, media_type="application/problem+json")


def not_found():
    return Problem(404, "not_found", "Resource Missing",
                   "The resource at the url requested was not found.  This usually occurs for one of two "
                   "reasons:  The url requested is not valid, or no data in our database could be found with "
                   "the parameters provided.")


def bad_request(field, reason):
    return Problem(400, "bad_request", "Bad Request",
                   "The request you sent was invalid in some way.",
                   {"invalid_field": field, "reason": reason})


def transaction_malformed(envelope_xdr):
    return Problem(400, "transaction_malformed", "Transaction Malformed",
                   "Horizon could not decode the transaction envelope in this request. A transaction should "
                   "be an XDR TransactionEnvelope struct encoded using base64.",
                   {"envelope_xdr": envelope_xdr})


def transaction_failed(envelope_xdr, result_xdr, result_codes):
    return Problem(400, "transaction_failed", "Transaction Failed",
                   "The transaction failed when submitted to the stellar network. The `extras.result_codes` "
                   "field on this response contains further details.",
                   {"envelope_xdr": envelope_xdr, "result_xdr": result_xdr, "result_codes": result_codes})
