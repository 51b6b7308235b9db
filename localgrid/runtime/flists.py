"""`python -m localgrid flist build SOURCE NAME`: a flist localgrid's hub serves and its runtime runs.

A localgrid flist is a gzipped tar of a root filesystem (made from a directory, or a rootfs tar
copied as is) plus ``<name>.flist.md5``, written under the hub directory as ``<NAME>.flist``.
"""

import hashlib
import os
import posixpath
import shutil
import subprocess
import tarfile


class FlistError(Exception):
    pass


def hub_path(hub_dir, name):
    clean = posixpath.normpath(name.strip("/"))
    if not name.strip("/") or clean.startswith("..") or clean == ".":
        raise FlistError("flist name %r must be a relative path like user/app" % name)
    if not clean.endswith(".flist"):
        clean += ".flist"
    return clean, os.path.join(hub_dir, *clean.split("/"))


def build(source, name, hub_dir):
    """Write the flist; returns (its path under /hub, size in bytes, md5 hex)."""
    relative, target = hub_path(hub_dir, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temporary = target + ".partial"
    if os.path.isdir(source):
        tar = shutil.which("tar")
        if tar is None:
            raise FlistError("GNU tar is needed to pack a directory (Debian package: tar)")
        done = subprocess.run([tar, "-C", source, "--numeric-owner", "-czf", temporary, "."],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        if done.returncode != 0:
            raise FlistError("cannot pack %s: %s" % (source, done.stderr.decode(errors="replace").strip()))
    elif os.path.isfile(source):
        if not tarfile.is_tarfile(source):
            raise FlistError("%s is neither a directory nor a tar archive of a root filesystem" % source)
        shutil.copyfile(source, temporary)
    else:
        raise FlistError("%s does not exist" % source)
    md5 = hashlib.md5()
    with open(temporary, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            md5.update(chunk)
    os.replace(temporary, target)
    with open(target + ".md5", "w", encoding="ascii") as handle:
        handle.write(md5.hexdigest() + "\n")
    return relative, os.path.getsize(target), md5.hexdigest()
