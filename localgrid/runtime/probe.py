"""Can this machine run containers in namespaces? The first missing requirement, in words."""

import os
import shutil
import subprocess

TOOLS = ("unshare", "nsenter", "ip", "tar", "busybox", "wireguard-go", "wg")
TOOL_PACKAGES = {"unshare": "util-linux", "nsenter": "util-linux", "ip": "iproute2", "tar": "tar",
                 "busybox": "busybox-static", "wireguard-go": "wireguard-go", "wg": "wireguard-tools"}


def tool_paths():
    return {tool: shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") for tool in TOOLS}


def missing_requirement():
    """None when the namespaces runtime can work here, else why it cannot."""
    if not hasattr(os, "setns"):
        return "Python 3.12 or later is needed (os.setns)"
    if os.geteuid() != 0:
        return "not running as root (mount, PID and network namespaces need root)"
    paths = tool_paths()
    missing = [tool for tool, path in paths.items() if not path]
    if missing:
        return "missing programs: %s (Debian packages: %s)" % (
            ", ".join(missing), ", ".join(sorted({TOOL_PACKAGES[tool] for tool in missing})))
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun does not exist (userspace WireGuard needs TUN)"
    try:
        probe = subprocess.run(
            [paths["unshare"], "--mount", "--uts", "--ipc", "--pid", "--net", "--fork", "true"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return "unshare cannot create namespaces: %s" % error
    if probe.returncode != 0:
        return "unshare cannot create namespaces: %s" % probe.stderr.decode(errors="replace").strip()
    return None
