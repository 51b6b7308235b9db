"""Volume: a btrfs subvolume named after the workload on a pool of the requested type (a directory
of the runtime, bind-mounted into the containers that use it)."""

from localgrid.node.provision.base import Deployment, ProvisionError, STORAGE_COUNTER, disk_type_name, storage_shortage


def provision(ctx, workload):
    gwid = workload["workload_id"]
    content = workload["content"]
    kind = disk_type_name(content.get("type"), "volume")
    size = int(content.get("size") or 0)
    shortage = storage_shortage(ctx, kind, size)
    if shortage:
        raise ProvisionError(shortage)
    ctx.state.add_volume(gwid, workload["user"], size, kind)
    ctx.runtime.create_volume(ctx.node_id, gwid)
    return Deployment(
        data={"volume_id": gwid},
        usage={STORAGE_COUNTER[kind]: size},
        details={"volume_id": gwid},
    )


def decommission(ctx, cached):
    volume_id = cached["data"]["details"]["volume_id"]
    ctx.state.remove_volume(volume_id)
    ctx.runtime.remove_volume(ctx.node_id, volume_id)
