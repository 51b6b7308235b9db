"""localgrid's own admin routes (/localgrid): what is running where, container output, and the grid clock."""

import json

from starlette.responses import Response
from starlette.routing import Route

from localgrid.node.state import NodeState
from localgrid.runtime import recipes
from localgrid.stellar.assets import NETWORK_PASSPHRASE

ASSETS = ("TFT", "TFTA", "FreeTFT")


def _json(value, status=200):
    return Response(json.dumps(value) + "\n", status_code=status, media_type="application/json")


def _runtime(state):
    described = state.runtime.describe()
    if state.runtime.name == "namespaces":
        described["catalogue"] = recipes.catalogue(state.grid["flists"], state.settings.images_dir)
    return described


def routes(state):
    settings = state.settings

    async def info(request):
        return _json(
            {
                "explorer_url": settings.explorer_url,
                "horizon_url": settings.horizon_url,
                "hub_url": settings.hub_url,
                "network_passphrase": NETWORK_PASSPHRASE,
                "assets": {code: state.ledger.asset_string(code) for code in ASSETS},
                "profile": settings.profile.name,
                "ledger_close_interval": settings.profile.ledger_close_interval,
                "payment_mode": settings.payment_mode,
                "now": state.clock.now(),
                "faults": state.faults.describe() if state.faults is not None else None,
                "runtime": _runtime(state),
            }
        )

    async def clock(request):
        try:
            body = json.loads(await request.body() or b"{}")
            seconds = float(body.get("advance", 0))
            now = state.clock.advance(seconds)
        except (ValueError, TypeError, AttributeError) as err:
            return _json({"error": "expected {\"advance\": seconds >= 0}: %s" % err}, 400)
        return _json({"now": now})

    async def secret_env(request):
        # What a container really received, without revealing it: a test can prove that a secret sealed
        # by the client decrypted on the node by comparing sha256 digests.
        digests = NodeState(state.store, request.path_params["node_id"]).secret_env_digests(request.path_params["gwid"])
        return _json({"secret_env_sha256": digests})

    async def output(request):
        # What the container's entrypoint printed (and each exit the runtime saw), like 0-OS's log file.
        node_id, gwid = request.path_params["node_id"], request.path_params["gwid"]
        text = state.runtime.output(node_id, gwid)
        if text is None:
            why = state.runtime.not_running(node_id, gwid) or "the container does not run on this localgrid's runtime"
            return _json({"error": "no output: %s" % why}, 404)
        return Response(text, media_type="text/plain; charset=utf-8")

    return [
        Route("/info", info, methods=["GET"]),
        Route("/nodes/{node_id}/workloads/{gwid}/output", output, methods=["GET"]),
        Route("/clock", clock, methods=["POST"]),
        Route("/nodes/{node_id}/workloads/{gwid}/secret_env", secret_env, methods=["GET"]),
    ]
