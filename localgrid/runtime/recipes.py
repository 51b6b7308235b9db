"""Images localgrid builds from Debian packages for flists of the grid file's catalogue.

The hub's real flists cannot be fetched offline, so a catalogue entry may name a recipe
(``image: debian-ssh``): a Debian root filesystem made by mmdebstrap (or debootstrap) from the
Debian mirror, plus the files that make it behave like the flist. Built once per recipe content
into the image cache; ``python -m localgrid image build NAME`` builds it with progress shown.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from localgrid.runtime.base import StartError

NOT_RUNNABLE = "not runnable on localgrid (no image stands in for it): deployed, not run"
MIRROR = os.environ.get("LOCALGRID_DEBIAN_MIRROR", "http://deb.debian.org/debian")

# Stands in for the seed flist's /sbin/my_init (zaibon-ubuntu-ssh): root may log in with the key given
# in the `pub_key` env var, and sshd runs in the foreground as the container's main process.
SSH_INIT = """#!/bin/sh
set -e
if [ -n "$pub_key" ]; then
    mkdir -p /root/.ssh
    chmod 700 /root/.ssh
    printf '%s\\n' "$pub_key" > /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
fi
mkdir -p /run/sshd
ssh-keygen -A >/dev/null
exec /usr/sbin/sshd -D -e
"""


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    suite: str
    packages: tuple
    files: tuple  # (path, mode, text)

    @property
    def digest(self):
        return hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()[:16]


RECIPES = {
    "debian-ssh": Recipe(
        name="debian-ssh", suite="bookworm", packages=("openssh-server", "python3", "iproute2"),
        files=(("sbin/my_init", 0o755, SSH_INIT),),
    ),
}
_building = threading.Lock()


def image_dir(images_dir, recipe):
    return os.path.join(images_dir, "recipe-%s-%s" % (recipe.name, recipe.digest))


def built(images_dir, name):
    """The rootfs of recipe ``name`` when it is in the cache, else None."""
    path = image_dir(images_dir, RECIPES[name])
    return path if os.path.isdir(path) else None


def catalogue(flists, images_dir):
    """{url: what the namespaces runtime does with it} for each flist of the grid file's catalogue. A flist
    without a recipe is not runnable here (localgrid cannot fetch hub.grid.tf): deployed, never run."""
    found = {}
    for entry in flists:
        url, name = (entry, "") if isinstance(entry, str) else (entry["url"], entry.get("image") or "")
        if name not in RECIPES:
            found[url] = NOT_RUNNABLE
        elif built(images_dir, name):
            found[url] = "runs image %s" % name
        else:
            found[url] = "image %s not built: deployed, not run until `python -m localgrid image build %s`" % (
                name, name)
    return found


def _builder(target, recipe):
    excludes = "path-exclude=/usr/share/{doc,man,info,locale}/*"
    if shutil.which("mmdebstrap"):
        return ["mmdebstrap", "--variant=essential", "--include=" + ",".join(recipe.packages),
                "--dpkgopt=" + excludes, recipe.suite, target, MIRROR]
    if shutil.which("debootstrap"):
        return ["debootstrap", "--variant=minbase", "--include=" + ",".join(recipe.packages), recipe.suite, target,
                MIRROR]
    raise StartError("building image %s needs mmdebstrap or debootstrap (apt-get install mmdebstrap)" % recipe.name)


def build(images_dir, name, progress):
    """Build (once) the rootfs of recipe ``name``; ``progress`` gets each line of the build's output."""
    recipe = RECIPES[name]
    with _building:
        target = image_dir(images_dir, recipe)
        if os.path.isdir(target):
            return target
        os.makedirs(images_dir, exist_ok=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(dir=images_dir, prefix=".build-") as work:
            rootfs = os.path.join(work, "rootfs")
            process = subprocess.Popen(_builder(rootfs, recipe), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, errors="replace")
            for line in process.stdout:
                progress(line.rstrip())
            if process.wait() != 0:
                raise StartError("building image %s failed (exit status %d, output above)" % (name, process.returncode))
            for path, mode, text in recipe.files:
                full = os.path.join(rootfs, path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.chmod(full, mode)
            os.rename(rootfs, target)
        progress("image %s built in %.0f s: %s" % (name, time.monotonic() - started, target))
        return target
