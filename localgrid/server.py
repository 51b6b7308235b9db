"""Run a localgrid app with uvicorn on a bound socket: in a background thread (tests) or in front (CLI)."""

import asyncio
import contextlib
import dataclasses
import signal
import socket
import threading
import time

import uvicorn

from localgrid.access_log import AccessLog
from localgrid.app import build_app, stop_agents
from localgrid.faults import FaultInjection

STARTUP_TIMEOUT = 30


def bind(settings):
    """Bind the listening socket first, so port 0 becomes a real port before the app is built."""
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted connections of such a socket, and
    # without it every small response waits ~40 ms for the client's delayed ACK (bench/README.md).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock, dataclasses.replace(settings, port=sock.getsockname()[1])


class LocalgridServer(uvicorn.Server):
    """uvicorn server that stops the node agents before it stops listening.

    On SIGINT/SIGTERM (main thread only) the agents are stopped from a helper thread while the
    event loop keeps serving their last requests; then uvicorn shuts down and the process exits
    with status 0 (stock uvicorn re-raises the signal after shutdown).
    """

    def __init__(self, config, state):
        self._exit_requested = False
        self._main_loop_wakeup = None  # (event loop, asyncio.Event) while main_loop runs
        super().__init__(config)
        self.state = state
        self._stopping = threading.Lock()

    @property
    def should_exit(self):
        return self._exit_requested

    @should_exit.setter
    def should_exit(self, value):
        # Set from other threads too (the stop helper, ServerHandle.stop): wake main_loop at once.
        self._exit_requested = value
        if value and self._main_loop_wakeup is not None:
            loop, event = self._main_loop_wakeup
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(event.set)

    async def main_loop(self):
        """uvicorn's loop, ticking once a second instead of ten times (idle CPU, bench/README.md).

        A tick refreshes the Date header, whose resolution is a second; an exit request ends the wait.
        """
        event = asyncio.Event()
        self._main_loop_wakeup = (asyncio.get_running_loop(), event)
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000  # on_tick refreshes the Date header when counter % 10 == 0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), 1.0)
        self._main_loop_wakeup = None

    def shutdown_soon(self):
        if not self._stopping.acquire(blocking=False):
            self.force_exit = True  # a second signal: stop waiting for open connections
            return

        def stop():
            stop_agents(self.state)
            self.should_exit = True

        threading.Thread(target=stop, name="localgrid-stop", daemon=True).start()

    @contextlib.contextmanager
    def capture_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, lambda *_: self.shutdown_soon()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def make_server(settings, on_started=None):
    app = build_app(settings, on_started=on_started)
    asgi = app
    if app.state.localgrid.faults is not None:
        asgi = FaultInjection(asgi, app.state.localgrid.faults)
    if settings.access_log:  # uvicorn's own access log is silent at log level warning
        asgi = AccessLog(asgi)
    app.state.localgrid.loopback_app = asgi
    config = uvicorn.Config(asgi, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5)
    return LocalgridServer(config, app.state.localgrid), app


class ServerHandle:
    def __init__(self, settings, server, app, thread):
        self.settings = settings
        self._server = server
        self._thread = thread
        self.app_state = app.state.localgrid

    @property
    def base_url(self):
        return self.settings.base_url

    @property
    def explorer_url(self):
        return self.settings.explorer_url

    @property
    def horizon_url(self):
        return self.settings.horizon_url

    def stop(self):
        stop_agents(self.app_state)
        self._server.should_exit = True
        self._thread.join(timeout=30)


def start_server(settings):
    """Start localgrid in a background thread and return once it accepts requests."""
    sock, settings = bind(settings)
    server, app = make_server(settings)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="localgrid-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("localgrid did not start")
        time.sleep(0.02)
    return ServerHandle(settings, server, app, thread)
