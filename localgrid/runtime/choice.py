"""Which runtime `serve` uses: namespaces when the machine can, else simulated, with the reason."""

from localgrid.runtime.base import Runtime
from localgrid.runtime.probe import missing_requirement

CHOICES = ("namespaces", "simulated")


class RuntimeUnavailable(Exception):
    pass


def resolve(requested):
    """(runtime name, why) for ``--runtime`` (None: the best this machine can do)."""
    if requested == "simulated":
        return "simulated", "chosen with --runtime simulated"
    missing = missing_requirement()
    if missing is None:
        return "namespaces", "root, unshare and /dev/net/tun are available"
    if requested == "namespaces":
        raise RuntimeUnavailable("--runtime namespaces cannot work on this machine: %s" % missing)
    return "simulated", missing


def build(settings):
    if settings.runtime != "namespaces":
        return Runtime(settings.runtime_reason)
    from localgrid.runtime.namespaces import NamespaceRuntime  # starts a monitor thread: only when chosen

    return NamespaceRuntime(settings.runtime_dir, settings.cache_dir, settings.hub_url)
