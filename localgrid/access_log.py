"""`serve --access-log`: one line per request on stdout, so users can count what their playbooks send.

``GET /explorer/reservations?customer_tid=3 200 4.1ms``: method, path with its query, the status
the client got (``-`` when the connection was closed without an answer, see faults.py) and the
time until the answer was complete. Outside fault injection, so injected faults are logged as sent.
"""

import sys
import time


class AccessLog:
    def __init__(self, app, stream=None):
        self.app = app
        self.stream = stream or sys.stdout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.monotonic()
        # Read before the app runs: Starlette's mounts rewrite root_path and path in the scope.
        target = scope.get("root_path", "") + scope["path"]
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        status = []

        async def logged_send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        # uvicorn's own send keeps identifying the request cycle for faults.py's connection drop.
        logged_send.__self__ = getattr(send, "__self__", None)
        try:
            await self.app(scope, receive, logged_send)
        finally:
            self.stream.write("%s %s %s %.1fms\n" % (
                scope["method"], target, status[0] if status else "-", (time.monotonic() - start) * 1000))
            self.stream.flush()
