"""Assemble one localgrid process: store, clock, ledger, explorer, escrow loop and node agents."""

import asyncio
import contextlib
import dataclasses
import logging
import threading

from starlette.applications import Starlette
from starlette.routing import Mount

from localgrid import admin, hub
from localgrid.clock import Clock
from localgrid.explorer.api import explorer_app
from localgrid.explorer.bootstrap import seed_directory
from localgrid.explorer.directory import Directory
from localgrid.explorer.escrow import EscrowLoop, FreeEscrow, StellarEscrow
from localgrid.explorer.gateways import GatewayDirectory
from localgrid.explorer.phonebook import Phonebook
from localgrid.explorer.reservations import Reservations
from localgrid.explorer.wallets import Wallets
from localgrid.faults import FaultPlan
from localgrid.gateway.agent import GatewayAgent
from localgrid.grid import load_grid
from localgrid.loopback import LoopbackTransport
from localgrid.node.agent import NodeAgent
from localgrid.runtime import choice
from localgrid.stellar import horizon
from localgrid.stellar.ledger import Ledger
from localgrid.store import Store
from localgrid.wakeup import NodeWakeups, Wakeup

log = logging.getLogger(__name__)


@dataclasses.dataclass
class AppState:
    settings: object
    store: Store
    clock: Clock
    ledger: Ledger
    grid: dict
    phonebook: Phonebook
    directory: Directory
    wallets: Wallets
    escrow: object
    reservations: Reservations
    runtime: object
    agents: list = dataclasses.field(default_factory=list)
    escrow_loop: EscrowLoop = None
    # One per node agent: new work for that node, or (all of them) the clock moved.
    node_wakeups: NodeWakeups = dataclasses.field(default_factory=NodeWakeups)
    escrow_wakeup: Wakeup = dataclasses.field(default_factory=Wakeup)  # the escrow loop's: a payment, an escrow
    faults: FaultPlan = None
    # The server's outermost ASGI app (access log, faults, routes): the node agents' requests go to it without a socket.
    loopback_app: object = None
    started: threading.Event = dataclasses.field(default_factory=threading.Event)


def build_state(settings):
    """Open the store and build every service; seeds the directory from the grid file."""
    store = Store(settings.state_path)
    node_wakeups, escrow_wakeup = NodeWakeups(), Wakeup()
    clock = Clock(store, on_advance=(node_wakeups.notify_all, escrow_wakeup.notify))
    ledger = Ledger(store, clock, on_change=escrow_wakeup.notify)
    grid = load_grid(settings.grid_path)
    phonebook = Phonebook(store)
    directory = Directory(store, clock, GatewayDirectory(store, clock))
    wallets = Wallets(store, ledger)
    if settings.payment_mode == "free":
        escrow = FreeEscrow()
    else:
        escrow = StellarEscrow(store, clock, ledger, wallets, directory, on_change=escrow_wakeup.notify)
    reservations = Reservations(store, clock, phonebook, directory, escrow, on_work=node_wakeups.notify)
    escrow.reservations = reservations
    seed_directory(store, grid, phonebook, directory, wallets)
    faults = FaultPlan(settings.faults) if settings.faults is not None else None
    runtime = choice.build(settings)
    return AppState(
        settings, store, clock, ledger, grid, phonebook, directory, wallets, escrow, reservations, runtime,
        node_wakeups=node_wakeups, escrow_wakeup=escrow_wakeup, faults=faults,
    )


def _node_transport(state):
    """The agents' transport to this process's own explorer and hub (localgrid/loopback.py), run on the event
    loop that calls this; None (a real connection) when the server did not give its ASGI app."""
    if state.loopback_app is None:
        return None
    return LoopbackTransport(state.loopback_app, asyncio.get_running_loop(), state.settings.base_url)


def start_background(state):
    settings = state.settings
    state.escrow_loop = EscrowLoop(state.escrow, state.clock, settings.profile, state.escrow_wakeup)
    state.escrow_loop.start()
    state.runtime.recover()
    for node in state.grid["nodes"]:
        if node["down"]:
            continue
        agent = NodeAgent(
            node, settings.explorer_url, settings.hub_url, state.store, state.clock, settings.profile, state.grid["flists"],
            transport=_node_transport(state), wakeup=state.node_wakeups.of(node["node_id"]), runtime=state.runtime,
        )
        agent.restore()
        agent.start()
        state.agents.append(agent)
    for gateway in state.grid.get("gateways") or []:
        if gateway["down"]:
            continue
        agent = GatewayAgent(
            gateway, settings.explorer_url, state.store, state.clock, settings.profile,
            transport=_node_transport(state), wakeup=state.node_wakeups.of(gateway["node_id"]),
        )
        agent.start()
        state.agents.append(agent)
    state.started.set()


def stop_agents(state):
    """Stop the node agents while the server still answers, so their last requests succeed."""
    agents, state.agents = list(state.agents), []
    for agent in agents:
        agent.stop()


def stop_background(state):
    stop_agents(state)
    state.runtime.shutdown()
    if state.escrow_loop is not None:
        state.escrow_loop.stop()
    state.store.close()


def build_app(settings, on_started=None):
    """The ASGI app; node agents and the escrow loop run for the app's lifespan."""
    state = build_state(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        start_background(state)
        if on_started is not None:
            on_started(state)
        try:
            yield
        finally:
            stop_background(state)

    app = Starlette(
        routes=[
            Mount(
                "/explorer",
                app=explorer_app(state.phonebook, state.directory, state.reservations),
            ),
            Mount("/stellar", routes=horizon.routes(state.ledger, settings.profile.ledger_close_interval)),
            Mount("/hub", app=hub.hub_app(settings.hub_dir)),
            Mount("/localgrid", routes=admin.routes(state)),
        ],
        lifespan=lifespan,
    )
    app.state.localgrid = state
    return app
