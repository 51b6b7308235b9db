"""Check an entrypoint inside a root filesystem before starting it, the way runc reports it.

Symlinks are followed relative to the rootfs (an absolute link target means the rootfs' own /),
never into the host's files.
"""

import os

from localgrid.runtime.base import StartError

MAX_LINKS = 40


def resolve(root, path):
    """``path`` inside the rootfs ``root`` as a host path, its symlinks followed within ``root``."""
    todo = [part for part in path.split("/") if part]
    done = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = os.path.join(root, *done, part)
        if os.path.islink(candidate):
            links += 1
            if links > MAX_LINKS:
                return None
            target = os.readlink(candidate)
            if target.startswith("/"):
                done = []
            todo = [piece for piece in target.split("/") if piece] + todo
            continue
        done.append(part)
    return os.path.join(root, *done)


def _executable(root, path):
    resolved = resolve(root, path)
    return resolved is not None and os.path.isfile(resolved), resolved


def check(root, argv, env_path):
    program = argv[0]
    if "/" not in program:
        for directory in (env_path or "").split(":"):
            found, resolved = _executable(root, os.path.join("/", directory, program))
            if found and os.access(resolved, os.X_OK):
                return
        raise StartError('error starting container: exec: "%s": executable file not found in $PATH' % program)
    path = program if program.startswith("/") else "/" + program
    found, resolved = _executable(root, path)
    if not found:
        raise StartError('error starting container: exec: "%s": stat %s: no such file or directory' % (program, path))
    if not os.access(resolved, os.X_OK):
        raise StartError('error starting container: exec: "%s": permission denied' % program)
