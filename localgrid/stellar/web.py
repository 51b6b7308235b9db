"""HTTP helpers shared by the Horizon and faucet routes."""

import functools

from starlette.responses import JSONResponse

from .problems import Problem


def hal(body, status_code=200):
    return JSONResponse(body, status_code=status_code, media_type="application/hal+json")


def base_url(request):
    """Scheme, host, port and mount prefix of this request: what absolute links start with."""
    return "%s://%s%s" % (request.url.scheme, request.url.netloc, request.scope.get("root_path", ""))


def problems(handler):
    """Turn a Problem raised by a handler into Horizon's error body."""
    @functools.wraps(handler)
    async def wrapper(self, request):
        try:
            return await handler(self, request)
        except Problem as problem:
            return problem.response()
    return wrapper
