"""Command line: `python -m localgrid serve ...`, `info --url URL`, `flist build SOURCE NAME`, `image build NAME`
and `cleanup --state PATH`."""

import argparse
import dataclasses
import json
import os
import sys

import httpx

from localgrid.config import DEFAULT_PORT, PAYMENT_MODES, PROFILES, Settings
from localgrid.faults import FaultSpecError, parse_spec
from localgrid.runtime import flists, recipes
from localgrid.runtime.base import StartError
from localgrid.runtime.choice import CHOICES, RuntimeUnavailable
from localgrid.runtime.choice import resolve as resolve_runtime
from localgrid.runtime.probe import missing_requirement


def _parser():
    parser = argparse.ArgumentParser(prog="python -m localgrid", description="A local ThreeFold Grid v2.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the explorer, the simulated nodes and the ledger")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    serve.add_argument("--state", default="localgrid-state.db", help="SQLite state file (kept across restarts)")
    serve.add_argument("--grid", default="", help="grid file (default: the packaged grids/default.yml)")
    serve.add_argument("--profile", choices=sorted(PROFILES), default="fast")
    serve.add_argument("--payment", choices=PAYMENT_MODES, default="stellar")
    serve.add_argument(
        "--ledger-close", type=_seconds, default=None, metavar="SECONDS",
        help="seconds between two ledger closes: a submitted transaction applies at the next one (the public "
        "network: about 5); default: the profile's (fast: 0, at once; realistic: 5)",
    )
    serve.add_argument("--hub", default="", help="directory served at /hub (default: <state>.hub/)")
    serve.add_argument(
        "--access-log", action="store_true",
        help="print one line per request on stdout: method, path, status, duration (off by default)",
    )
    serve.add_argument(
        "--faults", type=_fault_spec, default=None, metavar="SPEC",
        help="inject seeded faults into the explorer and Horizon routes, e.g. "
        "'http5xx=0.1,drop=0.05,latency=200ms,after=0.5,seed=7': shares of requests answered 500/502/503/504 "
        "and of connections dropped, latency added to every request, share of those faults injected after "
        "the request was applied (answer lost), and the seed (random when omitted; /localgrid/info shows it)",
    )
    serve.add_argument("--runtime", choices=CHOICES, default=None,
                       help="namespaces: really run containers (needs root); default: namespaces when possible")
    info = commands.add_parser("info", help="print the /localgrid/info of a running localgrid")
    info.add_argument("--url", default="http://127.0.0.1:%d" % DEFAULT_PORT)
    flist = commands.add_parser("flist", help="make flists localgrid's hub serves").add_subparsers(
        dest="flist_command", required=True)
    build = flist.add_parser("build", help="pack a root filesystem (directory or tar) as a hub flist")
    build.add_argument("source", help="directory or tar archive holding the root filesystem")
    build.add_argument("name", help="flist name under /hub, e.g. alice/app (.flist is added)")
    build.add_argument("--hub", default="localgrid-state.db.hub", help="hub directory (serve's --hub or <state>.hub)")
    image = commands.add_parser("image", help="images localgrid builds for catalogue flists").add_subparsers(
        dest="image_command", required=True)
    image_build = image.add_parser("build", help="build (once) an image from Debian packages, showing progress")
    image_build.add_argument("name", choices=sorted(recipes.RECIPES))
    image_build.add_argument("--cache", default="", help="image cache (default: $LOCALGRID_CACHE or ~/.cache/localgrid)")
    cleanup = commands.add_parser(
        "cleanup", help="after a crash (kill -9) of `serve`: stop the containers and networks it left running and "
        "remove their namespaces, by the ids recorded in its state, without starting anything")
    cleanup.add_argument("--state", default="localgrid-state.db", help="the state file the crashed serve used")
    return parser


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError("%r is not a number of seconds from 0 to 60" % text)
    return value


def _profile(args):
    profile = PROFILES[args.profile]
    if args.ledger_close is None:
        return profile
    return dataclasses.replace(profile, ledger_close_interval=args.ledger_close)


def _fault_spec(text):
    try:
        return parse_spec(text)
    except FaultSpecError as err:
        raise argparse.ArgumentTypeError("invalid fault spec: %s" % err) from None


