"""The node agents' way to their own explorer: the same HTTP requests, handed to the ASGI app without a socket.

The simulated nodes live in the localgrid process and talk to its explorer and hub over HTTP as 0-OS does.
Through a socket each request also paid for an HTTP client connection, a TCP round trip and uvicorn's parser,
on the two cores the customers' requests need (bench/README.md, the fleet). ``LoopbackTransport`` gives the
request (method, path, query, headers, body) to the server's outermost ASGI app on the server's event loop
and returns its answer, so everything above the socket sees what it saw before: the access log logs it,
faults.py delays, fails or drops it, and the routes answer it. A dropped connection (faults.py's ``drop``)
reaches the node as the httpx error a closed socket gives, and a request for another origin takes the network.
"""

import asyncio
import concurrent.futures
import logging
import urllib.parse

import httpx

log = logging.getLogger(__name__)

CLIENT = ("127.0.0.1", 0)
INTERNAL_ERROR = b"Internal Server Error"


class LoopbackTransport(httpx.BaseTransport):
    def __init__(self, app, loop, base_url, fallback=None):
        self.app = app
        self.loop = loop
        url = httpx.URL(base_url)
        self.origin = (url.scheme, url.host, url.port)
        self.fallback = fallback

    def handle_request(self, request):
        if (request.url.scheme, request.url.host, request.url.port) != self.origin:
            if self.fallback is None:
                # Made on first use: each HTTPTransport builds an SSL context (tens of ms), one per node agent at
                # start-up, and the agents of a localgrid seldom ask another origin.
                self.fallback = httpx.HTTPTransport()
            return self.fallback.handle_request(request)
        body = request.read()
        exchange = self._exchange(request, body)
        try:
            future = asyncio.run_coroutine_threadsafe(exchange, self.loop)
        except RuntimeError as error:  # the server's event loop has closed: nobody listens any more
            exchange.close()
            raise httpx.ConnectError(str(error), request=request) from None
        try:
            status, headers, content = future.result(timeout=request.extensions.get("timeout", {}).get("read"))
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise httpx.ReadTimeout("timed out", request=request) from None
        except ConnectionAbortedError:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from None
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _exchange(self, request, body):
        """Run the app on one request as uvicorn would; returns (status, headers, body)."""
        raw_path = request.url.raw_path.split(b"?", 1)[0]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": (self.origin[1], self.origin[2]),
            "client": CLIENT,
            "scheme": self.origin[0],
            "root_path": "",
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "state": {},
            "method": request.method,
            "path": urllib.parse.unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "query_string": request.url.query,
        }
        done = asyncio.Event()
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        start, chunks = {}, []

        async def receive():
            if pending:
                return pending.pop()
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        try:
            await self.app(scope, receive, send)
        except ConnectionAbortedError:
            raise
        except Exception:  # what uvicorn does with it: log, then a 500 or (mid-answer) a closed connection
            log.exception("Exception in ASGI application")
        finally:
            complete = done.is_set()
            done.set()  # a receive() still waiting learns that the exchange is over
        if not start:
            return 500, [(b"content-type", b"text/plain; charset=utf-8")], INTERNAL_ERROR
        if not complete:
            raise ConnectionAbortedError("the answer was cut short")
        return start["status"], start.get("headers", []), b"".join(chunks)
