"""mount(2), which Python's os module does not offer, for the runtime's in-process namespace work."""

import ctypes
import os
import threading

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def mount(source, target, fstype=None, flags=0, data=None):
    def encoded(text):
        return None if text is None else os.fsencode(text)

    if _libc.mount(encoded(source), encoded(target), encoded(fstype), flags, encoded(data)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, "mount %s on %s: %s" % (fstype or source, target, os.strerror(error)))


def in_throwaway_thread(function, name):
    """``function()`` in a thread of its own, which ends with it; its result, or its exception raised here.

    Namespaces (setns, unshare), the root and the working directory belong to a thread: changing them
    there leaves every other thread of localgrid as it was, and what that thread forks inherits them.
    """
    outcome = {}

    def run():
        try:
            outcome["result"] = function()
        except Exception as error:  # pylint: disable=broad-exception-caught  # raised again by the caller
            outcome["error"] = error

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