def _announce(state):
    settings = state.settings
    print("localgrid listening on %s" % settings.base_url)
    print("  explorer:  %s" % settings.explorer_url)
    print("  horizon:   %s" % settings.horizon_url)
    print("  friendbot: %s/friendbot?addr=G..." % settings.horizon_url)
    print("  hub:       %s" % settings.hub_url)
    print("  info:      %s/localgrid/info" % settings.base_url)
    if settings.runtime == "namespaces":
        print("  runtime:   namespaces (containers really run; images cached in %s)" % settings.cache_dir)
        print("  cpu/memory limits: %s" % state.runtime.describe()["cgroup_limits"])
        for url, status in recipes.catalogue(state.grid["flists"], settings.images_dir).items():
            if not status.startswith("runs "):
                print("  catalogue flist %s: %s" % (url, status))
    else:
        print("  runtime:   simulated, containers do not run: %s" % settings.runtime_reason)
    faults = ", faults %s" % state.faults.describe()["spec"] if state.faults is not None else ""
    ledger = settings.profile.ledger_close_interval
    closes = ", a ledger closes every %g s" % ledger if ledger else ""
    print("  profile %s%s, payment %s, state %s%s" % (settings.profile.name, closes, settings.payment_mode,
                                                      settings.state_path, faults))
    sys.stdout.flush()


def serve(args):
    from localgrid.server import bind, make_server  # the app stack is only needed to serve

    try:
        runtime, reason = resolve_runtime(args.runtime)
    except RuntimeUnavailable as error:
        print("localgrid: %s" % error, file=sys.stderr)
        return 2
    settings = Settings(
        host=args.host,
        port=args.port,
        state_path=args.state,
        grid_path=args.grid,
        profile=_profile(args),
        payment_mode=args.payment,
        hub_path=args.hub,
        access_log=args.access_log,
        faults=args.faults,
        runtime=runtime,
        runtime_reason=reason,
    )
    sock, settings = bind(settings)
    server, _app = make_server(settings, on_started=_announce)
    # In the main thread uvicorn handles SIGINT/SIGTERM: it stops serving, then the lifespan
    # shutdown stops node agents and the escrow loop and closes the store.
    server.run(sockets=[sock])
    return 0


def info(args):
    response = httpx.get(args.url.rstrip("/") + "/localgrid/info", timeout=10)
    response.raise_for_status()
    print(json.dumps(response.json(), indent=2))
    return 0


def flist_build(args):
    try:
        relative, size, md5 = flists.build(args.source, args.name, args.hub)
    except flists.FlistError as error:
        print("localgrid: %s" % error, file=sys.stderr)
        return 2
    print("built /hub/%s (%d bytes, md5 %s) in %s" % (relative, size, md5, args.hub))
    return 0


def image_build(args):
    images_dir = Settings(cache_path=args.cache).images_dir
    if recipes.built(images_dir, args.name):
        print("image %s is already built: %s" % (args.name, recipes.built(images_dir, args.name)))
        return 0
    print("building image %s from Debian packages (first time only; a few minutes)" % args.name, flush=True)
    try:
        recipes.build(images_dir, args.name, lambda line: print("  " + line, flush=True))
    except StartError as error:
        print("localgrid: %s" % error.message, file=sys.stderr)
        return 1
    return 0


def cleanup(args):
    """What a restart on the same state does first, alone: for a localgrid that is no longer running."""
    settings = Settings(state_path=args.state)
    if not os.path.isdir(settings.runtime_dir):
        print("nothing to clean up: %s does not exist" % settings.runtime_dir)
        return 0
    missing = missing_requirement()
    if missing:
        print("localgrid: cannot clean up %s: %s" % (settings.runtime_dir, missing), file=sys.stderr)
        return 2
    from localgrid.runtime.namespaces import NamespaceRuntime  # starts a monitor thread: only when cleaning

    runtime = NamespaceRuntime(settings.runtime_dir, settings.cache_dir, settings.hub_url)
    try:
        cleaned = runtime.recover()
    finally:
        runtime.shutdown()
    print("cleaned up: %s" % (", ".join(cleaned) or "nothing was left running"))
    for interface, endpoint in runtime.stale_tunnels:
        print("stale WireGuard interface on this machine: %s (peer %s); bring it down with wg-quick down %s"
              % (interface, endpoint, interface))
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    return {"serve": serve, "info": info, "flist": flist_build, "image": image_build,
            "cleanup": cleanup}[args.command](args)
