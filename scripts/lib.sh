# Shared shell helpers for the repository scripts (sourced, not run).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TFGRID_VENV:-$REPO_ROOT/.venv}"
VENV_219="${TFGRID_VENV_219:-$REPO_ROOT/.venv-2.19}"
VENV_MOLECULE="${TFGRID_VENV_MOLECULE:-$REPO_ROOT/.venv-molecule}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

# pyenv's interpreter of a given minor version (e.g. 3.13), or one on PATH.
find_python() {
    local minor="$1" root candidate
    root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    for candidate in "$root"/versions/"$minor".*/bin/python"$minor"; do
        [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
    command -v "python$minor" || die "Python $minor not found (install it with pyenv)"
}

# Copy the files git sees (tracked and untracked, minus .gitignore'd) into DEST/ansible_collections/threefold/grid.
stage_tree() {
    local dest="$1/ansible_collections/threefold/grid"
    mkdir -p "$dest"
    (cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z |
        tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$dest")
    echo "$dest"
}

# ansible-test fetches a get-pip script from a host that is unreachable here; it looks in its cache first.
install_get_pip_standin() {
    local cache="$HOME/.ansible/test/cache" name
    mkdir -p "$cache"
    for name in get_pip_25_2.py get_pip_24_2.py; do
        cmp -s "$REPO_ROOT/scripts/get_pip_standin.py" "$cache/$name" 2>/dev/null && continue
        # Only our own stand-in is ever replaced: a real get-pip script placed there by the user stays.
        if [ ! -f "$cache/$name" ] || grep -q "Offline stand-in" "$cache/$name"; then
            cp "$REPO_ROOT/scripts/get_pip_standin.py" "$cache/$name"
        fi
    done
}

# Build the collection exactly as users get it (the files git sees, galaxy.yml's build_ignore applied)
# and install it under DEST/collections; prints the installed collection's path.
install_collection() {
    local dest="$1" staged
    staged="$(stage_tree "$dest/stage")"
    "$VENV/bin/ansible-galaxy" collection build --force --output-path "$dest/dist" "$staged" >/dev/null
    "$VENV/bin/ansible-galaxy" collection install --force -p "$dest/collections" "$dest"/dist/threefold-grid-*.tar.gz >/dev/null
    echo "$dest/collections/ansible_collections/threefold/grid"
}

# ansible-test's shellcheck sanity test needs the shellcheck program (a Debian package); without it the
# test is skipped, so install it when this machine allows, and say so loudly when it does not.
ensure_shellcheck() {
    command -v shellcheck >/dev/null && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if command -v apt-get >/dev/null; then
        log "Installing shellcheck (Debian package) for the sanity tests"
        $sudo apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
            { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq shellcheck >/dev/null 2>&1; } || true
    fi
    command -v shellcheck >/dev/null || log "WARNING: shellcheck is not installed; ansible-test will skip its shellcheck sanity test"
}

# localgrid's namespaces runtime needs userspace WireGuard (the kernel module is not assumed) and its tests a
# static busybox for their tiny root filesystem: Debian packages, installed when this machine allows; else
# `serve` says why it simulates and the runtime tests say what is missing.
ensure_runtime_packages() {
    local missing=() program package
    for program in wireguard-go:wireguard-go wg:wireguard-tools wg-quick:wireguard-tools busybox:busybox-static \
        mmdebstrap:mmdebstrap ssh:openssh-client redis-server:redis-server; do
        package="${program#*:}"
        command -v "${program%%:*}" >/dev/null || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        log "WARNING: not installed: ${missing[*]} (localgrid's namespaces runtime needs them; it will simulate)"
        return 0
    fi
    log "Installing ${missing[*]} (Debian packages) for localgrid's namespaces runtime"
    # The tests start their own redis-server: keep the package from starting a system one (policy-rc.d).
    local policy=/usr/sbin/policy-rc.d own_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } ||
        log "WARNING: could not install ${missing[*]}"
    [ -z "$own_policy" ] || rm -f "$policy"
}

# The image localgrid runs for the seed flist (Debian with sshd and Python, built once with mmdebstrap, about
# 2 minutes, cached in ~/.cache/localgrid); only where localgrid can run containers (root).
ensure_seed_image() {
    [ "$(id -u)" -eq 0 ] || return 0
    PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" -m localgrid image build debian-ssh
}
