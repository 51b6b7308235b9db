"""The explorer as an ASGI sub-application mounted at /explorer (router quirks of gorilla/mux)."""

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response

from localgrid.explorer import routes_directory, routes_phonebook, routes_reservations


class _Pattern(Convertor):
    def convert(self, value):
        return value

    def to_string(self, value):
        return str(value)


class Digits(_Pattern):
    regex = "[0-9]+"


class GlobalWorkloadId(_Pattern):
    regex = "[0-9]+-[0-9]+"


register_url_convertor("digits", Digits())
register_url_convertor("gwid", GlobalWorkloadId())


async def _not_found(request, exc):
    return PlainTextResponse("404 page not found\n", status_code=404)


async def _method_not_allowed(request, exc):
    return Response(b"", status_code=405)


def explorer_app(phonebook, directory, reservations):
    # Reservations first: most requests (customers' reads and payments' follow-ups, every node's poll and
    # result) are theirs, and the router tries routes in order. The three prefixes are disjoint, so the
    # order changes no answer.
    routes = (
        routes_reservations.routes(reservations)
        + routes_phonebook.routes(phonebook)
        + routes_directory.routes(directory)
    )
    return Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _method_not_allowed},
        middleware=[
            Middleware(
                CORSMiddleware, allow_origins=["*"], allow_headers=["Content-Type"], expose_headers=["Pages"],
                allow_methods=["GET", "POST", "PUT", "DELETE"],
            )
        ],
    )
