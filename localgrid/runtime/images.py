"""Root filesystems of flists, unpacked once per content hash into a cache shared by localgrid runs.

A flist of localgrid's hub is a (gzipped) tar of a root filesystem next to ``<name>.flist.md5``,
which 0-OS also fetches first to find a flist in its cache (docs/contract/node.md §3). Unpacking goes
to a temporary directory renamed into place, so parallel nodes never see a half-written image.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import httpx

from localgrid.runtime import recipes
from localgrid.runtime.base import StartError

MD5 = re.compile(r"^[0-9a-f]{32}$")


class ImageCache:
    def __init__(self, cache_dir, hub_base_url, tar_path):
        self.images_dir = os.path.join(cache_dir, "images")
        self.hub_base_url = hub_base_url.rstrip("/") + "/"
        self.tar_path = tar_path

    def rootfs(self, url, http, known="", recipe=""):
        """The unpacked rootfs of a hub flist or of a catalogue flist's built recipe, or None when there
        is none (yet). ``known`` is the hash a previous start used: when still cached, the hub is not asked.
        """
        if recipe:
            return recipes.built(self.images_dir, recipe)
        if MD5.match(known or "") and os.path.isdir(self._image_dir(known)):
            return self._image_dir(known)
        if not url.startswith(self.hub_base_url):
            return None
        expected = self._published_md5(url, http)
        if expected and os.path.isdir(self._image_dir(expected)):
            return self._image_dir(expected)
        os.makedirs(self.images_dir, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.images_dir, prefix=".download-") as work:
            archive = os.path.join(work, "flist")
            digest = self._download(url, http, archive)
            if expected and digest != expected:
                raise StartError("failed to mount flist: md5 of %s is %s, its .md5 says %s" % (url, digest, expected))
            if not os.path.isdir(self._image_dir(digest)):
                self._unpack(url, archive, os.path.join(work, "rootfs"))
                try:
                    os.rename(os.path.join(work, "rootfs"), self._image_dir(digest))
                except OSError:
                    if not os.path.isdir(self._image_dir(digest)):  # else another node unpacked it first
                        raise
        return self._image_dir(digest)

    def _image_dir(self, digest):
        return os.path.join(self.images_dir, digest)

    @staticmethod
    def _published_md5(url, http):
        try:
            response = http.get(url + ".md5")
        except httpx.HTTPError:
            return None
        text = response.text.split()[0].lower() if response.status_code == 200 and response.text.split() else ""
        return text if MD5.match(text) else None

    @staticmethod
    def _download(url, http, path):
        md5 = hashlib.md5()
        try:
            with http.stream("GET", url) as response, open(path, "wb") as out:
                if response.status_code != 200:
                    raise StartError("fail to download flist: %d %s" % (response.status_code, response.reason_phrase))
                for chunk in response.iter_bytes():
                    md5.update(chunk)
                    out.write(chunk)
        except httpx.HTTPError as error:
            raise StartError('fail to download flist: Get "%s": %s' % (url, error)) from None
        return md5.hexdigest()

    def _unpack(self, url, archive, target):
        os.makedirs(target)
        # GNU tar as root keeps owners, modes and device nodes, refuses names with '..', and strips '/'.
        done = subprocess.run(
            [self.tar_path, "-x", "-p", "--numeric-owner", "-f", archive, "-C", target],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        if done.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise StartError("failed to mount flist: %s is not a root filesystem archive (%s)" % (
                url, reason[0] if reason else "tar exit status %d" % done.returncode))
