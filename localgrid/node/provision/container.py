"""Container: the steps of 0-OS v0.3.x container provisioning (docs/contract/node.md §3), in order.

The node checks what 0-OS checks, holds the capacity, then hands the container to the runtime
(which runs it, or not when simulated) and answers with the ids and addresses a real node would.
Decrypted secret env values only go to the runtime's exec environment; the cache keeps them
sealed (to decrypt again after a restart) plus their sha256, so tests can prove the node opened them.
"""

import hashlib
import ipaddress
import logging
import posixpath
import shlex

from localgrid.node.provision import flist, network
from localgrid.node.provision.base import (
    Deployment, ProvisionError, STORAGE_COUNTER, compute_shortage, disk_type_name, public_ipv6, storage_shortage,
)
from localgrid.node.secrets import DecryptError, open_hex
from localgrid.runtime.base import ContainerSpec, StartError

log = logging.getLogger(__name__)
ROOTFS_DEFAULT_MIB = 256
MEMORY_DEFAULT_MIB = 256
# The OCI default spec's PATH, which 0-OS containers get unless their env sets one.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
VOLUME_CACHE_DIR = "/var/cache/modules/storage/volumes"


def _validate(content):
    connections = content.get("network_connection") or []
    if not connections or not connections[0].get("network_id"):
        return "network ID cannot be empty"
    if not content.get("flist"):
        return "missing flist url"
    return None


def _rootfs(capacity):
    size_mib = int(capacity.get("disk_size") or 0)
    if size_mib == 0:
        return "SSD", ROOTFS_DEFAULT_MIB
    return disk_type_name(capacity.get("disk_type")), size_mib


def _open_secrets(ctx, secrets):
    values = {}
    for name, sealed in (secrets or {}).items():
        try:
            values[name] = open_hex(ctx.box, sealed)
        except DecryptError as error:
            raise ProvisionError("failed to decrypt secret env var '%s': %s" % (name, error)) from None
    return values


def _check_volumes(ctx, workload, rid):
    """(volume id, absolute mountpoint) of each mount, once the volume is known to be the user's."""
    mounts = []
    for mount in workload["content"].get("volumes") or []:
        volume_id = mount.get("volume_id") or ""
        if volume_id.startswith("-"):
            volume_id = rid + volume_id
        volume = ctx.state.volume(volume_id)
        if volume is None:
            raise ProvisionError(
                "failed to retrieve the owner of volume %s: open %s/%s: no such file or directory"
                % (volume_id, VOLUME_CACHE_DIR, volume_id))
        if volume["owner_tid"] != str(workload["user"]):
            raise ProvisionError("cannot use volume %s, user %s is not the owner of it" % (volume_id, workload["user"]))
        mounts.append((volume_id, posixpath.normpath("/" + (mount.get("mountpoint") or ""))))
    return mounts


def ula_ipv6(net_id, ipv4):
    """0-OS Convert4to6: md5.New().Sum(netID) *appends* a hash, so the first 5 bytes are the id's own."""
    prefix = net_id.encode()[:5]
    try:
        octets = ipaddress.IPv4Address(ipv4).packed
    except ValueError:
        octets = b"\0\0\0\0"
    text = "fd%x:%x%x:%x%x:%x::%x" % (*prefix, octets[2], octets[3])
    return str(ipaddress.IPv6Address(text))


def _entrypoint(content, flist_entry):
    text = content.get("entrypoint") or flist_entry.get("entrypoint") or ""
    try:
        argv = shlex.split(text)
    except ValueError:
        argv = []
    if not argv:
        raise ProvisionError("error starting container: invalid entrypoint definition '%s'" % text)
    return argv


def _launch(ctx, gwid, run, secrets):
    """Hand the container to the runtime; returns the image hash it runs from ("" when not run)."""
    env = {"PATH": DEFAULT_PATH}
    env.update({str(k): str(v) for k, v in (run["env"] or {}).items()})
    env.update({name: value.decode(errors="replace") for name, value in secrets.items()})
    spec = ContainerSpec(
        node_id=ctx.node_id, gwid=gwid, flist_url=run["flist"], argv=run["argv"], env=env,
        volumes=[tuple(pair) for pair in run["volumes"]], cpu=run["cpu"], memory_mib=run["memory_mib"],
        interactive=run["interactive"], image=run.get("image", ""), recipe=run.get("recipe", ""),
        network=tuple(run.get("network") or ()), logs=list(run.get("logs") or []),
    )
    try:
        return ctx.runtime.start_container(spec, ctx.http)
    except StartError as error:
        raise ProvisionError(error.message) from None


def provision(ctx, workload):
    content = workload["content"]
    gwid = workload["workload_id"]
    rid = gwid.split("-", 1)[0]
    problem = _validate(content)
    if problem:
        raise ProvisionError("container provision schema not valid: %s" % problem)
    capacity = content.get("capacity") or {}
    kind, rootfs_mib = _rootfs(capacity)
    flist_entry = flist.fetch(ctx, content["flist"])
    shortage = storage_shortage(ctx, kind, rootfs_mib / 1024)
    if shortage:
        raise ProvisionError("failed to create read-write subvolume for 0-fs: %s" % shortage)
    secrets = _open_secrets(ctx, content.get("secret_environment"))
    mounts = _check_volumes(ctx, workload, rid)
    connection = content["network_connection"][0]
    net_id = network.network_id(workload["user"], connection["network_id"])
    if ctx.state.network(net_id) is None:
        raise ProvisionError(network.missing_network_error(net_id))
    ipv4 = connection.get("ipaddress") or ""
    if connection.get("public_ip6"):
        ipv6 = public_ipv6(ctx, gwid)
        if ipv6 is None:
            raise ProvisionError("error reading container ipv6: no public ipv6 address on this node")
    else:
        ipv6 = ula_ipv6(net_id, ipv4)
    cpu = int(capacity.get("cpu") or 0) or 1
    memory_mib = int(capacity.get("memory") or 0) or MEMORY_DEFAULT_MIB
    shortage = compute_shortage(ctx, cpu, memory_mib)
    if shortage:
        raise ProvisionError(shortage)
    interactive = bool(content.get("interactive"))
    argv = [] if interactive else _entrypoint(content, flist_entry)
    run = {
        "flist": content["flist"], "argv": argv, "env": content.get("environment") or {},
        "secret_environment": content.get("secret_environment") or {}, "volumes": mounts, "cpu": cpu,
        "memory_mib": memory_mib, "interactive": interactive, "network": [net_id, ipv4, ipv6],
        "recipe": flist_entry.get("image", ""), "logs": content.get("logs") or [],
    }
    run["image"] = _launch(ctx, gwid, run, secrets)
    ctx.state.set_secret_env_digests(gwid, {name: hashlib.sha256(value).hexdigest() for name, value in secrets.items()})
    return Deployment(
        data={"id": gwid, "ipv6": ipv6, "ipv4": ipv4},
        usage={"cru": cpu, "mru": memory_mib / 1024, STORAGE_COUNTER[kind]: rootfs_mib / 1024},
        details={"run": run},
    )


def restore(ctx, cached):
    """Start a deployed container again after a localgrid restart (secrets decrypted anew)."""
    run = (cached["data"].get("details") or {}).get("run")
    if run is None:
        return
    try:
        _launch(ctx, cached["gwid"], run, _open_secrets(ctx, run["secret_environment"]))
    except ProvisionError as error:
        log.warning("container %s could not be started again: %s", cached["gwid"], error.message)


def decommission(ctx, cached):
    ctx.runtime.remove_container(ctx.node_id, cached["gwid"])

