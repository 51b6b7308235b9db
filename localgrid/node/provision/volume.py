"""Volume: a btrfs subvolume named after the workload on a pool of the requested type."""

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
    return Deployment(
        data={"volume_id": gwid},
        usage={STORAGE_COUNTER[kind]: size},
        details={"volume_id": gwid},
    )


def decommission(ctx, cached):
    ctx.state.remove_volume(cached["data"]["details"]["volume_id"])
