"""Paths inside a container's root filesystem: symlinks are followed within the root, never into the host's
files (an entrypoint check or a volume mountpoint of an image can only name the image's own files)."""

import os

from localgrid.runtime.entrypoint import resolve


def test_symlinks_are_followed_within_the_root(tmp_path):
    root = tmp_path / "rootfs"
    (root / "srv").mkdir(parents=True)
    os.symlink("/etc", root / "data")  # absolute: the image's own /etc
    os.symlink("../../../..", root / "srv" / "up")  # climbs no higher than the root
    os.symlink("loop", root / "loop")
    assert resolve(str(root), "/data/volume") == str(root / "etc" / "volume")
    assert resolve(str(root), "/srv/up/var") == str(root / "var")
    assert resolve(str(root), "/loop/x") is None
